"""Content-Encoding decoding that never inflates past a byte cap, decoded or on the wire."""

from __future__ import annotations

import zlib
from collections.abc import Iterable, Iterator

from .errors import FetchError, TooLarge

_STEP = 64 * 1024  # most output one decompress call may produce
# Decoded bytes a coded body may always reach, whatever its expansion.
_EXPANSION_ALLOWANCE = 1024 * 1024
_GZIP_MAGIC = b"\x1f\x8b"


def decoded_chunks(
    raw: Iterable[bytes], content_encoding: str | None, limit: int, max_expansion: float | None = None
) -> Iterator[bytes]:
    """Yield the decoded body of raw chunks; raise TooLarge past limit bytes, decoded or on the wire.

    With max_expansion, a coded body whose decoded size grows past that many times its
    wire size (plus 1 MiB) is refused as soon as it does: a bomb, not content.
    """
    codings = [c.strip().lower() for c in (content_encoding or "").split(",")]
    codings = [c for c in codings if c and c != "identity"]
    wire = 0

    def counted() -> Iterator[bytes]:
        nonlocal wire
        for data in raw:
            wire += len(data)
            yield data

    if not codings:
        chunks: Iterable[bytes] = counted()
    elif codings in (["gzip"], ["x-gzip"], ["deflate"]):
        chunks = _inflate(counted(), gzip=codings[0] != "deflate")
    else:
        raise FetchError(f"unsupported Content-Encoding {content_encoding!r}")
    total = 0
    for chunk in chunks:
        total += len(chunk)
        if total > limit:
            raise TooLarge(f"body larger than {limit} bytes")
        # Gzip members that decode to nothing could otherwise stream forever.
        if wire > limit:
            raise TooLarge(f"more than {limit} bytes on the wire")
        if max_expansion is not None and codings and total > wire * max_expansion + _EXPANSION_ALLOWANCE:
            raise TooLarge(
                f"{codings[0]}-coded body expands more than {max_expansion:g} times"
                f" ({wire} bytes on the wire gave {total}): refused"
            )
        if chunk:
            yield chunk


def _inflate(raw: Iterable[bytes], *, gzip: bool) -> Iterator[bytes]:
    """Inflate gzip or deflate data in bounded steps, so a bomb cannot blow up memory."""
    inflater: zlib._Decompress | None = zlib.decompressobj(16 + zlib.MAX_WBITS) if gzip else None
    pending = b""
    try:
        for data in raw:
            data, pending = pending + data, b""
            if inflater is None:
                # "deflate" should be zlib-wrapped (RFC 9110 8.4.1.2) but some
                # servers send raw deflate; the zlib header's low nibble is 8.
                raw_deflate = not data or (data[0] & 0x0F) != 8
                inflater = zlib.decompressobj(-zlib.MAX_WBITS if raw_deflate else zlib.MAX_WBITS)
            while data:
                if inflater.eof:
                    # Concatenated gzip members are legal, even across chunks; other
                    # trailing bytes are junk.
                    if gzip and len(data) < 2 and _GZIP_MAGIC.startswith(data):
                        pending = data
                        break
                    if not (gzip and data.startswith(_GZIP_MAGIC)):
                        return
                    inflater = zlib.decompressobj(16 + zlib.MAX_WBITS)
                yield inflater.decompress(data, _STEP)
                data = inflater.unused_data if inflater.eof else inflater.unconsumed_tail
        if inflater is not None:
            yield inflater.flush()
    except zlib.error as exc:
        raise FetchError(f"corrupt compressed body: {exc}") from exc
