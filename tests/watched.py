"""A real transcription executor, watched: what its workers report and return, with the time the test heard it.

Not a fake: every call goes to the real executor; the test only looks (and may act, e.g.
kill a worker, from `on_report`).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from archive.ingest.executor import Finished, JobProgress


class Watched:
    """Delegates to `inner`; records progress reports (time heard, key, done, total) and finished jobs."""

    def __init__(self, inner: Any, on_report: Callable[[Watched, int, float, float], None] | None = None) -> None:
        self.inner = inner
        self.on_report = on_report
        self.reports: list[tuple[float, int, float, float]] = []
        self.finished: list[Finished] = []
        # Key -> when collect() handed the job back (a failed job has no worker times of its own).
        self.finished_at: dict[int, float] = {}

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)

    def collect(self, wait: float, progress: JobProgress | None) -> list[Finished]:
        def heard(key: int, done: float, total: float) -> None:
            self.reports.append((time.time(), key, done, total))
            if self.on_report is not None:
                self.on_report(self, key, done, total)
            if progress is not None:
                progress(key, done, total)

        out: list[Finished] = self.inner.collect(wait, heard)
        at = time.time()
        self.finished += out
        self.finished_at.update((f.key, at) for f in out)
        return out

    def started(self) -> list[int]:
        """Keys of the jobs that reported their start, in the order heard."""
        seen: list[int] = []
        for _, key, done, _ in self.reports:
            if done == 0.0 and key not in seen:
                seen.append(key)
        return seen
