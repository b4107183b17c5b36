"""Schema changes for the feed watcher (issue 3).

Feeds get a status ("active", or "gone" after HTTP 410: never polled again).
Episodes get an operator flag and the enclosure URL a feed switched to under a
guid we already know (kept aside for a person to decide, never merged silently).

Revision ID: 0002
Revises: 0001
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | Sequence[str] | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Upgrade schema."""
    with op.batch_alter_table("feeds", schema=None) as batch_op:
        batch_op.add_column(sa.Column("status", sa.String(length=16), nullable=False, server_default="active"))
    with op.batch_alter_table("episodes", schema=None) as batch_op:
        batch_op.add_column(sa.Column("flag", sa.Text(), nullable=True))
        batch_op.add_column(sa.Column("enclosure_conflict_url", sa.Text(), nullable=True))


def downgrade() -> None:
    """Downgrade schema."""
    with op.batch_alter_table("episodes", schema=None) as batch_op:
        batch_op.drop_column("enclosure_conflict_url")
        batch_op.drop_column("flag")
    with op.batch_alter_table("feeds", schema=None) as batch_op:
        batch_op.drop_column("status")
