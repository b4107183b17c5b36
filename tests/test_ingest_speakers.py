"""The diarize step in the transcription worker: real Whisper, the real CAM++ model, real voices."""

from __future__ import annotations

import os

# Must precede any huggingface_hub import: it reads the flag once, and tests never download.
os.environ["HF_HUB_OFFLINE"] = "1"

import shutil
import wave
from pathlib import Path

import numpy as np
import pytest
from sqlalchemy import select

from archive import store
from archive.config import Settings
from archive.context import Archive
from archive.ingest import retry_speakers, run_stages
from archive.operations.shows import FeedSettingsError, change_feed_settings
from archive.store.schema import EpisodeVoice, Feed, Transcript
from archive.store.speaker_runs import FAILED, KEPT, LABELLED, transcripts_needing_speakers
from tests.conftest import rss
from transcribe import Segment as SegmentResult
from transcribe import Transcript as TranscriptResult
from transcribe.diarization_eval import interviews, score
from transcribe.diarize import Turn
from transcribe.voice_model import default_model_path

pytestmark = [pytest.mark.db, pytest.mark.slow]

AUDIO = Path(__file__).parent / "data" / "audio"
TWO_VOICES = "2 voices en (en-001, jfk)"


@pytest.fixture(scope="module")
def interview():  # type: ignore[no-untyped-def]
    assert default_model_path().is_file(), "speaker model missing: run ./dev setup"
    return {i.name: i for i in interviews(AUDIO)}[TWO_VOICES]


