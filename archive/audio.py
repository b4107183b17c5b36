"""The audio store: enclosures downloaded to a temp file, checked, then renamed into place."""

from __future__ import annotations

import hashlib
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path

import av

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
        with av.open(str(path)) as container:
            if not container.streams.audio:
                raise DownloadError("no audio stream in the file")
            if container.duration:
                return float(container.duration) / 1_000_000
            stream = container.streams.audio[0]
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
    """Download an enclosure, check it is real audio of a plausible length, and store it."""
    audio_dir.mkdir(parents=True, exist_ok=True)
    tmp_dir = audio_dir / ".partial"
    tmp_dir.mkdir(exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(prefix=f"{episode_id}-", dir=tmp_dir)
    tmp = Path(tmp_name)
    try:
        with os.fdopen(fd, "w+b") as fh:
            try:
                feeds.download(url, fh, policy)
            except feeds.FeedError as exc:
                raise DownloadError(f"download failed: {exc}") from exc
            fh.flush()
            os.fsync(fh.fileno())
            size = fh.tell()
            fh.seek(0)
            head = fh.read(64)
        if size == 0:
            raise DownloadError("the enclosure is empty")
        kind = sniff(head)
        if kind is None:
            preview = head[:20].decode("latin-1").encode("unicode_escape").decode()
            raise DownloadError(f"not an audio file (starts with {preview!r})")
        ext, ctype = kind
        duration = probe_duration(tmp)
        if duration < MIN_SECONDS:
            raise DownloadError(f"audio is only {duration:.2f} s long")
        if declared_duration and duration < 0.5 * declared_duration:
            raise DownloadError(
                f"audio is {duration:.0f} s but the feed declares {declared_duration:.0f} s: truncated?"
            )
        digest = _sha256(tmp)
        name = f"{episode_id:08d}.{ext}"
        os.replace(tmp, audio_dir / name)
        _fsync_dir(audio_dir)
        return StoredAudio(name, ctype, size, digest, duration)
    finally:
        tmp.unlink(missing_ok=True)


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
