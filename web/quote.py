"""Deep links and shared quotes: ?t=, ?start=&end= turned into a moment and a passage range."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from archive.public import PassageView

MAX_SECONDS = 10 * 24 * 3600
# A quote is a few sentences; a longer range is a link to a stretch, not a card text.
MAX_QUOTE_CHARS = 280


@dataclass(frozen=True)
class Quote:
    """A shared range: where it starts and ends, the passages it covers and its text.

    earlier and later are the start of the passage before it and the end of the one
    after it (None at the ends): links that widen the quote without JavaScript.
    """

    start: float
    end: float
    positions: frozenset[int]
    text: str
    earlier: float | None = None
    later: float | None = None


def parse_moment(value: str | None) -> float | None:
    """Seconds from "75.5", "1:15" or "1:02:05"; None when absent or not a sane time.

    >>> parse_moment("75.5"), parse_moment("1:15"), parse_moment("1:02:05")
    (75.5, 75.0, 3725.0)
    >>> parse_moment("-3"), parse_moment("nan"), parse_moment("x"), parse_moment(None)
    (None, None, None, None)
    """
    if not value:
        return None
    try:
        seconds = 0.0
        for part in value.strip().split(":"):
            seconds = seconds * 60 + float(part)
    except ValueError:
        return None
    if not (0 <= seconds < MAX_SECONDS):  # also false for nan
        return None
    return seconds


def pick_quote(passages: Sequence[PassageView], start: str | None, end: str | None) -> Quote | None:
    """The passages a ?start=&end= range covers, or None when the range is absent or empty."""
    lo, hi = parse_moment(start), parse_moment(end)
    if lo is None or hi is None or hi <= lo:
        return None
    # A passage belongs to the quote when most of it lies inside the range: links made
    # from passage boundaries round to 0.01 s, so a strict overlap would pull neighbours in.
    inside = [i for i, p in enumerate(passages) if min(p.end, hi) - max(p.start, lo) > (p.end - p.start) / 2]
    if not inside:
        return None
    covered = [passages[i] for i in inside]
    text = " ".join(p.text.strip() for p in covered)
    if len(text) > MAX_QUOTE_CHARS:
        text = text[: MAX_QUOTE_CHARS - 1].rsplit(" ", 1)[0] + "…"
    first, last = inside[0], inside[-1]
    earlier = passages[first - 1].start if first > 0 else None
    later = passages[last + 1].end if last + 1 < len(passages) else None
    return Quote(lo, hi, frozenset(p.position for p in covered), text, earlier, later)
