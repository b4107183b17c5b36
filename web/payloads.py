"""The JSON shapes of the read API and the MCP tools: one set of types, so both answer the same fields.

`web/openapi.py` turns these types into the OpenAPI components, and the MCP SDK into
the tools' output schemas. Builders here are pure: read models and hits in, dicts out.
"""

from __future__ import annotations

import html
import re
from datetime import UTC, datetime
from urllib.parse import quote, urlsplit

# Pydantic reads these for the schemas, and before 3.12 it needs typing_extensions' TypedDict.
from pydantic import ConfigDict, with_config
from typing_extensions import TypedDict

from archive import public
from archive.search import EpisodeHit, Hit

_TAGS = re.compile(r"</?mark>")
# Field docstrings become the schemas' descriptions.
_DOCUMENTED = ConfigDict(use_attribute_docstrings=True)


@with_config(_DOCUMENTED)
class EpisodeRef(TypedDict):
    """The episode a passage belongs to."""

    id: int
    title: str
    show: str
    published: int | None
    """Unix time (seconds, UTC) of the episode's publication."""
    published_at: str | None
    """The same instant in ISO 8601 (UTC)."""
    url: str
    """The episode page's path on the site."""
    link: str
    """The episode page's absolute address."""


@with_config(_DOCUMENTED)
class Moment(TypedDict):
    """A passage: who said what and when, with an absolute link that starts the player there."""

    episode: EpisodeRef
    position: int
    """The passage's number within the transcript (what `correct_passage` takes)."""
    start: float
    end: float
    speaker: str | None
    language: str | None
    text: str
    link: str


@with_config(_DOCUMENTED)
class TranscriptPassage(Moment):
    """A passage of a transcript."""

    speaker_recognised: bool
    """The speaker's name comes from the show's known voices and no editor has reviewed it yet."""


@with_config(_DOCUMENTED)
class SearchPassage(Moment):
    """A passage matching a search; `html` is its escaped text with <mark> around the matched words."""

    html: str
    url: str
    """The moment's path on the site (the link without the host)."""
    found: str
    """How it matched the query: "words" (its words), "meaning" (what it is about), or "both"."""
    next_html: str
    """The next passage's first words, escaped and highlighted, when the match runs on into them (else "")."""


@with_config(_DOCUMENTED)
class SearchEpisodeHtml(TypedDict):
    """Escaped, highlighted versions of an episode match's fields."""

    title: str
    guests: list[str]
    description: str


@with_config(_DOCUMENTED)
class SearchEpisode(TypedDict):
    """An episode whose title, guests or notes match the search (first page only)."""

    id: int
    title: str
    show: str
    published: int | None
    published_at: str | None
    guests: list[str]
    html: SearchEpisodeHtml
    url: str
    link: str


@with_config(_DOCUMENTED)
class SearchResult(TypedDict):
    """One page of passages matching a query, facet counts, and on page 1 the matching episodes."""

    query: str
    page: int
    limit: int
    total: int
    passages: list[SearchPassage]
    facets: dict[str, dict[str, int]]
    """Counts per show, year and language of every passage matching the query."""
    episodes: list[SearchEpisode]
    meaning: str
    """Search by meaning for this page: "on"; "off" (words only were asked for); "skipped" (nothing in the
    query to mean: one letter, punctuation); "unavailable" (the model is missing or failed: words only);
    "disabled" (the archive has none)."""
    shortened: bool
    """The query was longer than 200 characters and was cut."""
    nothing_to_search: bool
    """The query holds no letter or digit: nothing was searched."""


@with_config(_DOCUMENTED)
class SearchAnswer(SearchResult):
    """The MCP search tool's answer: /api/search's fields, and how the query was matched."""

    mode: str
    """How the query was matched: "hybrid" (words and meaning), "words", or "meaning"; each passage's
    `found` says how that one matched."""
    note: str | None
    """Said when the mode asked for is not the one answered (the model is missing, or the query has nothing
    to mean), and what a "meaning" total counts."""


@with_config(_DOCUMENTED)
class RelatedEpisodes(TypedDict):
    """Interviews whose passages lie closest in meaning to this one's (only what readers may see)."""

    episode: int
    related: list[SearchEpisode]


@with_config(_DOCUMENTED)
class SimilarPassages(TypedDict):
    """More like this: a passage readers may see and the passages of other interviews closest to it in meaning."""

    passage: SearchPassage
    similar: list[SearchPassage]


