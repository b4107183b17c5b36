"""Transcript formats: exports, parsers and their round trips."""

from __future__ import annotations

import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

from transcribe.errors import TranscriptFormatError
from transcribe.formats import (
    format_timestamp,
    parse_podcast_json,
    parse_srt,
    parse_timestamp,
    parse_vtt,
    to_podcast_json,
    to_srt,
    to_text,
    to_vtt,
)
from transcribe.result import Segment, Transcript

pytestmark = pytest.mark.fast

TRANSCRIPT = Transcript(
    language="fr",
    duration=3725.0,
    segments=(
        Segment(0.0, 4.25, "Bonjour et bienvenue à l'émission.", speaker="Marie Tremblay"),
        Segment(4.25, 9.5, "Merci, c'est un plaisir d'être ici.", speaker="Jean Côté"),
        Segment(9.5, 15.001, "Parlons de R&D, de <html> et de flèches --> ici.", speaker="Jean Côté"),
        Segment(3600.0, 3724.999, "Au revoir !"),
    ),
)


def _keep(t: Transcript, speakers: bool = True) -> list[tuple[float, float, str, str | None]]:
    return [(s.start, s.end, s.text, s.speaker if speakers else None) for s in t.segments]


def test_vtt_round_trip_with_speakers() -> None:
    vtt = to_vtt(TRANSCRIPT)
    assert vtt.startswith("WEBVTT\n\n00:00:00.000 --> 00:00:04.250\n<v Marie Tremblay>Bonjour")
    assert "01:00:00.000 --> 01:02:04.999\nAu revoir !" in vtt
    back = parse_vtt(vtt)
    assert _keep(back) == _keep(TRANSCRIPT)
    assert back.origin == "publisher" and back.language == ""
    assert back.duration == pytest.approx(3724.999)


def test_vtt_escapes_markup_and_arrows() -> None:
    vtt = to_vtt(TRANSCRIPT)
    assert "R&amp;D, de &lt;html&gt; et de flèches --&gt; ici." in vtt
    # The only "-->" left in the file are cue timings.
    assert vtt.count("-->") == len(TRANSCRIPT.segments)
    speaker = Transcript("en", (Segment(0, 1, "hi", speaker="A&B <co>"),), 1.0)
    assert "<v A&amp;B &lt;co&gt;>hi" in to_vtt(speaker)
    assert parse_vtt(to_vtt(speaker)).segments[0].speaker == "A&B <co>"


def test_vtt_keeps_cue_on_one_block() -> None:
    t = Transcript("en", (Segment(0, 1, "first line\n\nsecond line"),), 1.0)
    assert parse_vtt(to_vtt(t)).segments[0].text == "first line second line"


def test_parse_publisher_vtt() -> None:
    text = (
        "\ufeffWEBVTT - made by hand\r\nKind: captions\r\n\r\n"
        "NOTE a comment --> not a cue\r\n\r\n"
        "STYLE\r\n::cue { color: red }\r\n\r\n"
        "intro\r\n00:01.000 --> 00:04.500 align:start position:10%\r\n"
        "<v.loud Anne>Salut <b>tout</b> le\r\nmonde &amp; bienvenue</v>\r\n\r\n"
        "00:00:05.000 --> 00:00:06.000\r\n<c.yellow>Oui</c> &lt;3\r\n"
    )
    t = parse_vtt(text)
    assert _keep(t) == [(1.0, 4.5, "Salut tout le monde & bienvenue", "Anne"), (5.0, 6.0, "Oui <3", None)]


def test_parse_vtt_rejects_other_text() -> None:
    with pytest.raises(TranscriptFormatError):
        parse_vtt("<html><body>not found</body></html>")
    with pytest.raises(TranscriptFormatError):
        parse_vtt("WEBVTT\n\n00:00:01.000 --> soon\nhello\n")


def test_srt_round_trip_without_speakers() -> None:
    srt = to_srt(TRANSCRIPT)
    assert srt.startswith("1\n00:00:00,000 --> 00:00:04,250\nBonjour")
    assert "4\n01:00:00,000 --> 01:02:04,999\nAu revoir !\n" in srt
    back = parse_srt(srt)
    assert _keep(back) == _keep(TRANSCRIPT, speakers=False)


def test_parse_srt_strips_formatting_tags() -> None:
    t = parse_srt("1\r\n00:00:01,500 --> 00:00:02,000\r\n<i>Hello</i> <font color=red>you</font>\r\n")
    assert _keep(t) == [(1.5, 2.0, "Hello you", None)]
    with pytest.raises(TranscriptFormatError):
        parse_srt("1\nhello\n")


def test_podcast_json_round_trip() -> None:
    text = to_podcast_json(TRANSCRIPT)
    data = json.loads(text)
    assert data["version"] == "1.0.0"
    assert data["segments"][0] == {
        "speaker": "Marie Tremblay",
        "startTime": 0.0,
        "endTime": 4.25,
        "body": "Bonjour et bienvenue à l'émission.",
    }
    assert "speaker" not in data["segments"][3]
    assert "à l'émission" in text  # UTF-8 as written, not \\u escapes
    back = parse_podcast_json(text)
    assert _keep(back) == _keep(TRANSCRIPT) and back.origin == "publisher"


def test_parse_podcast_json_rejects_garbage() -> None:
    for bad in ("{", "[]", '{"segments": [{"body": "x"}]}', '{"segments": [{"startTime": "a", "endTime": 1}]}'):
        with pytest.raises(TranscriptFormatError):
            parse_podcast_json(bad)


def test_text_groups_speaker_turns() -> None:
    assert to_text(TRANSCRIPT) == (
        "Marie Tremblay: Bonjour et bienvenue à l'émission.\n\n"
        "Jean Côté: Merci, c'est un plaisir d'être ici. "
        "Parlons de R&D, de <html> et de flèches --> ici.\n\n"
        "Au revoir !\n"
    )
    assert to_text(Transcript("en", (), 0.0)) == ""


@given(st.integers(min_value=0, max_value=100 * 3600 * 1000 - 1))
def test_timestamp_round_trip_milliseconds(ms: int) -> None:
    for decimal in (".", ","):
        text = format_timestamp(ms / 1000, decimal)
        assert len(text.split(":")[0]) == 2
        assert round(parse_timestamp(text) * 1000) == ms


@given(st.floats(min_value=0, max_value=359_999.999, allow_nan=False))
def test_timestamp_is_nearest_millisecond(seconds: float) -> None:
    text = format_timestamp(seconds)
    assert text[-4] == "." and text[2] == ":" and text[5] == ":"
    assert abs(parse_timestamp(text) - seconds) <= 0.0005 + 1e-9


@given(
    st.lists(
        st.tuples(
            st.integers(0, 10**7),
            st.integers(0, 10**5),
            st.text(st.characters(blacklist_categories=("Cs", "Cc", "Zl", "Zp")), min_size=1)
            .map(lambda s: " ".join(s.split()))
            .filter(bool),
        ),
        max_size=5,
    )
)
def test_vtt_round_trip_any_text(cues: list[tuple[int, int, str]]) -> None:
    segments = tuple(Segment(a / 1000, (a + d) / 1000, text) for a, d, text in cues)
    back = parse_vtt(to_vtt(Transcript("en", segments, 0.0)))
    assert _keep(back) == [(s.start, s.end, s.text, None) for s in segments]
