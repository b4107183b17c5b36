"""Speaker turns without the model: clustering, the accuracy score, labels on transcripts, voice prints."""

from __future__ import annotations

import itertools
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from transcribe.clustering import agglomerate, cluster
from transcribe.diarization_eval import score, split_at_pauses, transcript_turns
from transcribe.diarize import DiarizeOptions, Diarizer, Turn, _near_words, speech_windows
from transcribe.errors import DiarizationError, SpeakerModelError, TranscriptionError
from transcribe.fbank import fbank, mel_banks
from transcribe.result import Segment, Transcript, Word
from transcribe.speakers import assign_speakers, needs_speakers, speaker_spans
from transcribe.voice_model import VoiceEmbedder
from transcribe.voiceprints import VoicePrint, combine, match_voices

pytestmark = pytest.mark.fast


def voices(counts: list[int], spread: float = 0.45, seed: int = 0, dim: int = 192) -> tuple[np.ndarray, list[int]]:
    """Unit vectors around random centres (one per voice), in turn order A A B B ..."""
    rng = np.random.default_rng(seed)
    centres = rng.standard_normal((len(counts), dim))
    vectors, truth = [], []
    for voice, count in enumerate(counts):
        for _ in range(count):
            v = centres[voice] / np.linalg.norm(centres[voice]) + spread * rng.standard_normal(dim) / np.sqrt(dim)
            vectors.append(v / np.linalg.norm(v))
            truth.append(voice)
    return np.array(vectors), truth


def naive_average_linkage(sim: np.ndarray, clusters: int) -> list[set[int]]:
    """Textbook average linkage, recomputing every pair each step."""
    groups = [{i} for i in range(len(sim))]
    while len(groups) > clusters:
        a, b = max(
            itertools.combinations(range(len(groups)), 2),
            key=lambda p: np.mean([sim[i, j] for i in groups[p[0]] for j in groups[p[1]]]),
        )
        groups[a] |= groups.pop(b)
    return groups


# --- clustering ---------------------------------------------------------------------


@settings(max_examples=40, deadline=None)
@given(st.integers(2, 30), st.integers(1, 5), st.integers(0, 10_000))
def test_agglomerate_matches_textbook_average_linkage(n: int, k: int, seed: int) -> None:
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((n, 8))
    x /= np.linalg.norm(x, axis=1, keepdims=True)
    sim = x @ x.T
    k = min(k, n)
    labels = agglomerate(sim, threshold=0.0, clusters=k)
    ours = sorted(sorted(np.flatnonzero(labels == c).tolist()) for c in set(labels.tolist()))
    expected = sorted(sorted(g) for g in naive_average_linkage(sim, k))
    assert ours == expected


@pytest.mark.parametrize("counts", [[20], [12, 9], [10, 6, 8], [6, 7, 5, 9]])
def test_cluster_finds_the_number_of_voices(counts: list[int]) -> None:
    vectors, truth = voices(counts)
    labels = cluster(vectors, threshold=0.6)
    assert labels.tolist() == truth


def test_cluster_count_hint_and_cap() -> None:
    vectors, truth = voices([10, 10, 10])
    assert len(set(cluster(vectors, threshold=0.6, num_speakers=2).tolist())) == 2
    assert len(set(cluster(vectors, threshold=0.6, num_speakers=5).tolist())) == 5
    # Nothing alike enough to merge: the count is capped, not one voice per window.
    spread, _ = voices([1] * 12)
    assert len(set(cluster(spread, threshold=0.6, max_speakers=6).tolist())) == 6


def test_cluster_folds_tiny_voices_into_real_ones() -> None:
    vectors, truth = voices([15, 1, 15])
    weights = np.full(len(vectors), 1.0)
    kept = cluster(vectors, threshold=0.6, weights=weights, min_weight=3.0)
    assert len(set(kept.tolist())) == 2
    assert len(set(cluster(vectors, threshold=0.6).tolist())) == 3


def test_cluster_numbers_by_first_appearance() -> None:
    vectors, _ = voices([5, 5])
    order = np.r_[5:10, 0:5]
    assert cluster(vectors[order], threshold=0.6).tolist() == [0] * 5 + [1] * 5
    assert cluster(np.zeros((0, 192)), threshold=0.6).tolist() == []


# --- the score ------------------------------------------------------------------------

REF = [Turn(0, 10, "anne"), Turn(11, 15, "paul"), Turn(16, 20, "anne")]


def test_score_perfect_and_relabelled() -> None:
    hyp = [Turn(0, 10, "Speaker 2"), Turn(11, 15, "Speaker 1"), Turn(16, 20, "Speaker 2")]
    s = score(REF, hyp)
    assert (s.accuracy, s.der, s.right_count) == (1.0, 0.0, True)


