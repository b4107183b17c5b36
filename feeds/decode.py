"""Content-Encoding decoding that never inflates past a byte cap."""

from __future__ import annotations

import zlib
from collections.abc import Iterable, Iterator

from .errors import FetchError, TooLarge

_STEP = 64 * 1024  # most output one decompress call may produce


def decoded_chunks(raw: Iterable[bytes], content_encoding: str | None, limit: int) -> Iterator[bytes]:
    """Yield the decoded body of raw chunks; raise TooLarge once past limit bytes."""
    codings = [c.strip().lower() for c in (content_encoding or "").split(",")]
    codings = [c for c in codings if c and c != "identity"]
    if not codings:
        chunks: Iterable[bytes] = raw
    elif codings in (["gzip"], ["x-gzip"], ["deflate"]):
        chunks = _inflate(raw, gzip=codings[0] != "deflate")
    else:
        raise FetchError(f"unsupported Content-Encoding {content_encoding!r}")
    total = 0
    for chunk in chunks:
        total += len(chunk)
        if total > limit:
            raise TooLarge(f"body larger than {limit} bytes")
        if chunk:
            yield chunk


def _inflate(raw: Iterable[bytes], *, gzip: bool) -> Iterator[bytes]:
    """Inflate gzip or deflate data in bounded steps, so a bomb cannot blow up memory."""
    inflater: zlib._Decompress | None = zlib.decompressobj(16 + zlib.MAX_WBITS) if gzip else None
    try:
        for data in raw:
            if inflater is None:
                # "deflate" should be zlib-wrapped (RFC 9110 8.4.1.2) but some
                # servers send raw deflate; the zlib header's low nibble is 8.
                raw_deflate = not data or (data[0] & 0x0F) != 8
                inflater = zlib.decompressobj(-zlib.MAX_WBITS if raw_deflate else zlib.MAX_WBITS)
            while data:
                yield inflater.decompress(data, _STEP)
                data = inflater.unconsumed_tail
                if inflater.eof:
                    # Concatenated gzip members are legal; other trailing bytes are junk.
                    rest = inflater.unused_data
                    if not (gzip and rest.startswith(b"\x1f\x8b")):
                        return
                    inflater = zlib.decompressobj(16 + zlib.MAX_WBITS)
                    data = rest
        if inflater is not None:
            yield inflater.flush()
    except zlib.error as exc:
        raise FetchError(f"corrupt compressed body: {exc}") from exc
