"""Search by meaning (issue 15): passage vectors kept per text hash and model, and each episode's vector state.

`passage_vectors` holds one vector per embedded text (a passage with the next one) and
model, so a reindex or an index swap recomputes nothing and an edit re-embeds only the
passages whose text changed. `episode_vectors` says, per episode, for which public text
and model the vectors were looked for, how many are missing, and the last error. No rows
are written here: the embed stage finds every episode with public text and no current
row, so an existing archive gets its vectors on the next `podarchive ingest`.

Revision ID: 0010
Revises: 0009
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0010"
down_revision: str | Sequence[str] | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Create passage_vectors and episode_vectors."""
    op.create_table(
        "passage_vectors",
        sa.Column("text_hash", sa.String(length=64), nullable=False),
        sa.Column("model_id", sa.String(length=255), nullable=False),
        sa.Column("dimensions", sa.Integer(), nullable=False),
        sa.Column("vector", sa.LargeBinary(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("text_hash"),
    )
    op.create_index("ix_passage_vectors_model_id", "passage_vectors", ["model_id"])
    op.create_table(
        "episode_vectors",
        sa.Column("episode_id", sa.Integer(), nullable=False),
        sa.Column("model_id", sa.String(length=255), nullable=False),
        sa.Column("transcript_id", sa.Integer(), nullable=False),
        sa.Column("revision_id", sa.Integer(), nullable=True),
        sa.Column("passages", sa.Integer(), nullable=False),
        sa.Column("missing", sa.Integer(), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("next_try_at", sa.DateTime(), nullable=True),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(["episode_id"], ["episodes.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("episode_id"),
    )


def downgrade() -> None:
    """Drop both tables; the search index keeps working by words (its documents carry no vectors after a reindex)."""
    op.drop_table("episode_vectors")
    op.drop_index("ix_passage_vectors_model_id", table_name="passage_vectors")
    op.drop_table("passage_vectors")
