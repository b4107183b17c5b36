"""Exceptions raised by the feeds package; callers catch FeedError."""

from __future__ import annotations


class FeedError(Exception):
    """Base of every error the feeds package raises."""


class FetchError(FeedError):
    """A feed or enclosure could not be fetched (network, HTTP status, timeout)."""

    def __init__(self, message: str, *, status: int | None = None, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.retry_after = retry_after


class BlockedURL(FetchError):
    """The SSRF guard refused a URL, a redirect hop or a resolved address."""


class TooLarge(FetchError):
    """The decoded body went past the policy's byte cap."""


class ParseError(FeedError):
    """The bytes are not a usable feed."""


class ChaptersError(ParseError):
    """The bytes are not a usable JSON chapters file."""
