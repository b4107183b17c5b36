"""Turn feed bytes into Feed and Entry dataclasses; pure, no I/O."""

from __future__ import annotations

import io
import re
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urljoin

import feedparser

from .errors import ParseError
from .identity import entry_identity, normalise_enclosure_url
from .model import Enclosure, Entry, Feed, Person, TranscriptLink
from .podcast_ns import ItemTags, read_item_tags
from .text import clean_html, plain_text

__all__ = [
    "Enclosure",
    "Entry",
    "Feed",
    "Person",
    "TranscriptLink",
    "entry_identity",
    "normalise_enclosure_url",
    "parse_duration",
    "parse_feed",
]

_DURATION = re.compile(r"^(?:(\d+):)??(?:(\d+):)?(\d+(?:\.\d+)?)$")
_INT = re.compile(r"^\s*\+?(\d{1,9})\s*$")


def parse_duration(value: str | None) -> float | None:
    """Seconds from an itunes:duration ("3600", "12:34", "1:02:03.25"); None if unusable.

    >>> [parse_duration(v) for v in ("3600", "3600.5", "1:02", "12:34", "1:02:03", "01:02:03.25")]
    [3600.0, 3600.5, 62.0, 754.0, 3723.0, 3723.25]
    >>> [parse_duration(v) for v in (None, "", "abc", "-5", "1:2:3:4", "nan", "1e3", ":30")]
    [None, None, None, None, None, None, None, None]
    """
    if not value:
        return None
    match = _DURATION.match(value.strip())
    if match is None:
        return None
    hours, minutes, seconds = match.groups()
    return int(hours or 0) * 3600 + int(minutes or 0) * 60 + float(seconds)


def parse_feed(content: bytes, base_url: str) -> Feed:
    """Parse feed bytes; relative URLs resolve against base_url. Raises ParseError."""
    if not content or not content.strip():
        raise ParseError("empty document")
    # A stream, never a str or bytes: feedparser treats strings as URLs or file
    # paths and would happily read local files (tests/README.md, "URLs").
    parsed = feedparser.parse(
        io.BytesIO(content),
        # No content-location: feedparser would then "resolve" relative guids
        # (ccma_catalan's "mp3/2/4/...") and identities would change with the
        # feed URL. We resolve the URL fields ourselves. The content type lets
        # the XML declaration pick the encoding (RFC 7303) without a bozo warning.
        response_headers={"content-type": "application/xml"},
        resolve_relative_uris=True,
        sanitize_html=True,
    )
    if not parsed.version and not parsed.entries:
        raise ParseError(f"not a feed: {parsed.get('bozo_exception') or 'no channel and no entries'}")
    warnings: list[str] = []
    if parsed.bozo:
        warnings.append(f"malformed feed: {parsed.bozo_exception}")
    items, ns_warnings = read_item_tags(content, base_url)
    warnings.extend(ns_warnings)
    entries = _entries(parsed.entries, items, base_url, warnings)
    meta = parsed.feed
    return Feed(
        title=plain_text(meta.get("title")),
        link=_url(meta.get("link"), base_url),
        description_html=clean_html(meta.get("summary") or meta.get("subtitle")),
        language=(meta.get("language") or "").strip().lower() or None,
        image=_url((meta.get("image") or {}).get("href"), base_url),
        entries=entries,
        next_page=_link(meta.get("links", []), "next", base_url),
        warnings=tuple(warnings),
    )


def _entries(raw: list[Any], items: list[ItemTags], base_url: str, warnings: list[str]) -> tuple[Entry, ...]:
    """Entries in feed order, the first of each identity kept."""
    by_guid = {i.guid: i for i in reversed(items) if i.guid}
    by_enclosure = {i.enclosure_url: i for i in reversed(items) if i.enclosure_url}
    aligned = len(items) == len(raw)
    seen: set[str] = set()
    out: list[Entry] = []
    for index, item in enumerate(raw):
        enclosure = _enclosure(item.get("enclosures", []), base_url)
        guid = (item.get("id") or "").strip()
        tags = (
            by_guid.get(guid)
            or (enclosure and by_enclosure.get(enclosure.url))
            or (items[index] if aligned else None)
            or ItemTags()
        )
        entry = _entry(item, enclosure, tags, base_url)
        if entry.guid in seen:
            # old_time_radio_dup_guid_bad_dates.xml repeats a whole item.
            warnings.append(f"duplicate item {entry.guid!r} ignored")
            continue
        seen.add(entry.guid)
        out.append(entry)
    return tuple(out)


def _entry(item: Any, enclosure: Enclosure | None, tags: ItemTags, base_url: str) -> Entry:
    """One Entry from a feedparser entry and its Podcasting 2.0 tags."""
    title = plain_text(item.get("title"))
    link = _url(item.get("link"), base_url)
    published = _datetime(item.get("published_parsed") or item.get("updated_parsed"))
    content = item.get("content") or []
    body = content[0].get("value") if content else None
    return Entry(
        guid=entry_identity(_clean(item.get("id")), enclosure.url if enclosure else None, link, title, published),
        title=title,
        description_html=clean_html(body or item.get("summary")),
        link=link,
        published=published,
        duration=parse_duration(item.get("itunes_duration")),
        enclosure=enclosure,
        image=_url((item.get("image") or {}).get("href"), base_url),
        episode_number=_int(item.get("itunes_episode")) or tags.episode,
        season=_int(item.get("itunes_season")) or tags.season,
        transcripts=tuple(tags.transcripts),
        persons=tuple(tags.persons),
        chapters_url=tags.chapters_url,
    )


def _enclosure(enclosures: list[Any], base_url: str) -> Enclosure | None:
    """The first audio/video enclosure (else the first at all), URL made absolute."""
    usable = [e for e in enclosures if _clean(e.get("href"))]
    if not usable:
        return None
    media = [e for e in usable if (e.get("type") or "").startswith(("audio/", "video/"))]
    chosen = (media or usable)[0]
    return Enclosure(
        url=urljoin(base_url, _clean(chosen["href"])),
        type=_clean(chosen.get("type")).lower() or None,
        length=_int(chosen.get("length")) or None,
    )


def _link(links: list[Any], rel: str, base_url: str) -> str | None:
    """href of the first atom:link with this rel."""
    return next((_url(link.get("href"), base_url) for link in links if link.get("rel") == rel), None)


def _url(value: str | None, base_url: str) -> str | None:
    """value as an absolute URL, or None when empty."""
    value = _clean(value)
    return urljoin(base_url, value) if value else None


def _clean(value: str | None) -> str:
    """Feed text without NULs (the lenient parser keeps them; PostgreSQL text refuses them), stripped."""
    return (value or "").replace("\x00", "").strip()


def _int(value: Any) -> int | None:
    """A non-negative integer from feed text, or None."""
    match = _INT.match(str(value)) if value is not None else None
    return int(match.group(1)) if match else None


def _datetime(value: Any) -> datetime | None:
    """UTC-aware datetime from feedparser's time tuple (already normalised to UTC)."""
    if not value:
        return None
    try:
        year, month, day, hour, minute, second = value[:6]
        return datetime(year, month, day, hour, minute, second, tzinfo=UTC)
    except (TypeError, ValueError):
        return None
