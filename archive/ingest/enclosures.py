"""The audio store: enclosures downloaded to a temp file, checked, then renamed into place."""

from __future__ import annotations

import hashlib
import json
import os
import re
from dataclasses import dataclass
from pathlib import Path

import feeds

MIN_SECONDS = 0.5


class DownloadError(Exception):
    """The enclosure could not be fetched or is not usable audio."""


@dataclass(frozen=True)
class StoredAudio:
    """A checked audio file now in the store."""

    path: str  # relative to the audio store
    content_type: str
    size: int
    sha256: str
    duration: float


# (magic bytes at offset, extension, content type); checked by content, never by URL.
_SIGNATURES: list[tuple[int, bytes, str, str]] = [
    (0, b"ID3", "mp3", "audio/mpeg"),
    (0, b"OggS", "ogg", "audio/ogg"),
    (0, b"fLaC", "flac", "audio/flac"),
    (8, b"WAVE", "wav", "audio/wav"),
    (4, b"ftyp", "m4a", "audio/mp4"),
]


def sniff(head: bytes) -> tuple[str, str] | None:
    """Extension and content type from a file's first bytes, or None if not audio.

    >>> sniff(b"ID3\\x04...")
    ('mp3', 'audio/mpeg')
    >>> sniff(b"\\xff\\xfb\\x90d")
    ('mp3', 'audio/mpeg')
    >>> sniff(b"<!DOCTYPE html>") is None
    True
    """
    for offset, magic, ext, ctype in _SIGNATURES:
        if head[offset : offset + len(magic)] == magic:
            return ext, ctype
    # An MPEG audio frame sync: 11 set bits.
    if len(head) >= 2 and head[0] == 0xFF and (head[1] & 0xE0) == 0xE0:
        return "mp3", "audio/mpeg"
    return None


def probe_duration(path: Path) -> float:
    """Seconds of audio, from the container or by decoding; raises DownloadError if undecodable."""
    try:
        import av  # PyAV: loaded only by the download stage

        with av.open(str(path)) as container:
            if not container.streams.audio:
                raise DownloadError("no audio stream in the file")
            stream = container.streams.audio[0]
            # Demux (cheap: no decoding) to the last packet: a truncated MP3 still
            # carries the full length in its Xing/ID3 header, so container.duration lies.
            end = 0.0
            for packet in container.demux(stream):
                if packet.pts is not None and packet.duration is not None and packet.time_base is not None:
                    end = max(end, float((packet.pts + packet.duration) * packet.time_base))
            header = float(container.duration) / 1_000_000 if container.duration else 0.0
            if end > 0 and header > 0 and end < 0.9 * header:
                raise DownloadError(f"truncated: the file's header says {header:.0f} s, only {end:.1f} s present")
            if end > 0:
                return end
            container.seek(0)
            seconds = 0.0
            for frame in container.decode(stream):
                seconds = float(frame.time or 0) + frame.samples / float(frame.sample_rate or 1)
            return seconds
    except DownloadError:
        raise
    except Exception as exc:  # PyAV raises many error types for broken input
        raise DownloadError(f"audio does not decode: {exc}") from exc


