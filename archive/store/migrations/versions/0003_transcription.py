"""Schema changes for the transcription (issue 4).

Transcripts record how many windows were re-decoded as suspected hallucinations,
the vocabulary prompt given to the model and, for publisher transcripts, the URL;
segments record what looked wrong (flags) and whether their window was re-run.
Feeds get a vocabulary (feed_terms) and a switch to prefer ASR over publisher
transcripts; episodes keep the podcast:transcript links their feed entry offers.

Revision ID: 0003
Revises: 0002
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | Sequence[str] | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Upgrade schema."""
    with op.batch_alter_table("transcripts", schema=None) as batch_op:
        batch_op.add_column(sa.Column("reruns", sa.Integer(), nullable=False, server_default="0"))
        batch_op.add_column(sa.Column("prompt", sa.Text(), nullable=True))
        batch_op.add_column(sa.Column("source_url", sa.Text(), nullable=True))
    with op.batch_alter_table("segments", schema=None) as batch_op:
        batch_op.add_column(sa.Column("flags", sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column("rerun", sa.Boolean(), nullable=False, server_default=sa.false()))
    with op.batch_alter_table("feeds", schema=None) as batch_op:
        batch_op.add_column(sa.Column("prefer_asr", sa.Boolean(), nullable=False, server_default=sa.false()))
    op.create_table(
        "feed_terms",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("feed_id", sa.Integer(), sa.ForeignKey("feeds.id", ondelete="CASCADE"), nullable=False),
        sa.Column("term", sa.String(length=255), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.UniqueConstraint("feed_id", "term"),
    )
    op.create_table(
        "episode_transcript_links",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("episode_id", sa.Integer(), sa.ForeignKey("episodes.id", ondelete="CASCADE"), nullable=False),
        sa.Column("url", sa.Text(), nullable=False),
        sa.Column("type", sa.String(length=64), nullable=False),
        sa.Column("language", sa.String(length=16), nullable=True),
        sa.Column("rel", sa.String(length=32), nullable=True),
    )
    op.create_index("ix_episode_transcript_links_episode_id", "episode_transcript_links", ["episode_id"])


def downgrade() -> None:
    """Downgrade schema."""
    op.drop_index("ix_episode_transcript_links_episode_id", table_name="episode_transcript_links")
    op.drop_table("episode_transcript_links")
    op.drop_table("feed_terms")
    with op.batch_alter_table("feeds", schema=None) as batch_op:
        batch_op.drop_column("prefer_asr")
    with op.batch_alter_table("segments", schema=None) as batch_op:
        batch_op.drop_column("rerun")
        batch_op.drop_column("flags")
    with op.batch_alter_table("transcripts", schema=None) as batch_op:
        batch_op.drop_column("source_url")
        batch_op.drop_column("prompt")
        batch_op.drop_column("reruns")
