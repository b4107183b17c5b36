"""Podcasting 2.0 tags read from the raw XML (feedparser keeps only the last of each)."""

from __future__ import annotations

from dataclasses import dataclass, field
from urllib.parse import urljoin
from xml.parsers import expat

from .model import Person, TranscriptLink

# The spec's namespace, plus the GitHub URL that older feeds (and every
# Podcasting 2.0 fixture we hold) still declare.
PODCAST_NAMESPACES = frozenset(
    {
        "https://podcastindex.org/namespace/1.0",
        "https://github.com/Podcastindex-org/podcast-namespace/blob/main/docs/1.0.md",
    }
)

# Transcript types as feeds write them -> one canonical MIME type each.
_TRANSCRIPT_TYPES = {
    "text/vtt": "text/vtt",
    "text/webvtt": "text/vtt",
    "application/x-subrip": "application/x-subrip",
    "application/srt": "application/x-subrip",  # pc20rss.xml uses this
    "text/srt": "application/x-subrip",
    "text/x-srt": "application/x-subrip",
    "application/x-srt": "application/x-subrip",
    "application/json": "application/json",
    "text/json": "application/json",
    "text/html": "text/html",
    "text/plain": "text/plain",
}
_ITEM_NAMESPACES = frozenset({"", "http://www.w3.org/2005/Atom", "http://purl.org/rss/1.0/"})
_BY_EXTENSION = {
    ".vtt": "text/vtt",
    ".srt": "application/x-subrip",
    ".json": "application/json",
    ".html": "text/html",
    ".htm": "text/html",
    ".txt": "text/plain",
}


@dataclass
class ItemTags:
    """Podcasting 2.0 data of one <item>, plus keys to match it to feedparser's entry."""

    guid: str | None = None
    enclosure_url: str | None = None
    transcripts: list[TranscriptLink] = field(default_factory=list)
    persons: list[Person] = field(default_factory=list)
    chapters_url: str | None = None
    episode: int | None = None
    season: int | None = None


class UnsafeXML(Exception):
    """The document declares entities; we refuse to expand them."""


def normalise_transcript_type(type_: str | None, url: str) -> str | None:
    """Canonical MIME type of a transcript, from its type attribute or URL suffix.

    >>> normalise_transcript_type("application/srt", "x")
    'application/x-subrip'
    >>> normalise_transcript_type("", "https://h/t.VTT")
    'text/vtt'
    >>> normalise_transcript_type("audio/mpeg", "https://h/t") is None
    True
    """
    key = (type_ or "").split(";")[0].strip().lower()
    if key in _TRANSCRIPT_TYPES:
        return _TRANSCRIPT_TYPES[key]
    path = url.split("?")[0].lower()
    return next((t for ext, t in _BY_EXTENSION.items() if path.endswith(ext)), None)


def read_item_tags(content: bytes, base_url: str) -> tuple[list[ItemTags], list[str]]:
    """Podcasting 2.0 tags of every item in document order, and any warnings."""
    reader = _Reader(base_url)
    parser = expat.ParserCreate(namespace_separator=" ")
    # Billion-laughs and XXE: refuse any entity declaration outright; expat never
    # fetches external entities without an ExternalEntityRefHandler.
    parser.EntityDeclHandler = reader.refuse_entity
    # Treat undefined entities (no_agenda's feed) as skipped, not fatal.
    parser.UseForeignDTD(True)
    parser.SetParamEntityParsing(expat.XML_PARAM_ENTITY_PARSING_NEVER)
    parser.StartElementHandler = reader.start
    parser.EndElementHandler = reader.end
    parser.CharacterDataHandler = reader.text
    try:
        parser.Parse(content, True)
    except UnsafeXML:
        return [], ["document declares XML entities; Podcasting 2.0 tags skipped"]
    except (expat.ExpatError, LookupError) as exc:
        # LookupError: an encoding label Python does not know ("x-no-such-charset").
        return reader.items, [f"Podcasting 2.0 pass stopped early: {exc}"]
    return reader.items, []


class _Reader:
    """expat callbacks that collect per-item Podcasting 2.0 tags."""

    def __init__(self, base_url: str) -> None:
        self.base_url = base_url
        self.items: list[ItemTags] = []
        self._current: ItemTags | None = None
        self._person: dict[str, str] | None = None
        self._text: list[str] = []

    def refuse_entity(self, *args: object) -> None:
        """Abort the parse on any <!ENTITY> declaration."""
        raise UnsafeXML()

    def start(self, name: str, attrs: dict[str, str]) -> None:
        """Open an element: items, guids, enclosures and podcast:* tags."""
        ns, _, local = name.rpartition(" ")
        if local in ("item", "entry") and ns in _ITEM_NAMESPACES:
            self._current = ItemTags()
            self.items.append(self._current)
            return
        item = self._current
        if item is None:
            return
        if ns in _ITEM_NAMESPACES and local in ("guid", "id", "enclosure"):
            self._text = []
            if local == "enclosure" and attrs.get("url") and item.enclosure_url is None:
                item.enclosure_url = urljoin(self.base_url, attrs["url"].strip())
        elif ns in PODCAST_NAMESPACES:
            self._podcast_tag(item, local, attrs)

    def _podcast_tag(self, item: ItemTags, local: str, attrs: dict[str, str]) -> None:
        """Record one podcast:* element of an item."""
        url = (attrs.get("url") or "").strip()
        if local == "transcript" and url:
            full = urljoin(self.base_url, url)
            type_ = normalise_transcript_type(attrs.get("type"), full)
            if type_ is not None:
                lang = (attrs.get("language") or "").strip().lower() or None
                item.transcripts.append(TranscriptLink(full, type_, lang, attrs.get("rel") or None))
        elif local == "chapters" and url and item.chapters_url is None:
            item.chapters_url = urljoin(self.base_url, url)
        elif local == "person":
            self._person = attrs
            self._text = []
        elif local in ("episode", "season"):
            self._text = []

    def end(self, name: str) -> None:
        """Close an element, finishing guids, persons and items."""
        ns, _, local = name.rpartition(" ")
        item = self._current
        if item is None:
            return
        if ns in _ITEM_NAMESPACES and local in ("item", "entry"):
            self._current = None
        elif ns in _ITEM_NAMESPACES and local in ("guid", "id"):
            item.guid = "".join(self._text).strip() or None
        elif ns in PODCAST_NAMESPACES and local in ("episode", "season"):
            number = "".join(self._text).strip()
            # podcast:episode may be "12.5"; only whole numbers fit Entry.
            if number.isdigit() and len(number) < 10:
                setattr(item, local, int(number))
        elif ns in PODCAST_NAMESPACES and local == "person" and self._person is not None:
            person_name = " ".join("".join(self._text).split())
            attrs = self._person
            if person_name:
                item.persons.append(
                    Person(
                        name=person_name,
                        role=(attrs.get("role") or "").strip().lower() or None,
                        group=(attrs.get("group") or "").strip().lower() or None,
                        href=attrs.get("href") or None,
                        img=attrs.get("img") or None,
                    )
                )
            self._person = None

    def text(self, data: str) -> None:
        """Collect character data for the element being read."""
        self._text.append(data)
