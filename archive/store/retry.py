"""Retry timing: the store's clock, and exponential backoff with jitter for failed items."""

from __future__ import annotations

import random
from datetime import datetime, timedelta

from archive.store.schema import utcnow

BACKOFF_BASE = timedelta(minutes=5)
BACKOFF_CAP = timedelta(hours=12)


def backoff(attempts: int, now: datetime, retry_after: float | None = None) -> datetime:
    """When to try again after `attempts` failures: exponential with jitter, capped."""
    if retry_after is not None and retry_after > 0:
        return now + min(timedelta(seconds=retry_after), BACKOFF_CAP)
    # Jitter spreads retries of feeds that failed together; the cap holds after it.
    factor: int = 2 ** min(max(attempts - 1, 0), 20)  # a non-negative power of 2: an int
    delay = BACKOFF_BASE * factor * random.uniform(0.8, 1.2)
    return now + min(delay, BACKOFF_CAP)


def now() -> datetime:
    """The store's clock."""
    return utcnow()
