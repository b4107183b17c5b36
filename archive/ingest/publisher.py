"""Publisher transcripts (podcast:transcript): pick the best offered file, fetch it safely, parse it."""

from __future__ import annotations

import html
import re
from collections.abc import Sequence
from dataclasses import replace

import nh3

import feeds
from transcribe.errors import TranscriptFormatError
from transcribe.formats import parse_podcast_json, parse_srt, parse_vtt
from transcribe.result import Segment, Transcript

# Timed and speaker-labelled first: VTT (<v> voices) > Podcast Index JSON > SRT > text/HTML.
PREFERENCE = ("text/vtt", "application/json", "application/x-subrip", "text/html", "text/plain")
_PARAGRAPH = re.compile(r"\n\s*\n|</p>|<br\s*/?>", re.IGNORECASE)


def best_link(links: Sequence[feeds.TranscriptLink], language: str | None = None) -> feeds.TranscriptLink | None:
    """The link to use: the preferred format, in the episode's language when the feed says.

    >>> L = feeds.TranscriptLink
    >>> best_link([L("a.srt", "application/x-subrip", None, None), L("a.vtt", "text/vtt", None, None)]).url
    'a.vtt'
    >>> best_link([L("en.vtt", "text/vtt", "en", None), L("fr.json", "application/json", "fr", None)], "fr").url
    'fr.json'
    """
    usable = [link for link in links if link.type in PREFERENCE]
    if language:
        same = [link for link in usable if (link.language or "").split("-")[0].lower() == language]
        usable = same or [link for link in usable if not link.language] or usable
    return min(usable, key=lambda link: PREFERENCE.index(link.type), default=None)


def parse_publisher(content: bytes, type_: str, duration: float) -> Transcript:
    """Parse a fetched transcript file of a canonical type into a Transcript (origin "publisher")."""
    text = content.decode("utf-8-sig", errors="replace")
    if type_ == "text/vtt":
        return parse_vtt(text)
    if type_ == "application/json":
        return parse_podcast_json(text)
    if type_ == "application/x-subrip":
        return parse_srt(text)
    if type_ in ("text/html", "text/plain"):
        return _untimed(text, html_input=type_ == "text/html", duration=duration)
    raise TranscriptFormatError(f"unsupported transcript type {type_!r}")


def _untimed(text: str, *, html_input: bool, duration: float) -> Transcript:
    """Paragraphs of a text or HTML transcript, untimed: each spans the whole episode."""
    pieces = _PARAGRAPH.split(text) if html_input else re.split(r"\n\s*\n", text)
    paragraphs = []
    for piece in pieces:
        if html_input:
            piece = html.unescape(nh3.clean(piece, tags=set()))
        piece = " ".join(piece.split())
        if piece:
            paragraphs.append(Segment(0.0, duration, piece))
    if not paragraphs:
        raise TranscriptFormatError("transcript file has no text")
    return Transcript(language="", segments=tuple(paragraphs), duration=duration, origin="publisher")


def fetch_publisher_transcript(
    link: feeds.TranscriptLink, policy: feeds.FetchPolicy, duration: float, language: str | None
) -> Transcript:
    """Fetch through the SSRF-guarded fetcher and parse; raises feeds.FeedError or TranscriptFormatError."""
    result = feeds.fetch(link.url, policy)
    parsed = parse_publisher(result.content, link.type, duration)
    if not parsed.segments:
        raise TranscriptFormatError(f"{link.url}: no cues")
    return replace(
        parsed,
        language=link.language or language or "",
        duration=duration or parsed.duration,
        model="",
        source_url=result.url,
    )
