"""Speaker turns (issue 16): the diarize step's state per transcript, episode voices, show voices, the count hint.

Revision ID: 0011
Revises: 0010
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0011"
down_revision: str | Sequence[str] | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """The columns and the two voice tables."""
    # Plain ADD COLUMNs: batch mode on SQLite does not copy these tables for them, so the
    # ON DELETE CASCADE children of feeds and transcripts are never touched.
    with op.batch_alter_table("feeds") as batch:
        batch.add_column(sa.Column("speakers", sa.Integer(), nullable=True))
    with op.batch_alter_table("transcripts") as batch:
        batch.add_column(sa.Column("speakers_status", sa.String(length=16), nullable=True))
        batch.add_column(sa.Column("speakers_model", sa.String(length=64), nullable=True))
        batch.add_column(sa.Column("speakers_error", sa.Text(), nullable=True))
        batch.add_column(sa.Column("speakers_attempts", sa.Integer(), server_default="0", nullable=False))
        batch.add_column(sa.Column("speakers_next_try_at", sa.DateTime(), nullable=True))
    op.create_table(
        "show_voices",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("feed_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=255), nullable=False),
        sa.Column("model", sa.String(length=64), nullable=False),
        sa.Column("vector", sa.LargeBinary(), nullable=False),
        sa.Column("seconds", sa.Float(), nullable=False),
        sa.Column("source_episode_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(["feed_id"], ["feeds.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["source_episode_id"], ["episodes.id"], ondelete="SET NULL"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("feed_id", "name", "model"),
    )
    op.create_index("ix_show_voices_feed_id", "show_voices", ["feed_id"])
    op.create_table(
        "episode_voices",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("transcript_id", sa.Integer(), nullable=False),
        sa.Column("label", sa.String(length=32), nullable=False),
        sa.Column("model", sa.String(length=64), nullable=False),
        sa.Column("vector", sa.LargeBinary(), nullable=False),
        sa.Column("seconds", sa.Float(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=True),
        sa.Column("name", sa.String(length=255), nullable=True),
        sa.Column("similarity", sa.Float(), nullable=True),
        sa.Column("show_voice_id", sa.Integer(), nullable=True),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(["transcript_id"], ["transcripts.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["show_voice_id"], ["show_voices.id"], ondelete="SET NULL"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("transcript_id", "label"),
    )
    op.create_index("ix_episode_voices_transcript_id", "episode_voices", ["transcript_id"])
    op.create_index("ix_episode_voices_show_voice_id", "episode_voices", ["show_voice_id"])


def downgrade() -> None:
    """Drops the voice tables and columns: voice prints and diarization states are lost, labels stay in the text."""
    op.drop_index("ix_episode_voices_show_voice_id", table_name="episode_voices")
    op.drop_index("ix_episode_voices_transcript_id", table_name="episode_voices")
    op.drop_table("episode_voices")
    op.drop_index("ix_show_voices_feed_id", table_name="show_voices")
    op.drop_table("show_voices")
    # Never the batch copy here: on SQLite, dropping the old tables cascades deletes into
    # episodes, segments and revisions. DROP COLUMN needs SQLite 3.35+.
    with op.batch_alter_table("transcripts", recreate="never") as batch:
        batch.drop_column("speakers_next_try_at")
        batch.drop_column("speakers_attempts")
        batch.drop_column("speakers_error")
        batch.drop_column("speakers_model")
        batch.drop_column("speakers_status")
    with op.batch_alter_table("feeds", recreate="never") as batch:
        batch.drop_column("speakers")
