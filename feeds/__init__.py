"""Fetch podcast feeds and enclosures safely, and parse feeds into dataclasses."""

from .chapters import Chapter, parse_chapters
from .errors import BlockedURL, ChaptersError, FeedError, FetchError, ParseError, TooLarge
from .feed_url import normalise_feed_url
from .fetch import DownloadResult, FetchResult, download, fetch
from .guard import FetchPolicy, check_url, is_public_address
from .model import Enclosure, Entry, Feed, Person, TranscriptLink
from .parse import entry_identity, normalise_enclosure_url, parse_duration, parse_feed

__all__ = [
    "BlockedURL",
    "Chapter",
    "ChaptersError",
    "DownloadResult",
    "Enclosure",
    "Entry",
    "Feed",
    "FeedError",
    "FetchError",
    "FetchPolicy",
    "FetchResult",
    "ParseError",
    "Person",
    "TooLarge",
    "TranscriptLink",
    "check_url",
    "download",
    "entry_identity",
    "fetch",
    "is_public_address",
    "normalise_enclosure_url",
    "normalise_feed_url",
    "parse_chapters",
    "parse_duration",
    "parse_feed",
]