def fetch_enclosure(
    audio_dir: Path, episode_id: int, url: str, policy: feeds.FetchPolicy, declared_duration: float | None
) -> StoredAudio:
    """Download an enclosure (resuming a partial one), check it is real audio, and store it.

    The redirect chain (tracking prefixes, then a signed CDN URL that expires in
    minutes) is followed afresh on every call; only the feed's URL is remembered.
    """
    audio_dir.mkdir(parents=True, exist_ok=True)
    tmp_dir = audio_dir / ".partial"
    tmp_dir.mkdir(exist_ok=True)
    part = tmp_dir / f"{episode_id:08d}.part"
    meta = tmp_dir / f"{episode_id:08d}.json"
    keep_partial = False
    try:
        try:
            size = _download_resuming(url, part, meta, policy)
        except OSError as exc:
            # Disk full (ENOSPC) or over a file size limit (EFBIG): the episode's error,
            # not the batch's crash; the partial file goes, freeing the space.
            raise DownloadError(f"cannot write the audio file: {exc}") from exc
        with open(part, "rb") as fh:
            head = fh.read(64)
        if size == 0:
            raise DownloadError("the enclosure is empty (0 bytes)")
        kind = sniff(head)
        if kind is None:
            if head.lstrip()[:15].lower().startswith((b"<!doctype html", b"<html", b"<?xml", b"<head")):
                raise DownloadError("the enclosure URL returned an HTML/XML page, not audio")
            preview = head[:20].decode("latin-1").encode("unicode_escape").decode()
            raise DownloadError(f"not an audio file (starts with {preview!r})")
        ext, ctype = kind
        duration = probe_duration(part)
        if duration < MIN_SECONDS:
            raise DownloadError(f"audio is only {duration:.2f} s long: empty or truncated")
        if declared_duration and duration < 0.5 * declared_duration:
            raise DownloadError(
                f"audio is {duration:.0f} s but the feed declares {declared_duration:.0f} s: truncated?"
            )
        digest = _sha256(part)
        name = f"{episode_id:08d}.{ext}"
        os.replace(part, audio_dir / name)
        _fsync_dir(audio_dir)
        return StoredAudio(name, ctype, size, digest, duration)
    except _Interrupted:
        # A broken transfer: keep the bytes so the next attempt asks for the rest.
        keep_partial = True
        raise
    finally:
        if not keep_partial:
            part.unlink(missing_ok=True)
            meta.unlink(missing_ok=True)


class _Interrupted(DownloadError):
    """The transfer broke after some bytes arrived; worth resuming."""


def _download_resuming(url: str, part: Path, meta: Path, policy: feeds.FetchPolicy) -> int:
    """Fill part with the enclosure, resuming from its current size when safe; returns its size."""
    offset, if_range = _resume_point(url, part, meta)

    def remember(etag: str | None, last_modified: str | None) -> None:
        meta.write_text(json.dumps({"url": url, "etag": etag, "last_modified": last_modified}))

    for attempt in range(2):
        with open(part, "r+b" if offset else "w+b") as fh:
            try:
                result = feeds.download(url, fh, policy, offset=offset, if_range=if_range, on_validators=remember)
            except feeds.FetchError as exc:
                fh.flush()
                os.fsync(fh.fileno())
                got = fh.seek(0, os.SEEK_END)
                if exc.status == 416 and attempt == 0:
                    # Our offset is past the server's end (the file changed): start over.
                    offset, if_range = 0, None
                    continue
                resumable = got > 0 and exc.status is None and not isinstance(exc, feeds.TooLarge | feeds.BlockedURL)
                detail = _redact(str(exc))
                message = f"download failed after {got} bytes: {detail}" if got else f"download failed: {detail}"
                if resumable:
                    raise _Interrupted(message) from exc
                raise DownloadError(message) from exc
            except feeds.FeedError as exc:
                raise DownloadError(f"download failed: {_redact(str(exc))}") from exc
            fh.flush()
            os.fsync(fh.fileno())
            return result.bytes_written
    raise DownloadError("download failed: range not satisfiable twice")


_URL_QUERY = re.compile(r"(https?://[^\s?#]+)\?[^\s]*")


def _redact(message: str) -> str:
    """message with URL query strings cut: signed CDN URLs are credentials, never stored.

    >>> _redact("HTTP 403 from https://cdn.example/a.mp3?Signature=abc&Expires=1: no")
    'HTTP 403 from https://cdn.example/a.mp3?…: no'
    """
    return _URL_QUERY.sub(lambda m: m.group(1) + "?…" + (":" if m.group(0).endswith(":") else ""), message)


def _resume_point(url: str, part: Path, meta: Path) -> tuple[int, str | None]:
    """Offset and If-Range validator for a partial download of url, or (0, None)."""
    try:
        saved = json.loads(meta.read_text())
        size = part.stat().st_size
    except (OSError, ValueError):
        return 0, None
    if not isinstance(saved, dict) or saved.get("url") != url or size == 0:
        return 0, None
    etag = saved.get("etag")
    # If-Range needs a strong validator (RFC 9110 13.1.5): no weak ETags.
    validator = etag if etag and not etag.startswith("W/") else saved.get("last_modified")
    if not validator:
        # Without a validator a changed file would be spliced onto the old bytes.
        return 0, None
    return size, validator


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
