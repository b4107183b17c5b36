"""A tqdm bar per episode on a terminal: audio seconds done / total and speed as x real time."""

from __future__ import annotations

import io
import os
import sys
import time
from typing import IO, Any

from tqdm import tqdm


class EpisodeProgress:
    """A progress callback (done, total seconds) that opens a new bar whenever a job starts at 0."""

    def __init__(self, stream: IO[str] | None = None) -> None:
        self.stream = stream or sys.stderr
        self._bar: Any = None
        self._started = 0.0
        self.episodes = 0

    def __call__(self, done: float, total: float) -> None:
        """Update the current bar; done == 0 starts the next episode's bar."""
        if self._bar is None or done == 0.0:
            self.close()
            self.episodes += 1
            cols, rows = _size(self.stream)
            self._bar = tqdm(
                total=round(total, 1),
                unit="s",
                unit_scale=False,
                leave=True,
                desc=f"episode {self.episodes}",
                file=self.stream,
                ncols=cols,
                nrows=rows,
                bar_format="{desc}: {percentage:3.0f}%|{bar}| {n:.0f}/{total:.0f} s audio "
                "[{elapsed}<{remaining}{postfix}]",
            )
            self._started = time.monotonic()
        elapsed = max(time.monotonic() - self._started, 1e-6)
        self._bar.n = round(min(done, total), 1)
        self._bar.set_postfix_str(f"{done / elapsed:.1f}x real time", refresh=False)
        self._bar.refresh()
        if done >= total:
            self.close()

    def close(self) -> None:
        """Finish the current bar, if any."""
        if self._bar is not None:
            self._bar.close()
            self._bar = None


def _size(stream: IO[str]) -> tuple[int, int]:
    """The terminal's columns and lines; a pty that reports 0 x 0 gets 100 x 24.

    tqdm draws nothing at all on a terminal it believes has zero lines.
    """
    try:
        size = os.get_terminal_size(stream.fileno())
        return size.columns or 100, size.lines or 24
    except (OSError, ValueError, io.UnsupportedOperation):
        return 100, 24


def terminal_progress(stream: IO[str] | None = None) -> EpisodeProgress | None:
    """A bar on a terminal; None (quiet) under cron or when output is piped."""
    stream = stream or sys.stderr
    return EpisodeProgress(stream) if stream.isatty() else None