@with_config(_DOCUMENTED)
class Show(TypedDict):
    """A show (a watched feed) as readers see it."""

    id: int
    title: str
    description: str
    language: str | None
    episodes: int
    latest_at: str | None
    """When its newest episode was published (ISO 8601, UTC)."""
    link: str
    feed: str
    """The show's outgoing RSS feed, with transcript links."""


@with_config(_DOCUMENTED)
class ShowList(TypedDict):
    """Every show, most recently published first."""

    shows: list[Show]


@with_config(_DOCUMENTED)
class EpisodeSummary(TypedDict):
    """An episode in a list."""

    id: int
    title: str
    show_id: int
    show: str
    published: int | None
    published_at: str | None
    duration: float | None
    has_transcript: bool
    """Whether readers can read (and search) its transcript."""
    link: str


@with_config(_DOCUMENTED)
class EpisodeList(TypedDict):
    """Episodes, newest first."""

    episodes: list[EpisodeSummary]


@with_config(_DOCUMENTED)
class ShowDetail(TypedDict):
    """A show and its episodes, newest first."""

    show: Show
    episodes: list[EpisodeSummary]


@with_config(_DOCUMENTED)
class Person(TypedDict):
    """A podcast:person credit from the feed."""

    name: str
    role: str | None


@with_config(_DOCUMENTED)
class Chapter(TypedDict):
    """A chapter, with a link that starts the player at it."""

    start: float
    title: str
    link: str


@with_config(_DOCUMENTED)
class TranscriptInfo(TypedDict):
    """What readers are told about an episode's transcript, and where to download it."""

    kind: str
    """One of machine, publisher (the show's own file) or reviewed (published by an editor)."""
    language: str
    duration: float
    downloads: dict[str, str]


@with_config(_DOCUMENTED)
class Episode(EpisodeSummary):
    """One episode: its notes, credits, chapters and transcript, as its page shows them."""

    description: str
    people: list[Person]
    chapters: list[Chapter]
    transcript: TranscriptInfo | None


@with_config(_DOCUMENTED)
class Transcript(TypedDict):
    """An episode's transcript (or the stretch asked for) as passages with speakers and moment links."""

    episode: EpisodeRef
    kind: str
    language: str
    start: float
    """The stretch answered, in seconds."""
    end: float
    passages: list[TranscriptPassage]
    next_start: float | None
    """Set when more passages follow than one answer holds: ask again from here."""


@with_config(_DOCUMENTED)
class Speaker(TypedDict):
    """A voice or credit readers can see, with in how many episodes it appears."""

    name: str
    episodes: int
    link: str


@with_config(_DOCUMENTED)
class SpeakerList(TypedDict):
    """Named voices and credited people, most frequent first."""

    speakers: list[Speaker]


@with_config(_DOCUMENTED)
class Error(TypedDict):
    """What a refused or failed request says."""

    error: str


# --- links -------------------------------------------------------------------


class Links:
    """Paths and absolute addresses on the site, under one base (https://archive.example.org)."""

    def __init__(self, base: str) -> None:
        self.base = base.rstrip("/")
        # Where the site is mounted on its host ("" at the root).
        self.root = urlsplit(self.base).path

    def absolute(self, path: str) -> str:
        """The address of a site path.

        >>> Links("https://a.example/x/").absolute("/episodes/3")
        'https://a.example/x/episodes/3'
        """
        return self.base + path

    def path(self, path: str) -> str:
        """A site path as the host serves it (under the mount point).

        >>> Links("https://a.example/x/").path("/episodes/3"), Links("http://h").path("/episodes/3")
        ('/x/episodes/3', '/episodes/3')
        """
        return self.root + path

    @staticmethod
    def episode_path(episode_id: int) -> str:
        """An episode page's path."""
        return f"/episodes/{int(episode_id)}"

    @staticmethod
    def moment_path(episode_id: int, start: float, position: int | None = None) -> str:
        """The path that opens an episode with the player at `start` (and the passage in view).

        >>> Links.moment_path(3, 12.345, 7)
        '/episodes/3?t=12.35#p-7'
        """
        anchor = f"#p-{int(position)}" if position is not None else ""
        return f"/episodes/{int(episode_id)}?t={start:.2f}{anchor}"

    def moment(self, episode_id: int, start: float, position: int | None = None) -> str:
        """The absolute link to a moment."""
        return self.absolute(self.moment_path(episode_id, start, position))

    def show(self, feed_id: int) -> str:
        """A show page."""
        return self.absolute(f"/shows/{int(feed_id)}")

    def speaker(self, name: str) -> str:
        """A speaker's page.

        >>> Links("http://h").speaker("Gilles Vigneault")
        'http://h/speakers/Gilles%20Vigneault'
        """
        return self.absolute("/speakers/" + quote(name, safe=""))


