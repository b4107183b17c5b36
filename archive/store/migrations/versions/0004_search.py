"""Schema changes for the search (issue 5).

Feeds get a switch saying whether their transcripts are public: until the editor
workflow exists, a show either publishes every transcript as soon as it is made
(the default) or keeps them all out of the public search index.

Revision ID: 0004
Revises: 0003
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | Sequence[str] | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Upgrade schema."""
    with op.batch_alter_table("feeds", schema=None) as batch_op:
        batch_op.add_column(sa.Column("publish_transcripts", sa.Boolean(), nullable=False, server_default=sa.true()))


def downgrade() -> None:
    """Downgrade schema."""
    with op.batch_alter_table("feeds", schema=None) as batch_op:
        batch_op.drop_column("publish_transcripts")
