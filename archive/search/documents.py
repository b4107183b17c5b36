"""Search documents and results as plain data, and safe highlighting: no I/O here."""

from __future__ import annotations

import html
import re
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import numpy as np
import numpy.typing as npt

from archive.search.hybrid import Found, vectors_field

# The most hits one query returns, and the deepest it may page (Meilisearch pays for every skipped hit).
MAX_LIMIT, MAX_OFFSET = 100, 1000

# Private-use characters as highlight tags: Meilisearch inserts them into raw
# text; we escape everything, then turn only these into <mark>. Document text
# has them stripped, so a feed cannot forge a highlight.
HL_PRE = "\ue000"
HL_POST = "\ue001"
_SENTINELS = re.compile(f"[{HL_PRE}{HL_POST}]")


@dataclass(frozen=True)
class Passage:
    """One searchable stretch of a transcript."""

    episode_id: int
    feed_id: int
    position: int
    start: float
    end: float
    text: str
    speaker: str | None
    language: str | None
    published: datetime | None
    episode_title: str
    feed_title: str
    # The first words of the next passage of the episode: a phrase that runs on across
    # the boundary is then found here, where it starts (docs/search.md).
    next_text: str = ""
    # Its vector for search by meaning (the passage with the next one), None while waiting.
    vector: npt.NDArray[np.float32] | None = field(default=None, compare=False, repr=False)


@dataclass(frozen=True)
class EpisodeEntry:
    """What the episode index holds for one episode (description already plain text)."""

    episode_id: int
    feed_id: int
    title: str
    description: str
    show: str
    language: str | None
    published: datetime | None
    # Names readers can see: podcast:person credits and speakers of the public text.
    guests: tuple[str, ...] = ()
    # The mean of its passages' vectors: related interviews are the nearest entries.
    vector: npt.NDArray[np.float32] | None = field(default=None, compare=False, repr=False)


@dataclass(frozen=True)
class Hit:
    """A search result; `html` is escaped text with <mark> around the matched words."""

    episode_id: int
    position: int
    start: float
    end: float
    html: str
    episode_title: str
    feed_title: str
    published: int | None
    speaker: str | None = None
    language: str | None = None
    # Found by its words, by its meaning, or both (archive.search.hybrid.merge).
    found: Found = "words"
    # The next passage's first words, highlighted, when the match runs on into them.
    next_html: str = ""


@dataclass(frozen=True)
class EpisodeHit:
    """An episode matching a search; the *_html fields are escaped text with <mark> around matches."""

    episode_id: int
    title: str
    show: str
    published: int | None
    guests: tuple[str, ...]
    title_html: str
    guests_html: tuple[str, ...]
    description_html: str


@dataclass(frozen=True)
class SearchPage:
    """One page of hits, the estimated total and facet counts."""

    query: str
    hits: list[Hit]
    total: int
    processing_ms: int
    facets: dict[str, dict[str, int]] = field(default_factory=dict)
    # Search by meaning for this page: "on"; "off" (the reader asked for words only);
    # "skipped" (nothing in the query to mean: one letter, punctuation); "unavailable"
    # (the model is missing or failed: words only); "disabled" (the archive has none).
    meaning: str = "disabled"
    # The query holds no letter or digit: nothing was searched (Meilisearch would list everything).
    nothing_to_search: bool = False


@dataclass(frozen=True)
class Filters:
    """What a reader narrowed the search to; every field optional."""

    show: str | None = None
    year: int | None = None
    speaker: str | None = None
    language: str | None = None
    episode_id: int | None = None

    def expressions(self, speaker_field: str = "speaker") -> list[str]:
        """Meilisearch filter expressions (the speaker as `speaker_field`).

        Values are quoted so no input can change the filter.
        """
        out = []
        for name, value in (("show", self.show), (speaker_field, self.speaker), ("language", self.language)):
            if value:
                out.append(f"{name} = {quote_filter(value)}")
        if self.year is not None:
            out.append(f"year = {int(self.year)}")
        if self.episode_id is not None:
            out.append(f"episode_id = {int(self.episode_id)}")
        return out