def _wav(path: Path, samples: np.ndarray) -> None:
    with wave.open(str(path), "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(16000)
        out.writeframes((np.clip(samples, -1, 1) * 32767).astype("<i2").tobytes())


def _ingest(settings: Settings, http_root: tuple[Path, str], samples: np.ndarray, hint: str | None = None) -> Archive:
    root, base = http_root
    _wav(root / "interview.wav", samples)
    item = {"title": "Interview", "guid": "ep-1", "url": f"{base}/interview.wav"}
    (root / "feed.xml").write_text(rss("Interviews", [item]))
    archive = Archive(settings)
    with archive.db.session() as s:
        feed = store.add_feed(s, f"{base}/feed.xml", "en")
        if hint is not None:
            change_feed_settings(s, feed.id, speakers=hint)
    reports = run_stages(archive, ("poll", "download", "transcribe"))
    assert all(r.failed == 0 for r in reports), [r.notes for r in reports]
    return archive


def _newest(archive: Archive) -> tuple[Transcript, list[store.Segment], list[EpisodeVoice]]:
    with archive.db.session() as s:
        row = s.scalars(select(Transcript)).one()
        segments = list(row.segments)
        for seg in segments:
            _ = seg.words
        voices = list(s.scalars(select(EpisodeVoice).where(EpisodeVoice.transcript_id == row.id)))
        s.expunge_all()
    return row, segments, voices


def test_a_transcribed_interview_has_its_two_voices(make_settings, http_root, interview) -> None:  # type: ignore[no-untyped-def]
    """Every segment of the stored machine transcript is "Speaker 1" or "Speaker 2", on the right person's words."""
    archive = _ingest(make_settings(), http_root, interview.samples)
    row, segments, voices = _newest(archive)
    assert row.speakers_status == LABELLED and row.speakers_error is None
    assert row.speakers_model == default_model_path().stem
    assert {s.speaker for s in segments} == {"Speaker 1", "Speaker 2"}
    assert sorted(v.label for v in voices) == ["Speaker 1", "Speaker 2"]
    assert all(len(v.vector) == 192 * 4 and v.seconds > 3 for v in voices)

    def voice_at(t: float) -> str:
        return min(interview.turns, key=lambda r: max(r.start - t, t - r.end, 0.0)).speaker

    words = [(w, seg.speaker) for seg in segments for w in seg.words if w.end > w.start]
    truth = [Turn(w.start, w.end, voice_at((w.start + w.end) / 2)) for w, _ in words]
    found = [Turn(w.start, w.end, speaker) for w, speaker in words]
    result = score(truth, found)
    assert result.accuracy >= 0.9 and result.right_count


def test_the_shows_hint_fixes_the_count(make_settings, http_root, interview) -> None:  # type: ignore[no-untyped-def]
    """`feeds set --speakers 1` on a two-voice episode: one voice, everything "Speaker 1"."""
    archive = _ingest(make_settings(), http_root, interview.samples, hint="1")
    row, segments, voices = _newest(archive)
    assert row.speakers_status == LABELLED
    assert {s.speaker for s in segments} == {"Speaker 1"}
    assert [v.label for v in voices] == ["Speaker 1"]


def test_a_missing_speaker_model_keeps_the_transcript(make_settings, http_root, interview, tmp_path) -> None:  # type: ignore[no-untyped-def]
    """No model: the transcript is stored unlabelled, marked failed with a readable error, and due for a retry."""
    missing = tmp_path / "nowhere" / "campplus.onnx"
    archive = _ingest(make_settings(speaker_model=str(missing)), http_root, interview.samples)
    row, segments, voices = _newest(archive)
    assert segments and all(s.speaker is None for s in segments)
    assert "country" in " ".join(s.text for s in segments).lower()  # JFK's words are there
    assert row.speakers_status == FAILED and row.speakers_attempts == 1 and voices == []
    assert str(missing) in (row.speakers_error or "") and "./dev setup" in (row.speakers_error or "")
    with archive.db.session() as s:
        episode = s.get(store.Episode, row.episode_id)
        assert episode is not None and episode.last_error is None and episode.error_stage is None
        later = row.speakers_next_try_at
        assert later is not None
        assert [t.id for t in transcripts_needing_speakers(s, later, max_attempts=3)] == [row.id]
        assert transcripts_needing_speakers(s, later, max_attempts=1) == []


def test_speakers_off_stores_no_labels(make_settings, http_root, interview) -> None:  # type: ignore[no-untyped-def]
    archive = _ingest(make_settings(speakers=False), http_root, interview.samples)
    row, segments, voices = _newest(archive)
    assert row.speakers_status is None and voices == []
    assert segments and all(s.speaker is None for s in segments)


def test_feeds_set_speakers_hint(make_settings) -> None:  # type: ignore[no-untyped-def]
    archive = Archive(make_settings())
    with archive.db.session() as s:
        feed = store.add_feed(s, "https://example.org/feed.xml", "en")
        assert change_feed_settings(s, feed.id, speakers="2") == [
            "speakers: auto -> 2 (for episodes transcribed from now on)"
        ]
        assert change_feed_settings(s, feed.id, speakers="2") == []
        for bad in ("0", "7", "two", "-1"):
            with pytest.raises(FeedSettingsError, match="1 to 6"):
                change_feed_settings(s, feed.id, speakers=bad)
        assert change_feed_settings(s, feed.id, speakers="auto") == [
            "speakers: 2 -> auto (for episodes transcribed from now on)"
        ]
        assert s.get(Feed, feed.id).speakers is None  # type: ignore[union-attr]


def test_speakers_are_retried_once_the_model_is_back(make_settings, http_root, interview, tmp_path) -> None:  # type: ignore[no-untyped-def]
    """Model missing at transcription, then installed: the speakers stage stores a labelled next version."""
    missing = tmp_path / "later" / "campplus.onnx"
    settings = make_settings(speaker_model=str(missing))
    archive = _ingest(settings, http_root, interview.samples)
    first, unlabelled, _ = _newest(archive)
    assert first.speakers_status == FAILED
    # Still missing: another failed attempt, nothing new stored (the backoff is waited out).
    with archive.db.session() as s:
        s.get(Transcript, first.id).speakers_next_try_at = None  # type: ignore[union-attr]
    report = retry_speakers(archive)
    assert (report.done, report.failed) == (0, 1) and str(missing) in report.notes[0]
    # The model arrives where the settings point.
    missing.parent.mkdir()
    shutil.copyfile(default_model_path(), missing)
    with archive.db.session() as s:
        row = s.get(Transcript, first.id)
        assert row is not None and row.speakers_attempts == 2
        row.speakers_next_try_at = None
    assert (retry_speakers(archive).done, retry_speakers(archive).done) == (1, 0)  # once, then nothing due
    with archive.db.session() as s:
        versions = list(s.scalars(select(Transcript).order_by(Transcript.version)))
        assert [v.version for v in versions] == [1, 2]
        old, new = versions
        assert old.speakers_status == FAILED and all(seg.speaker is None for seg in old.segments)
        assert new.speakers_status == LABELLED and new.origin == old.origin and new.model == old.model
        assert {seg.speaker for seg in new.segments} == {"Speaker 1", "Speaker 2"}
        words = lambda t: [w.text for seg in t.segments for w in seg.words]  # noqa: E731
        assert words(new) == words(old)
        assert len(list(s.scalars(select(EpisodeVoice)))) == 2


def test_a_publishers_voices_are_kept(make_settings) -> None:  # type: ignore[no-untyped-def]
    """A publisher transcript with <v> voices is stored as it came, marked "kept", and never queued for speakers."""
    archive = Archive(make_settings())
    published = TranscriptResult(
        "fr",
        (
            SegmentResult(0.0, 2.0, "Bonjour.", speaker="Marie Tremblay"),
            SegmentResult(2.0, 4.0, "Salut.", speaker="Paul"),
        ),
        4.0,
        origin="publisher",
    )
    with archive.db.session() as s:
        feed = store.add_feed(s, "https://example.org/feed.xml", "fr")
        episode = store.Episode(feed_id=feed.id, guid="ep-1", title="Entrevue")
        s.add(episode)
        s.flush()
        row = store.save_transcript(s, episode, published, 1.0)
        assert row.speakers_status == KEPT and row.speakers_model is None
        assert [seg.speaker for seg in row.segments] == ["Marie Tremblay", "Paul"]
        assert list(s.scalars(select(EpisodeVoice))) == []
        assert transcripts_needing_speakers(s, store.now(), max_attempts=5) == []
