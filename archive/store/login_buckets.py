"""Log-in token buckets in the database: every site worker and every restart sees the same counts."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, insert, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from archive.store.schema import LoginBucket


@dataclass(frozen=True)
class Bucket:
    """`burst` tries at once, refilled at `rate` per second, for whatever `name` counts."""

    name: str
    burst: int
    rate: float

    @property
    def key(self) -> str:
        """The row's key: a digest, so no email or address is stored."""
        return hashlib.sha256(self.name.encode()).hexdigest()

    def full_at(self, tokens: float, now: datetime) -> datetime:
        """When a bucket holding `tokens` is full again."""
        return now + timedelta(seconds=max(0.0, self.burst - tokens) / self.rate)


def take_tokens(session: Session, buckets: list[Bucket], now: datetime) -> float:
    """Spend one token of each bucket, all or none: 0.0 when allowed, else seconds until each has one."""
    # A write first, so the transaction holds the write lock (SQLite) before it reads; rows of
    # full buckets mean nothing and go.
    session.execute(delete(LoginBucket).where(LoginBucket.full_at <= now))
    for bucket in sorted(buckets, key=lambda b: b.key):  # one order for every worker: no deadlock
        _insert_if_absent(session, bucket, now)
    rows = {
        row.key: row
        for row in session.scalars(
            select(LoginBucket).where(LoginBucket.key.in_([b.key for b in buckets])).with_for_update()
        )
    }
    levels = {}
    for bucket in buckets:
        row = rows[bucket.key]
        elapsed = max(0.0, (now - row.updated_at).total_seconds())
        levels[bucket.key] = min(float(bucket.burst), row.tokens + elapsed * bucket.rate)
    wait = max(((1 - levels[b.key]) / b.rate for b in buckets if levels[b.key] < 1), default=0.0)
    for bucket in buckets:
        tokens = levels[bucket.key] - (1 if wait == 0.0 else 0)
        row = rows[bucket.key]
        row.tokens, row.updated_at, row.full_at = tokens, now, bucket.full_at(tokens, now)
    session.flush()
    return wait


def return_token(session: Session, bucket: Bucket, now: datetime) -> None:
    """Give back the token a try took (it succeeded, so it counts for nothing)."""
    row = session.get(LoginBucket, bucket.key, with_for_update=True)
    if row is None:
        return
    elapsed = max(0.0, (now - row.updated_at).total_seconds())
    tokens = min(float(bucket.burst), row.tokens + elapsed * bucket.rate + 1)
    row.tokens, row.updated_at, row.full_at = tokens, now, bucket.full_at(tokens, now)


def empty_bucket(session: Session, bucket: Bucket) -> None:
    """Forget what the bucket counted: it is full again."""
    session.execute(delete(LoginBucket).where(LoginBucket.key == bucket.key))


def _insert_if_absent(session: Session, bucket: Bucket, now: datetime) -> None:
    values = {"key": bucket.key, "tokens": float(bucket.burst), "updated_at": now, "full_at": now}
    dialect = session.get_bind().dialect.name
    # The dialects' insert constructs are imported here: the PostgreSQL dialect (with asyncpg's
    # and asyncio's modules) is some 7% of a command's start-up, and most commands never log in.
    if dialect == "sqlite":
        from sqlalchemy.dialects import sqlite

        session.execute(sqlite.insert(LoginBucket).values(**values).on_conflict_do_nothing())
    elif dialect == "postgresql":
        from sqlalchemy.dialects import postgresql

        session.execute(postgresql.insert(LoginBucket).values(**values).on_conflict_do_nothing())
    else:
        try:
            with session.begin_nested():
                session.execute(insert(LoginBucket).values(**values))
        except IntegrityError:
            pass  # another worker inserted it first