def quote_filter(value: str) -> str:
    """A filter string literal.

    >>> quote_filter('a "b" \\\\ c')
    '"a \\\\"b\\\\" \\\\\\\\ c"'
    """
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def normalise_query(query: str) -> str:
    """Lower-case the query: Meilisearch 1.21 compares stop words before folding case,
    so "L’ACCIDENT" kept "L" as a required word and found nothing (measured).

    >>> normalise_query("L’ACCIDENT  d'Été")
    "l’accident d'été"
    """
    return " ".join(query.lower().split())


def strip_sentinels(text: str) -> str:
    """Remove the highlight sentinels from text before it is indexed.

    >>> strip_sentinels("a\\ue000b\\ue001c")
    'abc'
    """
    return _SENTINELS.sub("", text)


def safe_highlight(formatted: str) -> str:
    """Escape Meilisearch's formatted text, then turn the sentinels into <mark> tags.

    >>> safe_highlight("<b>\\ue000x\\ue001</b> & 'y'")
    '&lt;b&gt;<mark>x</mark>&lt;/b&gt; &amp; &#x27;y&#x27;'
    """
    escaped = html.escape(formatted, quote=True)
    return escaped.replace(HL_PRE, "<mark>").replace(HL_POST, "</mark>")


def passage_document(p: Passage) -> dict[str, Any]:
    """The Meilisearch document for a passage; ids use only letters, digits, - and _."""
    return {
        "id": f"e{p.episode_id}-{p.position}",
        "episode_id": p.episode_id,
        "feed_id": p.feed_id,
        "position": p.position,
        "start": round(p.start, 2),
        "end": round(p.end, 2),
        "text": strip_sentinels(p.text),
        "speaker": p.speaker,
        "language": p.language,
        "published": int(p.published.timestamp()) if p.published else None,
        "year": p.published.year if p.published else None,
        "episode_title": strip_sentinels(p.episode_title),
        "feed_title": strip_sentinels(p.feed_title),
        "show": strip_sentinels(p.feed_title),
        "next_text": strip_sentinels(p.next_text),
        # Always present: an index with a userProvided embedder refuses a batch in which one
        # document has no `_vectors` entry for it; null means "none yet" (measured, 1.21).
        **vectors_field(p.vector),
    }


def episode_document(e: EpisodeEntry) -> dict[str, Any]:
    """The Meilisearch document for an episode."""
    return {
        "id": f"e{e.episode_id}",
        "episode_id": e.episode_id,
        "feed_id": e.feed_id,
        "title": strip_sentinels(e.title),
        "description": strip_sentinels(e.description),
        "show": strip_sentinels(e.show),
        "language": e.language,
        "published": int(e.published.timestamp()) if e.published else None,
        "year": e.published.year if e.published else None,
        "guests": [strip_sentinels(g) for g in e.guests],
        **vectors_field(e.vector),
    }


def episode_hit(raw: dict[str, Any]) -> EpisodeHit:
    """An episode-index hit as plain fields and safe highlights."""
    formatted = raw.get("_formatted") or {}
    guests = tuple(raw.get("guests") or ())
    # The description is shown only where it matched; otherwise it is the start of the show notes.
    description = formatted.get("description") or ""
    return EpisodeHit(
        episode_id=int(raw["episode_id"]),
        title=raw.get("title", ""),
        show=raw.get("show", ""),
        published=raw.get("published"),
        guests=guests,
        title_html=safe_highlight(formatted.get("title", raw.get("title", ""))),
        guests_html=tuple(safe_highlight(g) for g in formatted.get("guests", guests)),
        description_html=safe_highlight(description) if HL_PRE in description else "",
    )
