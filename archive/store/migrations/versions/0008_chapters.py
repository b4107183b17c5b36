"""Chapters (issue 6): the episode's podcast:chapters URL and the fetched chapters.

Revision ID: 0008
Revises: 0007
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008"
down_revision: str | Sequence[str] | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Upgrade schema."""
    # Plain ADD COLUMNs: batch mode on SQLite does not copy the table for these, so the
    # ON DELETE CASCADE children of episodes are never touched.
    with op.batch_alter_table("episodes") as batch:
        batch.add_column(sa.Column("chapters_url", sa.Text(), nullable=True))
        batch.add_column(sa.Column("chapters_fetched_url", sa.Text(), nullable=True))
        batch.add_column(sa.Column("chapters_attempts", sa.Integer(), server_default="0", nullable=False))
        batch.add_column(sa.Column("chapters_error", sa.Text(), nullable=True))
        batch.add_column(sa.Column("chapters_next_try_at", sa.DateTime(), nullable=True))
    op.create_table(
        "episode_chapters",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("episode_id", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("start", sa.Float(), nullable=False),
        sa.Column("title", sa.String(length=255), nullable=False),
        sa.Column("url", sa.Text(), nullable=True),
        sa.Column("img", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(["episode_id"], ["episodes.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_episode_chapters_episode_id", "episode_chapters", ["episode_id"])


def downgrade() -> None:
    """Downgrade schema."""
    op.drop_index("ix_episode_chapters_episode_id", table_name="episode_chapters")
    op.drop_table("episode_chapters")
    # Never the batch copy here: on SQLite, dropping the old episodes table cascades
    # deletes into transcripts, audio and revisions. DROP COLUMN needs SQLite 3.35+.
    with op.batch_alter_table("episodes", recreate="never") as batch:
        batch.drop_column("chapters_next_try_at")
        batch.drop_column("chapters_error")
        batch.drop_column("chapters_attempts")
        batch.drop_column("chapters_fetched_url")
        batch.drop_column("chapters_url")
