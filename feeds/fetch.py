"""Fetch feeds and enclosures over HTTP(S) under the SSRF guard, caps and deadline."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import BinaryIO

import httpx

from .decode import decoded_chunks
from .errors import FetchError, TooLarge
from .guard import FetchPolicy, check_url
from .transport import guarded_client

_REDIRECTS = (301, 302, 303, 307, 308)
_PERMANENT = (301, 308)
# Audio is compressed already (gzip gains a few percent on MP3, AAC, Opus; a WAV of speech
# maybe half): a coded enclosure that grows more than this is a bomb, refused before it
# fills the disk rather than at the download cap.
AUDIO_MAX_EXPANSION = 8.0


@dataclass(frozen=True)
class FetchResult:
    """A fetched feed body and the validators to send next time."""

    url: str
    status: int
    content: bytes
    etag: str | None
    last_modified: str | None
    content_type: str | None
    not_modified: bool
    permanent_url: str | None


@dataclass(frozen=True)
class DownloadResult:
    """What download() wrote (final_url is for logs only: signed CDN URLs expire)."""

    bytes_written: int
    content_type: str | None
    final_url: str
    resumed: bool = False
    etag: str | None = None
    last_modified: str | None = None


@dataclass(frozen=True)
class _Opened:
    """A final (non-redirect) response and where the redirect chain led."""

    response: httpx.Response
    url: str
    permanent_url: str | None


def fetch(url: str, policy: FetchPolicy, *, etag: str | None = None, last_modified: str | None = None) -> FetchResult:
    """Conditional GET of a feed; 304 gives not_modified, >= 400 raises FetchError."""
    headers = {}
    if etag:
        headers["If-None-Match"] = etag
    if last_modified:
        headers["If-Modified-Since"] = last_modified
    with _open(url, policy, headers) as opened:
        resp = opened.response
        result = FetchResult(
            url=opened.url,
            status=resp.status_code,
            content=b"",
            # A 304 may omit validators (RFC 9110 15.4.5); keep the ones we sent.
            etag=resp.headers.get("etag") or etag,
            last_modified=resp.headers.get("last-modified") or last_modified,
            content_type=resp.headers.get("content-type"),
            not_modified=resp.status_code == 304,
            permanent_url=opened.permanent_url,
        )
        if result.not_modified:
            return result
        body = bytearray()
        for chunk in _body(resp, policy, opened.url):
            body += chunk
        return replace(result, content=bytes(body))


def download(
    url: str,
    dest: BinaryIO,
    policy: FetchPolicy,
    *,
    offset: int = 0,
    if_range: str | None = None,
    on_validators: Callable[[str | None, str | None], None] | None = None,
) -> DownloadResult:
    """Stream an enclosure into dest under the guard, byte cap and deadline.

    With offset > 0 (dest already holds that many bytes) ask for the rest with
    Range + If-Range; a server that answers 200 instead, or a 206 whose
    Content-Range does not start at offset, gets dest truncated and a full
    download. on_validators hears the ETag/Last-Modified before the body comes,
    so a caller can keep them for the next resume even if this one breaks.
    """
    # No content coding: audio gains nothing from one, byte ranges would address the coded
    # body, and a coded body's size on the wire says nothing of what it writes to disk.
    headers = {"Accept-Encoding": "identity"}
    if offset > 0:
        headers["Range"] = f"bytes={offset}-"
        if if_range:
            headers["If-Range"] = if_range
    with _open(url, policy, headers) as opened:
        resp = opened.response
        if resp.status_code == 304:
            raise FetchError(f"unexpected 304 for {url}", status=304)
        etag, last_modified = resp.headers.get("etag"), resp.headers.get("last-modified")
        if on_validators is not None:
            on_validators(etag, last_modified)
        resumed = offset > 0 and resp.status_code == 206 and _range_start(resp) == offset
        if not resumed:
            if resp.status_code == 206:
                raise FetchError(f"206 with unusable Content-Range from {url}", status=206)
            dest.seek(0)
            dest.truncate()
            offset = 0
        else:
            dest.seek(offset)
        written = 0
        capped = replace(policy, max_bytes=max(policy.max_bytes - offset, 0))
        # A server may code the body all the same: decoded under the caps and the expansion limit.
        for chunk in _body(resp, capped, opened.url, AUDIO_MAX_EXPANSION):
            dest.write(chunk)
            written += len(chunk)
        return DownloadResult(
            bytes_written=offset + written,
            content_type=resp.headers.get("content-type"),
            final_url=opened.url,
            resumed=resumed,
            etag=etag,
            last_modified=last_modified,
        )


def _range_start(resp: httpx.Response) -> int | None:
    """First byte position of a 206's Content-Range ("bytes 100-199/200"), or None."""
    value = resp.headers.get("content-range", "")
    unit, _, rest = value.strip().partition(" ")
    start, dash, _ = rest.partition("-")
    if unit.lower() != "bytes" or not dash or not start.strip().isdigit():
        return None
    return int(start)