def test_score_one_label_for_everyone() -> None:
    s = score(REF, [Turn(0, 20, "Speaker 1")])
    assert s.accuracy == pytest.approx(14 / 18)
    assert s.false_alarm == pytest.approx(2.0)
    assert s.confusion == pytest.approx(4.0)
    assert not s.right_count


def test_score_missed_speech_and_extra_voice() -> None:
    hyp = [Turn(0, 5, "Speaker 1"), Turn(11, 15, "Speaker 2"), Turn(16, 20, "Speaker 3")]
    s = score(REF, hyp)
    # anne's first turn half missed; her second turn went to a third label.
    assert s.missed == pytest.approx(5.0)
    assert s.correct == pytest.approx(9.0)
    assert s.accuracy == pytest.approx(9 / 18)
    assert (s.voices, s.found) == (2, 3)


def test_score_of_a_labelled_transcript() -> None:
    seg = Segment(0, 4, "a b", (Word(0, 2, "a", 1), Word(2, 4, "b", 1)), speaker="Speaker 1")
    turns = transcript_turns(Transcript("fr", (seg, Segment(5, 6, "c", speaker="Speaker 2"), Segment(7, 8, "d")), 8))
    assert turns == (Turn(0, 2, "Speaker 1"), Turn(2, 4, "Speaker 1"), Turn(5, 6, "Speaker 2"))


# --- windows and speech near words -------------------------------------------------------


def test_windows_cover_each_region_to_its_end() -> None:
    options = DiarizeOptions(window=2.0, hop=1.0, min_window=0.5)
    windows = speech_windows([(10.0, 14.3), (20.0, 20.4)], options)
    assert windows[0] == (10.0, 12.0) and windows[-1] == (12.3, 14.3)
    assert all(abs((e - s) - 2.0) < 1e-6 for s, e in windows)


def test_speech_is_kept_only_near_words() -> None:
    words = (Word(10.0, 10.5, "oui", 1), Word(10.6, 11.0, "non", 1))
    transcript = Transcript("fr", (Segment(10, 11, "oui non", words), Segment(30, 32, "sans mots")), 40)
    kept = _near_words([(0.0, 5.0), (9.0, 12.0), (29.0, 40.0)], transcript, margin=0.3)
    assert kept == [(9.7, 11.3), (29.7, 32.3)]


def test_split_at_pauses_cuts_in_silence() -> None:
    rng = np.random.default_rng(1)
    tone = (0.3 * rng.standard_normal(16000)).astype(np.float32)
    gap = np.zeros(4000, dtype=np.float32)
    samples = np.concatenate([tone, gap, tone, gap, tone])
    a, b, c = split_at_pauses(samples, 3)
    assert len(a) + len(b) + len(c) == len(samples)
    for cut in (len(a), len(a) + len(b)):
        assert np.abs(samples[cut - 400 : cut + 400]).max() == 0.0


# --- features -------------------------------------------------------------------------


def test_fbank_of_a_tone_peaks_in_its_mel_band() -> None:
    t = np.arange(16000) / 16000
    feats = fbank((0.1 * np.sin(2 * np.pi * 1000 * t)).astype(np.float32))
    peak = int(feats.mean(axis=0).argmax())
    assert mel_banks()[:, peak].argmax() == pytest.approx(1000 / (16000 / 512), abs=1)


def test_fbank_after_mean_normalisation_ignores_level() -> None:
    rng = np.random.default_rng(2)
    noise = (0.05 * rng.standard_normal(8000)).astype(np.float32)
    a, b = fbank(noise * 32768), fbank(noise * 0.01 * 32768)
    assert np.allclose(a - a.mean(axis=0), b - b.mean(axis=0), atol=1e-3)


# --- labels on a transcript -----------------------------------------------------------


def words(*spec: tuple[float, float, str]) -> tuple[Word, ...]:
    return tuple(Word(s, e, t, 0.9) for s, e, t in spec)


def test_assign_splits_segments_where_the_voice_changes() -> None:
    seg = Segment(0.0, 6.0, "Bonjour Marie. Bonjour Paul, merci.", words(
        (0.0, 0.5, "Bonjour"), (0.6, 1.2, "Marie."), (2.1, 2.6, "Bonjour"), (2.7, 3.3, "Paul,"), (3.4, 6.0, "merci."),
    ), avg_logprob=-0.2, language="fr")  # fmt: skip
    turns = [Turn(0.0, 1.5, "Speaker 1"), Turn(2.0, 6.0, "Speaker 2")]
    out = assign_speakers(Transcript("fr", (seg,), 6.0), turns)
    assert [(s.speaker, s.text, s.start, s.end) for s in out.segments] == [
        ("Speaker 1", "Bonjour Marie.", 0.0, 1.2),
        ("Speaker 2", "Bonjour Paul, merci.", 2.1, 6.0),
    ]
    assert out.segments[0].words == seg.words[:2] and out.segments[1].words == seg.words[2:]
    assert all(s.avg_logprob == -0.2 and s.language == "fr" for s in out.segments)


