"""Hallucination and loop detection, and the safer re-run of a suspect window with a real model."""

from __future__ import annotations

import os

os.environ["HF_HUB_OFFLINE"] = "1"

import functools
import subprocess
from dataclasses import replace
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import numpy as np
import pytest

from transcribe.engine import Engine, EngineOptions, _collect, _decode
from transcribe.quality import longest_repeat, suspicions
from transcribe.repair import TEMPERATURES, Attempt, Repair, RepairingPipeline, best_attempt, suspect_span
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


# --- The repair inside batched decoding (transcribe.repair) ----------------------------


class _FakeTokenizer:
    """Whisper's token layout, small: words 0-99, then end and start of transcript, then timestamps."""

    eot = 900
    sot = 901
    timestamp_begin = 1000
    words = [f"w{n}" for n in range(100)]

    def decode(self, tokens: list[int]) -> str:
        return "".join(" " + self.words[t] for t in tokens if t < self.eot)


class _FakeDecoder:
    """ctranslate2's Whisper.generate: records each call, answers `new` after each prompt's prefix."""

    def __init__(self, new: list[int]) -> None:
        self.new = new
        self.calls: list[list[list[int]]] = []

    def generate(self, encoder_output: object, prompts: list[list[int]], **kwargs: object) -> list[object]:
        self.calls.append(prompts)
        return [
            SimpleNamespace(sequences_ids=[p[p.index(901) + 3 :] + self.new], scores=[-0.1], no_speech_prob=0.01)
            for p in prompts
        ]


def _fake_pipeline(decoder: _FakeDecoder) -> RepairingPipeline:
    from faster_whisper import WhisperModel

    model = SimpleNamespace(frames_per_second=100, max_length=448, time_precision=0.02, input_stride=2, model=decoder)
    model._split_segments_by_timestamps = functools.partial(WhisperModel._split_segments_by_timestamps, model)
    return RepairingPipeline(model)  # type: ignore[arg-type]


def _ts(seconds: float) -> int:
    return _FakeTokenizer.timestamp_begin + round(seconds / 0.02)


@pytest.mark.fast
def test_only_the_suspect_window_is_decoded_again_with_the_clean_text_before_it_as_prefix():
    tok = _FakeTokenizer()
    loop = [7, 8] * 12  # "w7 w8" twelve times: repeat and compression
    chunks = [
        # A clean chunk, and one whose second segment loops before a clean third one.
        [_ts(0), 1, 2, 3, _ts(2), _ts(2), 4, 5, _ts(4)],
        [_ts(0), 10, 11, _ts(3), _ts(3), *loop, _ts(9), _ts(9), 20, 21, _ts(12)],
    ]
    meta = [{"offset": 0.0, "duration": 5.0}, {"offset": 30.0, "duration": 13.0}]
    decoder = _FakeDecoder([_ts(3.2), 30, 31, 32, _ts(8.8)])
    pipeline = _fake_pipeline(decoder)
    outputs = [{"tokens": t, "avg_logprob": -0.2, "no_speech_prob": 0.05, "prompt": [901, 950, 951]} for t in chunks]
    segmented = [pipeline._segments(tok, o, m, int(m["duration"]) * 100) for o, m in zip(outputs, meta, strict=True)]
    clean_before = [dict(s) for s in segmented[0]]
    options = SimpleNamespace(
        without_timestamps=False,
        length_penalty=1.0,
        repetition_penalty=1.0,
        suppress_blank=True,
        suppress_tokens=[],
    )
    dropped = pipeline._repair(np.zeros((2, 1500, 8), np.float32), outputs, segmented, meta, tok, options)

    assert dropped == []
    # One decoder call, for the looping window alone: the episode's prompt, then the
    # clean segment before it as a forced prefix. The clean chunk was not decoded again.
    assert decoder.calls == [[[901, 950, 951, _ts(0), 10, 11, _ts(3)]]]
    assert segmented[0] == clean_before
    assert [s["text"].strip() for s in segmented[1]] == ["w10 w11", "w30 w31 w32", "w20 w21"]
    assert pipeline.repairs == {3000: Repair(kept=1, count=1, flags="compression,repeat", temperature=0.0)}


