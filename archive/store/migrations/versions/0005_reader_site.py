"""Schema changes for the reader site (issue 6).

Revision ID: 0005
Revises: 0004
"""

from collections.abc import Sequence

import sqlalchemy as sa  # noqa: F401
from alembic import op  # noqa: F401

revision: str = "0005"
down_revision: str | Sequence[str] | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Upgrade schema: podcast:person credits, for "every interview with X"."""
    op.create_table(
        "episode_people",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("episode_id", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=255), nullable=False),
        sa.Column("role", sa.String(length=64), nullable=True),
        sa.Column("href", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(["episode_id"], ["episodes.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_episode_people_episode_id", "episode_people", ["episode_id"])
    op.create_index("ix_episode_people_name", "episode_people", ["name"])
    op.create_index("ix_segments_speaker", "segments", ["speaker"])


def downgrade() -> None:
    """Downgrade schema."""
    op.drop_index("ix_segments_speaker", table_name="segments")
    op.drop_index("ix_episode_people_name", table_name="episode_people")
    op.drop_index("ix_episode_people_episode_id", table_name="episode_people")
    op.drop_table("episode_people")
