"""Hallucination and loop detection, and the safer re-run of a suspect window with a real model."""

from __future__ import annotations

import os

os.environ["HF_HUB_OFFLINE"] = "1"

from pathlib import Path

import pytest

from transcribe.engine import Engine, EngineOptions, _decode
from transcribe.quality import longest_repeat, suspicions
from transcribe.result import Segment

AUDIO = Path(__file__).parent / "data" / "audio"


def test_a_decoder_loop_is_caught_by_repeats_and_compression():
    # The shape of a real Whisper loop: one phrase over and over, highly compressible.
    loop = Segment(0, 30, "Merci d'avoir regardé. " * 6, avg_logprob=-0.3, no_speech_prob=0.1, compression_ratio=3.1)
    assert longest_repeat(loop.text) == 6
    assert suspicions(loop) == ("compression", "repeat")


def test_text_over_silence_is_caught_and_normal_speech_is_not():
    silence = Segment(
        40, 44, "Sous-titrage Société Radio-Canada", avg_logprob=-1.4, no_speech_prob=0.85, compression_ratio=1.1
    )
    assert suspicions(silence) == ("silence",)
    speech = Segment(
        0,
        11,
        "And so my fellow Americans, ask not what your country can do for you, ask what you can do for your country.",
        avg_logprob=-0.2,
        no_speech_prob=0.01,
        compression_ratio=1.5,
    )
    assert suspicions(speech) == ()
    # A confident segment with a high no-speech probability is speech after a pause, not silence.
    assert suspicions(Segment(0, 2, "Oui.", avg_logprob=-0.2, no_speech_prob=0.9, compression_ratio=0.5)) == ()


@pytest.fixture(scope="module")
def tiny(tmp_path_factory: pytest.TempPathFactory) -> Engine:
    return Engine(EngineOptions(model="tiny.en", batch_size=0), tmp_path_factory.mktemp("models"))


def test_a_suspect_window_is_re_decoded_and_kept_on_the_record(tiny: Engine):
    # A real model cannot be made to loop on demand: inject the looped segment over jfk's speech.
    audio = _decode(AUDIO / "jfk.flac")
    looped = Segment(
        0.0,
        11.0,
        "ask not ask not ask not ask not ask not",
        avg_logprob=-0.4,
        no_speech_prob=0.05,
        compression_ratio=2.9,
        language="en",
    )
    fine = Segment(11.0, 11.0, "unchanged", avg_logprob=-0.1, no_speech_prob=0.0, compression_ratio=1.0)
    repaired, reruns = tiny.repair(audio, [looped, fine], "en")
    assert reruns == 1
    assert repaired[-1] is fine
    redone = repaired[:-1]
    assert redone and all(s.rerun and s.flags == "compression,repeat" for s in redone)
    text = " ".join(s.text for s in redone).lower()
    assert "ask not what your country can do for you" in text.replace(",", "")
    # Times are back in episode time and the words kept their timestamps.
    words = [w for s in redone for w in s.words]
    assert words and 0.0 <= words[0].start < words[-1].end <= 11.0
    assert longest_repeat(text) < 4