@pytest.mark.fast
def test_a_repair_climbs_the_temperatures_only_while_it_loops():
    tok = _FakeTokenizer()
    decoder = _FakeDecoder([_ts(0), *([7, 8] * 12), _ts(9)])  # loops at every rung
    pipeline = _fake_pipeline(decoder)
    output = {"tokens": [_ts(0), *([7, 8] * 12), _ts(9)], "avg_logprob": -0.2, "no_speech_prob": 0.05}
    meta = [{"offset": 0.0, "duration": 10.0}]
    segmented = [pipeline._segments(tok, output, meta[0], 1000)]
    options = SimpleNamespace(
        without_timestamps=False, length_penalty=1.0, repetition_penalty=1.0, suppress_blank=True, suppress_tokens=[]
    )
    pipeline.model.get_prompt = lambda tokenizer, previous, without_timestamps: [901, 950, 951]
    pipeline._repair(np.zeros((1, 1500, 8), np.float32), [output], segmented, meta, tok, options)
    # Every rung tried once; the most probable attempt kept (the first, on a tie).
    assert len(decoder.calls) == len(TEMPERATURES)
    assert pipeline.repairs[0].temperature == TEMPERATURES[0]

    decoder.calls.clear()
    decoder.new = [_ts(0), 1, 2, 3, _ts(9)]  # clean at the first rung
    segmented = [pipeline._segments(tok, output, meta[0], 1000)]
    pipeline._repair(np.zeros((1, 1500, 8), np.float32), [output], segmented, meta, tok, options)
    assert len(decoder.calls) == 1
    assert [s["text"].strip() for s in segmented[0]] == ["w1 w2 w3"]


@pytest.mark.fast
def test_suspect_span_and_the_choice_among_attempts():
    fine = {"text": "Bonjour.", "compression_ratio": 0.8, "avg_logprob": -0.2, "no_speech_prob": 0.1}
    loop = {"text": "de l'Est " * 8, "compression_ratio": 5.0, "avg_logprob": -0.2, "no_speech_prob": 0.1}
    over_silence = {"text": "Merci.", "compression_ratio": 0.6, "avg_logprob": -1.5, "no_speech_prob": 0.9}
    assert suspect_span([fine, fine]) is None
    assert suspect_span([fine, loop, fine, over_silence, fine]) == (1, 3, ("compression", "repeat", "silence"))
    looped = Attempt([], "de l'Est " * 8, -0.1, 0.1, 5.0, 0.0)
    sampled = Attempt([], "Les styles de l'Ouest.", -1.4, 0.1, 1.1, 0.2)
    silent = Attempt([], "Merci.", -1.5, 0.9, 0.6, 0.4)
    assert not looped.passes and sampled.passes and silent.passes and silent.silence
    assert best_attempt([looped, sampled, silent]) is sampled
    assert best_attempt([looped, replace(looped, avg_logprob=-0.05, temperature=0.2)]).temperature == 0.2


@pytest.mark.fast
def test_collect_marks_only_the_repaired_segments_of_a_chunk():
    def raw(seek: int, start: float, text: str) -> SimpleNamespace:
        return SimpleNamespace(
            seek=seek, start=start, end=start + 1, text=text, words=[], avg_logprob=-0.2,
            no_speech_prob=0.1, compression_ratio=1.0,
        )  # fmt: skip

    segments = _collect(
        [raw(0, 0, "clean"), raw(3000, 30, "before"), raw(3000, 31, "redone"), raw(3000, 32, "after")],
        "fr",
        40.0,
        None,
        repairs={3000: Repair(kept=1, count=1, flags="compression,repeat", temperature=0.0)},
    )
    assert [(s.text, s.rerun, s.flags) for s in segments] == [
        ("clean", False, None),
        ("before", False, None),
        ("redone", True, "compression,repeat"),
        ("after", False, None),
    ]


# Real speech, the real model: base decoding English clips as French (per-chunk language
# off, as the benchmark runs) loops on en-002 ("c'est l'Amateur GTV, c'est l'Amateur GTV,
# ...", compression 6.7) and not on the chunks around it.
LOOPING_CLIPS = ("fleurs-en-000.ogg", "fleurs-en-001.ogg", "fleurs-en-002.ogg", "jfk.flac")