@contextmanager
def _open(url: str, policy: FetchPolicy, headers: dict[str, str]) -> Iterator[_Opened]:
    """Follow redirects by hand, checking every hop, and yield the final response."""
    deadline = time.monotonic() + policy.deadline
    permanent_url: str | None = None
    still_permanent = True
    try:
        with guarded_client(policy, deadline) as client:
            for _hop in range(policy.max_redirects + 1):
                check_url(url, policy)
                resp = client.send(client.build_request("GET", url, headers=headers), stream=True)
                try:
                    if resp.status_code not in _REDIRECTS:
                        _raise_for_status(resp, url)
                        yield _Opened(resp, url, permanent_url)
                        return
                    target = _location(resp, url)
                finally:
                    resp.close()
                # Only an unbroken run of permanent redirects from the stored URL
                # says "update your subscription" (RFC 9110 15.4.2, 15.4.9).
                still_permanent = still_permanent and resp.status_code in _PERMANENT
                if still_permanent:
                    permanent_url = target
                url = target
            raise FetchError(f"more than {policy.max_redirects} redirects, last {url}")
    except httpx.TimeoutException as exc:
        late = time.monotonic() >= deadline
        raise FetchError(f"{'deadline exceeded' if late else 'timeout'} fetching {url}: {exc}") from exc
    except (httpx.HTTPError, httpx.InvalidURL) as exc:
        raise FetchError(f"cannot fetch {url}: {exc}") from exc


def _location(resp: httpx.Response, url: str) -> str:
    """The absolute redirect target, or FetchError when it is missing or malformed."""
    location = resp.headers.get("location")
    if not location:
        raise FetchError(f"redirect {resp.status_code} without Location from {url}", status=resp.status_code)
    try:
        return str(httpx.URL(url).join(location.strip()))
    except (httpx.InvalidURL, ValueError) as exc:
        raise FetchError(f"malformed Location {location!r} from {url}: {exc}") from exc


def _raise_for_status(resp: httpx.Response, url: str) -> None:
    """Raise FetchError (with Retry-After) for error and unusable statuses."""
    status = resp.status_code
    if status >= 400 or (300 <= status < 400 and status != 304):
        raise FetchError(
            f"HTTP {status} from {url}",
            status=status,
            retry_after=parse_retry_after(resp.headers.get("retry-after")),
        )


def _body(resp: httpx.Response, policy: FetchPolicy, url: str, max_expansion: float | None = None) -> Iterator[bytes]:
    """The decoded body, refused early when Content-Length already says too large."""
    length = resp.headers.get("content-length", "")
    encoding = resp.headers.get("content-encoding")
    # Coded or not, Content-Length counts wire bytes, which are capped too.
    if length.isdigit() and int(length) > policy.max_bytes:
        raise TooLarge(f"{url}: Content-Length {length} over {policy.max_bytes} bytes")
    try:
        # No chunk_size: httpx would hold bytes back until a chunk fills, and a
        # broken transfer would lose them (nothing to resume from).
        yield from decoded_chunks(resp.iter_raw(), encoding, policy.max_bytes, max_expansion)
    except TooLarge as exc:
        raise TooLarge(f"{url}: {exc}") from None


def parse_retry_after(value: str | None, now: datetime | None = None) -> float | None:
    """Seconds to wait from a Retry-After header (delay-seconds or HTTP-date).

    >>> parse_retry_after("7")
    7.0
    >>> parse_retry_after("Wed, 21 Oct 2015 07:28:30 GMT",
    ...                   now=datetime(2015, 10, 21, 7, 28, tzinfo=UTC))
    30.0
    >>> parse_retry_after("soon") is None, parse_retry_after(None) is None
    (True, True)
    """
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    now = now or datetime.now(UTC)
    return max(0.0, (when - now).total_seconds())
