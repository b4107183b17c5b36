"""The search outbox: index work queued in the database, in the same transaction as the change it mirrors.

Database commits never wait on Meilisearch; the index stage drains this queue.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from archive.store.errors import StoreError
from archive.store.retry import backoff
from archive.store.schema import Episode, Feed, IndexOutbox


def pending_index_work(session: Session, now: datetime, limit: int | None = None) -> dict[int, list[IndexOutbox]]:
    """Outbox rows ready to apply, grouped by episode (oldest episode first)."""
    rows = session.scalars(
        select(IndexOutbox)
        .where((IndexOutbox.next_try_at.is_(None)) | (IndexOutbox.next_try_at <= now))
        .order_by(IndexOutbox.id)
    )
    grouped: dict[int, list[IndexOutbox]] = {}
    for row in rows:
        if row.episode_id not in grouped and limit is not None and len(grouped) >= limit:
            continue
        grouped.setdefault(row.episode_id, []).append(row)
    return grouped


def episode_index_work(session: Session, episode_ids: list[int]) -> dict[int, list[IndexOutbox]]:
    """Every outbox row of these episodes, retries not yet due included, grouped by episode."""
    grouped: dict[int, list[IndexOutbox]] = {}
    rows = session.scalars(select(IndexOutbox).where(IndexOutbox.episode_id.in_(episode_ids)).order_by(IndexOutbox.id))
    for row in rows:
        grouped.setdefault(row.episode_id, []).append(row)
    return grouped


def complete_index_work(session: Session, rows: list[IndexOutbox]) -> None:
    """The index now mirrors these changes."""
    session.execute(delete(IndexOutbox).where(IndexOutbox.id.in_([r.id for r in rows])))


def fail_index_work(session: Session, rows: list[IndexOutbox], message: str, now: datetime) -> None:
    """Keep the work, say why, retry later."""
    for row in rows:
        row.attempts += 1
        row.last_error = message[:2000]
        row.next_try_at = backoff(row.attempts, now) if row.attempts > 1 else now + timedelta(seconds=30)


def outbox_size(session: Session) -> int:
    """Index operations not yet applied."""
    return int(session.scalar(select(func.count(IndexOutbox.id))) or 0)


def set_feed_publishing(session: Session, feed_id: int, publish: bool) -> int:
    """Publish or withdraw a show's machine transcripts; queues index work for each episode, returns how many."""
    feed = session.get(Feed, feed_id)
    if feed is None:
        raise StoreError(f"no feed {feed_id}")
    if feed.publish_transcripts == publish:
        return 0
    feed.publish_transcripts = publish
    return queue_feed_episodes(session, feed.id)


def queue_episode(session: Session, episode_id: int) -> None:
    """Queue index work for one episode (its documents are rebuilt from the database)."""
    session.add(IndexOutbox(episode_id=episode_id, op="upsert"))
    session.flush()


def queue_feed_episodes(session: Session, feed_id: int) -> int:
    """Queue index work for every episode of a show; returns how many."""
    ids = list(session.scalars(select(Episode.id).where(Episode.feed_id == feed_id)))
    session.add_all(IndexOutbox(episode_id=eid, op="upsert") for eid in ids)
    session.flush()
    return len(ids)


def all_episode_ids(session: Session) -> list[int]:
    """Every episode id, for a full reindex."""
    return list(session.scalars(select(Episode.id).order_by(Episode.id)))