@pytest.fixture(scope="module")
def looping_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    inputs = [arg for clip in LOOPING_CLIPS for arg in ("-i", str(AUDIO / clip))]
    pads = ";".join(
        f"[{n}:a]aresample=16000,aformat=channel_layouts=mono,apad=pad_dur=0.8[a{n}]" for n in range(len(LOOPING_CLIPS))
    )
    joined = "".join(f"[a{n}]" for n in range(len(LOOPING_CLIPS)))
    out = tmp_path_factory.mktemp("loop") / "english-as-french.ogg"
    subprocess.run(
        ["ffmpeg", "-v", "error", "-y", *inputs, "-filter_complex",
         f"{pads};{joined}concat=n={len(LOOPING_CLIPS)}:v=0:a=1[out]", "-map", "[out]", str(out)],
        check=True,
    )  # fmt: skip
    return out


@pytest.fixture(scope="module")
def base_cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("base-models")


@pytest.fixture()
def decoder_calls(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Prompts per repair decoder call (RepairingPipeline.sample), for the test's duration."""
    calls: list[int] = []
    real = RepairingPipeline.sample

    def counted(self: RepairingPipeline, encoder_output: object, prompts: list[list[int]], *a: Any, **k: Any) -> Any:
        calls.append(len(prompts))
        return real(self, encoder_output, prompts, *a, **k)

    monkeypatch.setattr(RepairingPipeline, "sample", counted)
    return calls


@pytest.mark.slow
def test_a_looping_window_is_repaired_and_clean_ones_are_never_decoded_again(
    base_cache: Path, looping_file: Path, decoder_calls: list[int]
):
    options = EngineOptions(model="base", batch_size=8, switch_languages=())
    bare = Engine(replace(options, rerun_suspect=False), base_cache).transcribe(looping_file, language="fr")
    suspect = [s for s in bare.segments if suspicions(s)]
    assert suspect and all({"compression", "repeat"} <= set(suspicions(s)) for s in suspect), "the premise: a loop"
    assert decoder_calls == []

    fixed = Engine(options, base_cache).transcribe(looping_file, language="fr")
    # Only the looping windows went to the decoder again: all of them in the first rung's one call (the file is one
    # batch), then only those still looping, at most once per rung. How many windows loop depends on the CPU's
    # arithmetic: one on some machines, two (clips 2 and 3) on an AVX-512 one.
    assert 1 <= fixed.reruns <= len(suspect)
    assert decoder_calls and decoder_calls[0] == fixed.reruns and len(decoder_calls) <= len(TEMPERATURES)
    assert decoder_calls == sorted(decoder_calls, reverse=True)
    redone = [s for s in fixed.segments if s.rerun]
    assert redone and all(s.flags == "compression,repeat" for s in redone)
    loop_start, loop_end = suspect[0].start, suspect[-1].end
    assert all(loop_start - 0.5 <= s.start and s.end <= loop_end + 0.5 for s in redone)
    assert all(not {"compression", "repeat"} & set(suspicions(s)) for s in redone), [s.text for s in redone]
    assert len(" ".join(s.text for s in redone)) < len(" ".join(s.text for s in suspect)) / 2
    # Everything else is the first decode, word for word (jfk's chunk after the loop too).
    assert [s.text for s in fixed.segments if not s.rerun] == [s.text for s in bare.segments if not suspicions(s)]
    assert "Ask not what your country can do for you" in fixed.text


@pytest.mark.slow
def test_a_clean_file_is_never_decoded_again(base_cache: Path, decoder_calls: list[int]):
    engine = Engine(EngineOptions(model="base", batch_size=8), base_cache)
    for clip, language in (("fleurs-fr-000.ogg", "fr"), ("jfk.flac", "en")):
        t = engine.transcribe(AUDIO / clip, language=language)
        assert t.reruns == 0 and t.segments and not any(s.rerun or s.flags for s in t.segments)
    assert decoder_calls == []


def test_text_over_silence_is_dropped_by_a_re_run(tiny: Engine):
    silence = np.zeros(5 * 16000, dtype=np.float32)
    invented = Segment(0.5, 4.5, "Thank you for watching.", avg_logprob=-1.4, no_speech_prob=0.9, compression_ratio=1.0)
    assert suspicions(invented) == ("silence",)
    repaired, reruns = tiny.repair(silence, [invented], "en")
    assert reruns == 1
    assert repaired == []
