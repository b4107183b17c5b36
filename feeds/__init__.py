"""Fetch podcast feeds and enclosures safely, and parse feeds into dataclasses."""

# Names load with their module on first use (PEP 562): the settings parser imports
# feeds.guard, and a command that fetches nothing should not pay for httpx and the parser.
from __future__ import annotations

import importlib
import sys
import types
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .chapters import Chapter, parse_chapters
    from .errors import BlockedURL, ChaptersError, FeedError, FetchError, ParseError, TooLarge
    from .feed_url import normalise_feed_url
    from .fetch import DownloadResult, FetchResult, download, fetch
    from .guard import FetchPolicy, check_url, is_public_address
    from .model import Enclosure, Entry, Feed, Person, TranscriptLink
    from .parse import entry_identity, normalise_enclosure_url, parse_duration, parse_feed

_HOMES = {
    "chapters": ("Chapter", "parse_chapters"),
    "errors": ("BlockedURL", "ChaptersError", "FeedError", "FetchError", "ParseError", "TooLarge"),
    "feed_url": ("normalise_feed_url",),
    "fetch": ("DownloadResult", "FetchResult", "download", "fetch"),
    "guard": ("FetchPolicy", "check_url", "is_public_address"),
    "model": ("Enclosure", "Entry", "Feed", "Person", "TranscriptLink"),
    "parse": ("entry_identity", "normalise_enclosure_url", "parse_duration", "parse_feed"),
}
_HOME_OF = {name: module for module, names in _HOMES.items() for name in names}


def __getattr__(name: str) -> Any:
    module = _HOME_OF.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    loaded = importlib.import_module(f"{__name__}.{module}")
    return getattr(loaded, name)


class _Package(types.ModuleType):
    """`feeds.fetch` stays the function when the import system binds the submodule of that name."""

    def __setattr__(self, name: str, value: Any) -> None:
        if isinstance(value, types.ModuleType) and name in _HOMES.get(name, ()):
            value = getattr(value, name)
        super().__setattr__(name, value)


sys.modules[__name__].__class__ = _Package


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
