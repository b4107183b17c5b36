"""Search (issue 5): the episode index gains guests; queue index work so indexed episodes get them.

No table changes: guests come from episode_people and published_speakers. Episodes
indexed before this revision have documents without guests; an "upsert" in the
outbox for each of them makes the next index run rebuild those documents, with no
operator step (a `podarchive reindex` does the same at once).

Revision ID: 0009
Revises: 0008
"""

from collections.abc import Sequence
from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

revision: str = "0009"
down_revision: str | Sequence[str] | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Queue an index upsert for every episode that has a transcript or credited people."""
    # Naive UTC, as archive.schema.UTCDateTime stores it.
    now = datetime.now(UTC).replace(tzinfo=None)
    op.get_bind().execute(
        sa.text(
            "INSERT INTO index_outbox (episode_id, op, created_at, attempts) "
            "SELECT e.id, 'upsert', :now, 0 FROM episodes e "
            "WHERE EXISTS (SELECT 1 FROM transcripts t WHERE t.episode_id = e.id) "
            "OR EXISTS (SELECT 1 FROM episode_people p WHERE p.episode_id = e.id)"
        ).bindparams(sa.bindparam("now", now, type_=sa.DateTime())),
    )


def downgrade() -> None:
    """Nothing to undo: queued index work is harmless to an older version."""