def test_assign_labels_every_word_and_wordless_segments() -> None:
    one = Segment(0.0, 2.0, "a b", words((0.0, 0.8, "a"), (1.0, 2.0, "b")))
    bare = Segment(5.0, 9.0, "sans minutage")
    gap = Segment(20.0, 21.0, "loin", words((20.0, 21.0, "loin")))
    turns = [Turn(0.0, 2.0, "Speaker 1"), Turn(4.0, 6.0, "Speaker 1"), Turn(6.0, 10.0, "Speaker 2")]
    out = assign_speakers(Transcript("fr", (one, bare, gap), 21.0), turns)
    assert [s.speaker for s in out.segments] == ["Speaker 1", "Speaker 2", "Speaker 2"]
    assert out.segments[0] == Segment(0.0, 2.0, "a b", one.words, speaker="Speaker 1")


def test_publisher_voices_are_never_overwritten() -> None:
    published = Transcript("fr", (Segment(0, 3, "Bonjour", speaker="Marie Tremblay"), Segment(3, 5, "Merci")), 5.0)
    assert not needs_speakers(published)
    assert assign_speakers(published, [Turn(0, 5, "Speaker 1")]) is published
    plain = Transcript("fr", (Segment(0, 3, "Bonjour"),), 3.0)
    assert assign_speakers(plain, []) is plain
    assert not needs_speakers(Transcript("fr", (), 0.0))


def test_speaker_spans_join_short_gaps() -> None:
    a = Segment(0, 4, "x y", words((0.0, 1.0, "x"), (1.2, 2.0, "y")), speaker="Speaker 1")
    b = Segment(4, 6, "z", words((4.0, 6.0, "z")), speaker="Speaker 2")
    c = Segment(7, 9, "w", words((7.0, 9.0, "w")), speaker="Speaker 1")
    assert speaker_spans(Transcript("fr", (a, b, c), 9), "Speaker 1") == [(0.0, 2.0), (7.0, 9.0)]


# --- voice prints -----------------------------------------------------------------------


def test_match_uses_each_name_once_and_the_threshold() -> None:
    vectors, _ = voices([1, 1, 1], spread=0.0, seed=3)
    p = [VoicePrint(tuple(v * 0.8), "m", 60.0) for v in vectors]
    episode = {"Speaker 1": p[1], "Speaker 2": p[0], "Speaker 3": p[2]}
    known = {"Marie": p[0], "Paul": p[1]}
    found = match_voices(episode, known, threshold=0.6)
    assert [(m.label, m.name) for m in found] == [("Speaker 1", "Paul"), ("Speaker 2", "Marie")]
    assert all(m.similarity == pytest.approx(0.64) for m in found)
    assert match_voices(episode, known, threshold=0.7) == ()
    # Two labels close to one known voice: only the closer gets the name.
    twins = {
        "Speaker 1": VoicePrint(tuple(vectors[0] * 0.8), "m", 5),
        "Speaker 2": VoicePrint(tuple(vectors[0] * 0.9), "m", 5),
    }
    assert [(m.label, m.name) for m in match_voices(twins, {"Marie": p[0]})] == [("Speaker 2", "Marie")]
    # Another model's print is never compared.
    assert match_voices({"Speaker 1": VoicePrint(p[0].vector, "other", 9)}, known) == ()


def test_prints_combine_and_refuse_mixed_models() -> None:
    a, b = VoicePrint((0.6, 0.0), "m", 10.0), VoicePrint((0.0, 0.9), "m", 30.0)
    c = combine([a, b])
    assert c.vector == pytest.approx((0.15, 0.675)) and c.seconds == 40.0
    with pytest.raises(ValueError):
        combine([a, VoicePrint((0.0, 1.0), "other", 1.0)])
    with pytest.raises(ValueError):
        a.similarity(VoicePrint((0.0, 1.0), "other", 1.0))


# --- the model file ---------------------------------------------------------------------


def test_missing_or_broken_model_is_a_speaker_model_error(tmp_path: Path) -> None:
    with pytest.raises(SpeakerModelError, match="missing"):
        VoiceEmbedder(tmp_path / "nowhere.onnx").load()
    broken = tmp_path / "broken.onnx"
    broken.write_bytes(b"not an onnx model")
    with pytest.raises(SpeakerModelError, match="cannot load"):
        VoiceEmbedder(broken).load()
    # Not a TranscriptionError: the transcript is kept, without speakers, and retried later.
    assert issubclass(SpeakerModelError, DiarizationError)
    assert not issubclass(DiarizationError, TranscriptionError)


def test_diarize_without_the_model_fails_before_any_work(tmp_path: Path) -> None:
    diarizer = Diarizer(VoiceEmbedder(tmp_path / "nowhere.onnx"))
    with pytest.raises(SpeakerModelError):
        diarizer.diarize(np.zeros(16000, dtype=np.float32))
