"""What every stage shares: its report, its lock, and recording an episode's failure."""

from __future__ import annotations

import fcntl
import logging
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

from archive import store
from archive.context import Archive
from archive.store.schema import Episode


@dataclass
class StageReport:
    """What one stage did in one run."""

    stage: str
    done: int = 0
    failed: int = 0
    skipped: str | None = None
    notes: list[str] = field(default_factory=list)

    def summary(self) -> str:
        """One short phrase for the run's summary line."""
        if self.skipped:
            return f"{self.stage}: skipped ({self.skipped})"
        text = f"{self.stage}: {self.done} ok"
        if self.failed:
            text += f", {self.failed} failed"
        return text


@contextmanager
def stage_lock(archive: Archive, stage: str, wait: bool = False, timeout: float | None = None) -> Iterator[bool]:
    """A per-stage file lock: yields False when another run holds it (waits for it with wait, up to timeout s)."""
    lock_dir = archive.settings.data_dir / "locks"
    lock_dir.mkdir(parents=True, exist_ok=True)
    with open(lock_dir / f"{stage}.lock", "a") as fh:
        deadline = time.monotonic() + (timeout or 0.0)
        while True:
            try:
                fcntl.flock(fh, fcntl.LOCK_EX | (0 if wait and timeout is None else fcntl.LOCK_NB))
                break
            except BlockingIOError:
                if not wait or time.monotonic() >= deadline:
                    yield False
                    return
                time.sleep(0.05)
        try:
            yield True
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


def episode_failed(archive: Archive, episode_id: int, stage: str, message: str) -> None:
    logging.getLogger("podarchive.ingest").warning("%s failed episode=%s error=%s", stage, episode_id, message)
    with archive.db.session() as s:
        episode = s.get(Episode, episode_id)
        if episode is not None:
            store.record_episode_error(s, episode, stage, message, store.now())
