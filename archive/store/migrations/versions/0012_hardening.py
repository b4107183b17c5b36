"""Hardening round two (issue 19): log-in token buckets kept in the database.

Failed log-ins are counted per account and client together, and per client, in
`login_buckets`, so that every site worker (gunicorn runs several) and a restarted site
see the same counts. Suggestion conflicts need no change: a suggestion already keeps
the text the reader saw (`suggestions.original`).

Revision ID: 0012
Revises: 0011
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0012"
down_revision: str | Sequence[str] | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """The login_buckets table."""
    op.create_table(
        "login_buckets",
        sa.Column("key", sa.String(length=64), nullable=False),
        sa.Column("tokens", sa.Float(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.Column("full_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("key"),
    )
    op.create_index("ix_login_buckets_full_at", "login_buckets", ["full_at"])


def downgrade() -> None:
    """Drop it: an older version keeps its limits in memory."""
    op.drop_index("ix_login_buckets_full_at", table_name="login_buckets")
    op.drop_table("login_buckets")
