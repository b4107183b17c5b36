"""Transcript text formats: WebVTT, SRT, Podcast Index JSON and plain text (no file I/O)."""

from __future__ import annotations

import html
import json
import re
from typing import Any

from transcribe.errors import TranscriptFormatError
from transcribe.result import Segment, Transcript

_TIMING_RE = re.compile(r"^\s*(\S+)\s+-->\s+(\S+)")
_TIMESTAMP_RE = re.compile(r"^(?:(\d+):)?([0-5]?\d):([0-5]?\d)[.,](\d{1,3})$")
_VOICE_RE = re.compile(r"^<v(?:\.[^\s>]*)?(?:\s+([^>]*))?>")
_NON_CUE_RE = re.compile(r"^(?:NOTE|STYLE|REGION)(?:[ \t]|$)")
_TAG_RE = re.compile(r"<[^>]*>")
# SRT has no escaping; only these formatting tags are common enough to strip on input.
_SRT_TAG_RE = re.compile(r"</?(?:b|i|u|font)(?:\s[^>]*)?>", re.IGNORECASE)


def format_timestamp(seconds: float, decimal: str = ".") -> str:
    """HH:MM:SS.mmm (VTT) or, with decimal=",", HH:MM:SS,mmm (SRT).

    >>> format_timestamp(3725.5), format_timestamp(59.9999, ",")
    ('01:02:05.500', '00:01:00,000')
    """
    ms = max(0, round(seconds * 1000))
    hours, ms = divmod(ms, 3_600_000)
    minutes, ms = divmod(ms, 60_000)
    secs, ms = divmod(ms, 1000)
    return f"{hours:02d}:{minutes:02d}:{secs:02d}{decimal}{ms:03d}"


def parse_timestamp(text: str) -> float:
    """Seconds from HH:MM:SS.mmm, MM:SS.mmm (VTT may omit hours) or HH:MM:SS,mmm.

    >>> parse_timestamp("01:02:05.500"), parse_timestamp("02:05,5")
    (3725.5, 125.5)
    """
    match = _TIMESTAMP_RE.match(text.strip())
    if not match:
        raise TranscriptFormatError(f"bad timestamp {text!r}")
    hours, minutes, secs, frac = match.groups()
    # "5,5" means 500 ms in the wild even though both specs want three digits.
    ms = int(frac.ljust(3, "0"))
    # Integer milliseconds first, so 1.735 parses to the float literal 1.735.
    return ((int(hours or 0) * 3600 + int(minutes) * 60 + int(secs)) * 1000 + ms) / 1000


def to_vtt(t: Transcript) -> str:
    """WebVTT, one cue per segment, `<v Speaker>` when the segment has a speaker."""
    cues = ["WEBVTT\n"]
    for s in t.segments:
        text = _vtt_escape(_one_line(s.text))
        if s.speaker:
            text = f"<v {_vtt_escape(_one_line(s.speaker))}>{text}"
        cues.append(f"{format_timestamp(s.start)} --> {format_timestamp(s.end)}\n{text}\n")
    return "\n".join(cues)


def to_srt(t: Transcript) -> str:
    """SubRip, numbered from 1; SRT has no speaker syntax, so speakers are left out."""
    cues = []
    for i, s in enumerate(t.segments, 1):
        start, end = format_timestamp(s.start, ","), format_timestamp(s.end, ",")
        cues.append(f"{i}\n{start} --> {end}\n{_one_line(s.text)}\n")
    return "\n".join(cues)


def to_podcast_json(t: Transcript) -> str:
    """Podcast Index JSON transcript (podcast namespace, type application/json)."""
    segments: list[dict[str, Any]] = []
    for s in t.segments:
        item: dict[str, Any] = {}
        if s.speaker:
            item["speaker"] = s.speaker
        item.update(startTime=round(s.start, 3), endTime=round(s.end, 3), body=s.text)
        segments.append(item)
    return json.dumps({"version": "1.0.0", "segments": segments}, ensure_ascii=False, indent=1)


