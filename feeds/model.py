"""Plain dataclasses that parse_feed returns."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True)
class Enclosure:
    """The episode's media file as the feed announces it."""

    url: str
    type: str | None
    length: int | None


@dataclass(frozen=True)
class TranscriptLink:
    """A podcast:transcript the publisher offers, with a normalised MIME type."""

    url: str
    type: str
    language: str | None
    rel: str | None


@dataclass(frozen=True)
class Person:
    """A podcast:person credit (host, guest, ...)."""

    name: str
    role: str | None
    group: str | None
    href: str | None
    img: str | None


@dataclass(frozen=True)
class Entry:
    """One episode of a feed."""

    guid: str
    title: str
    description_html: str
    link: str | None
    published: datetime | None
    duration: float | None
    enclosure: Enclosure | None
    image: str | None
    episode_number: int | None
    season: int | None
    transcripts: tuple[TranscriptLink, ...]
    persons: tuple[Person, ...]
    chapters_url: str | None


@dataclass(frozen=True)
class Feed:
    """A parsed feed (one page of it when next_page is set)."""

    title: str
    link: str | None
    description_html: str
    language: str | None
    image: str | None
    entries: tuple[Entry, ...]
    next_page: str | None
    warnings: tuple[str, ...]
