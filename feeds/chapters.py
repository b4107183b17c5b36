"""Podcasting 2.0 JSON chapters (the file a podcast:chapters tag names): bytes -> chapters; pure, no I/O."""

from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass
from typing import Any
from urllib.parse import urljoin

from .errors import ChaptersError

# A real chapters file has tens of entries; a cap keeps a hostile one from filling a page.
MAX_CHAPTERS = 500
MAX_TITLE = 200
MAX_URL = 2000
# Ten days: past any episode, and startTime values beyond are garbage (or 1e308).
MAX_START = 10 * 24 * 3600.0
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_SPACE = re.compile(r"\s+")


@dataclass(frozen=True)
class Chapter:
    """One visible chapter: where it starts (seconds), its title, and optional link and image."""

    start: float
    title: str
    url: str | None
    img: str | None


def parse_chapters(content: bytes, base_url: str = "") -> tuple[Chapter, ...]:
    """The visible chapters of a JSON chapters file, by start time; raises ChaptersError if it is not one.

    Entries without a usable startTime or title are skipped, as are `"toc": false`
    markers (the spec's "silent" chapters); img and url are kept only when http(s).

    >>> parse_chapters(b'{"version": "1.2.0", "chapters": [{"startTime": 61.5, "title": "B"},'
    ...                b' {"startTime": 0, "title": " A ", "url": "/a"},'
    ...                b' {"startTime": 9, "toc": false, "title": "x"}]}',
    ...                "https://h/ep/chapters.json")
    (Chapter(start=0.0, title='A', url='https://h/a', img=None), Chapter(start=61.5, title='B', url=None, img=None))
    >>> parse_chapters(b"<html>")
    Traceback (most recent call last):
    ...
    feeds.errors.ChaptersError: not a JSON chapters file: Expecting value at line 1 column 1
    """
    document = _load(content)
    if not isinstance(document, dict) or not isinstance(document.get("chapters"), list):
        raise ChaptersError('not a JSON chapters file: no "chapters" list')
    chapters = []
    for raw in document["chapters"]:
        chapter = _chapter(raw, base_url)
        if chapter is not None:
            chapters.append(chapter)
    # The spec says files are in ascending order; many are not. Stable: ties keep file order.
    chapters.sort(key=lambda c: c.start)
    return tuple(chapters[:MAX_CHAPTERS])


def _load(content: bytes) -> Any:
    """JSON from bytes in any encoding RFC 8259 allows, with or without a BOM."""
    try:
        text = content.decode(json.detect_encoding(content))
    except (UnicodeDecodeError, LookupError) as exc:
        raise ChaptersError(f"not a JSON chapters file: {exc}") from exc
    try:
        return json.loads(text.removeprefix("\ufeff"))
    except json.JSONDecodeError as exc:
        raise ChaptersError(f"not a JSON chapters file: {exc.msg} at line {exc.lineno} column {exc.colno}") from exc
    except ValueError as exc:  # an integer past Python's 4300-digit conversion limit
        raise ChaptersError(f"not a JSON chapters file: {exc}") from exc
    except RecursionError as exc:  # [[[[...]]]] thousands deep
        raise ChaptersError("not a JSON chapters file: nested too deeply") from exc


def _chapter(raw: object, base_url: str) -> Chapter | None:
    if not isinstance(raw, dict) or raw.get("toc") is False:
        return None
    start = _seconds(raw.get("startTime"))
    title = _text(raw.get("title"))
    if start is None or not title:
        return None
    return Chapter(start, title, _link(raw.get("url"), base_url), _link(raw.get("img"), base_url))


def _seconds(value: object) -> float | None:
    """startTime as seconds; numbers as strings ("61.5") too, since some generators write them."""
    if isinstance(value, bool):
        return None
    if isinstance(value, str):
        try:
            value = float(value.strip())
        except ValueError:
            return None
    if not isinstance(value, (int, float)):
        return None
    try:
        seconds = float(value)
    except OverflowError:  # an integer with hundreds of digits
        return None
    return seconds if math.isfinite(seconds) and 0 <= seconds < MAX_START else None


def _text(value: object) -> str:
    """A title as one line of plain text (it is escaped when shown), clipped."""
    if not isinstance(value, str):
        return ""
    text = _SPACE.sub(" ", _CONTROL.sub("", value)).strip()
    return text if len(text) <= MAX_TITLE else text[: MAX_TITLE - 1].rstrip() + "…"


def _link(value: object, base_url: str) -> str | None:
    """An absolute http(s) URL, resolved against the chapters file; anything else is dropped."""
    if not isinstance(value, str) or not value.strip() or len(value) > MAX_URL:
        return None
    try:
        url = urljoin(base_url, _CONTROL.sub("", value).strip())
    except ValueError:  # "http://[::1" and friends
        return None
    return url if url.lower().startswith(("https://", "http://")) else None