def to_text(t: Transcript) -> str:
    """Plain text: one paragraph per speaker turn, or per segment when there are no speakers."""
    paragraphs: list[str] = []
    last_speaker: str | None = None
    for s in t.segments:
        if s.speaker and s.speaker == last_speaker and paragraphs:
            paragraphs[-1] += " " + s.text
        else:
            paragraphs.append(f"{s.speaker}: {s.text}" if s.speaker else s.text)
        last_speaker = s.speaker
    return "\n\n".join(paragraphs) + ("\n" if paragraphs else "")


def parse_vtt(text: str) -> Transcript:
    """Segments from a WebVTT file's text; NOTE, STYLE and REGION blocks are skipped."""
    blocks = _blocks(text)
    if not blocks or not blocks[0][0].startswith("WEBVTT"):
        raise TranscriptFormatError("not a WebVTT file: no WEBVTT header")
    segments = []
    for lines in blocks[1:]:
        if _NON_CUE_RE.match(lines[0]):
            continue
        timing = next((i for i, line in enumerate(lines[:2]) if "-->" in line), None)
        if timing is None:
            continue  # a stray block; players ignore it too
        start, end = _timing(lines[timing])
        body = " ".join(lines[timing + 1 :])
        speaker = None
        voice = _VOICE_RE.match(body)
        if voice:
            speaker = html.unescape(voice.group(1) or "").strip() or None
        # Entities are decoded after tags are removed, so "&lt;b&gt;" stays literal text.
        body = html.unescape(_TAG_RE.sub("", body)).strip()
        segments.append(Segment(start, end, body, speaker=speaker))
    return _publisher(segments)


def parse_srt(text: str) -> Transcript:
    """Segments from a SubRip file's text."""
    segments = []
    for lines in _blocks(text):
        timing = next((i for i, line in enumerate(lines[:2]) if "-->" in line), None)
        if timing is None:
            raise TranscriptFormatError(f"SRT block without timing: {lines[0][:60]!r}")
        start, end = _timing(lines[timing])
        body = _SRT_TAG_RE.sub("", " ".join(lines[timing + 1 :])).strip()
        segments.append(Segment(start, end, body))
    return _publisher(segments)


def parse_podcast_json(text: str) -> Transcript:
    """Segments from a Podcast Index JSON transcript."""
    try:
        data = json.loads(text)
        segments = [
            Segment(
                float(item["startTime"]),
                float(item["endTime"]),
                str(item.get("body", "")).strip(),
                speaker=(str(item["speaker"]).strip() or None) if item.get("speaker") else None,
            )
            for item in data["segments"]
        ]
    except (ValueError, KeyError, TypeError) as exc:
        raise TranscriptFormatError(f"not a Podcast Index JSON transcript: {exc!r}") from exc
    return _publisher(segments)


def _publisher(segments: list[Segment]) -> Transcript:
    # Publisher files carry no audio duration; the last cue end is the best we know.
    duration = max((s.end for s in segments), default=0.0)
    return Transcript(language="", segments=tuple(segments), duration=duration, origin="publisher")


def _blocks(text: str) -> list[list[str]]:
    """Blank-line separated blocks of non-empty lines, BOM and CRLF tolerated."""
    text = text.lstrip("\ufeff").replace("\r\n", "\n").replace("\r", "\n")
    blocks = [[line for line in block.split("\n") if line.strip()] for block in re.split(r"\n\s*\n", text)]
    return [b for b in blocks if b]


def _timing(line: str) -> tuple[float, float]:
    match = _TIMING_RE.match(line)
    if not match:
        raise TranscriptFormatError(f"bad cue timing {line!r}")
    return parse_timestamp(match.group(1)), parse_timestamp(match.group(2))


def _one_line(text: str) -> str:
    # A blank line would end the cue early; cue text must stay one block.
    return " ".join(text.split())


def _vtt_escape(text: str) -> str:
    # WebVTT cue text: & and < start markup, and escaping > also keeps "-->" out of cues.
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