def iso(when: datetime | None) -> str | None:
    """An instant in ISO 8601, UTC.

    >>> iso(datetime(2026, 11, 9, 14, 0, tzinfo=UTC))
    '2026-11-09T14:00:00+00:00'
    """
    return when.astimezone(UTC).isoformat(timespec="seconds") if when is not None else None


def unix(when: datetime | None) -> int | None:
    """An instant as Unix seconds (what the search index keeps)."""
    return int(when.timestamp()) if when is not None else None


def from_unix(seconds: int | None) -> str | None:
    """Unix seconds in ISO 8601, UTC.

    >>> from_unix(0)
    '1970-01-01T00:00:00+00:00'
    """
    return iso(datetime.fromtimestamp(seconds, UTC)) if seconds is not None else None


def plain(highlighted: str) -> str:
    """A highlight's text without the marks and escapes.

    >>> plain("le <mark>tigre</mark> &amp; le lion")
    'le tigre & le lion'
    """
    return html.unescape(_TAGS.sub("", highlighted))


# --- builders ----------------------------------------------------------------


def episode_ref(links: Links, episode: public.EpisodeView, show_title: str) -> EpisodeRef:
    """The episode of a passage, from the read model."""
    path = links.episode_path(episode.id)
    return EpisodeRef(
        id=episode.id,
        title=episode.title_text,
        show=show_title,
        published=unix(episode.published_at),
        published_at=iso(episode.published_at),
        url=links.path(path),
        link=links.absolute(path),
    )


def moment(links: Links, ref: EpisodeRef, p: public.PassageView) -> Moment:
    """A transcript passage readers may see."""
    return Moment(
        episode=ref,
        position=p.position,
        start=round(p.start, 2),
        end=round(p.end, 2),
        speaker=p.speaker,
        language=p.language,
        text=p.text,
        link=links.moment(ref["id"], p.start, p.position),
    )


def transcript_passage(links: Links, ref: EpisodeRef, p: public.PassageView) -> TranscriptPassage:
    """A transcript passage readers may see, saying whether its speaker was recognised by voice only."""
    return TranscriptPassage(**moment(links, ref, p), speaker_recognised=p.recognised)


def search_passage(links: Links, hit: Hit) -> SearchPassage:
    """A search hit; the fields of the first /api/search plus its plain text and absolute links."""
    path = links.episode_path(hit.episode_id)
    moment_path = links.moment_path(hit.episode_id, hit.start, hit.position)
    return SearchPassage(
        episode=EpisodeRef(
            id=hit.episode_id,
            title=hit.episode_title,
            show=hit.feed_title,
            published=hit.published,
            published_at=from_unix(hit.published),
            url=links.path(path),
            link=links.absolute(path),
        ),
        position=hit.position,
        start=hit.start,
        end=hit.end,
        speaker=hit.speaker,
        language=hit.language,
        text=plain(hit.html),
        html=hit.html,
        url=links.path(moment_path),
        link=links.absolute(moment_path),
        found=hit.found,
        next_html=hit.next_html,
    )


def search_episode(links: Links, hit: EpisodeHit) -> SearchEpisode:
    """An episode matching a search."""
    path = links.episode_path(hit.episode_id)
    return SearchEpisode(
        id=hit.episode_id,
        title=hit.title,
        show=hit.show,
        published=hit.published,
        published_at=from_unix(hit.published),
        guests=list(hit.guests),
        html=SearchEpisodeHtml(title=hit.title_html, guests=list(hit.guests_html), description=hit.description_html),
        url=links.path(path),
        link=links.absolute(path),
    )


def show(links: Links, card: public.ShowCard) -> Show:
    """A show from its card."""
    return Show(
        id=card.id,
        title=card.title,
        description=card.description_text,
        language=card.language,
        episodes=card.episodes,
        latest_at=iso(card.latest),
        link=links.show(card.id),
        feed=links.absolute(f"/shows/{card.id}/feed.xml"),
    )


def episode_summary(links: Links, card: public.EpisodeCard) -> EpisodeSummary:
    """An episode from its card."""
    return EpisodeSummary(
        id=card.id,
        title=card.title_text,
        show_id=card.feed_id,
        show=card.feed_title,
        published=unix(card.published),
        published_at=iso(card.published),
        duration=card.duration,
        has_transcript=card.has_transcript,
        link=links.absolute(links.episode_path(card.id)),
    )


def speaker(links: Links, name: str, episodes: int) -> Speaker:
    """A named voice."""
    return Speaker(name=name, episodes=episodes, link=links.speaker(name))
