"""Known voices, editorial side: naming teaches the show, recognitions show everywhere, confirm/reject/forget.

The prints are real: CAM++ on halves of the repository's recordings (fr-001 is "Marie",
fr-002 "Paul", jfk nobody known), stored as the diarize step stores them.
"""

from __future__ import annotations

import pytest
from sqlalchemy import select

from archive import public, store
from archive.config import Settings
from archive.context import Archive
from archive.editorial import voices
from archive.editorial import workflow as editing
from archive.store.schema import Episode, IndexOutbox, ShowVoice
from tests.voices_corpus import ITEMS, real_prints, voiced
from tests.web_corpus import build
from transcribe import Transcript as TranscriptResult
from transcribe.voiceprints import RECOGNITION_THRESHOLD, VoicePrint

pytestmark = pytest.mark.db


@pytest.fixture(scope="module")
def prints() -> dict[str, VoicePrint]:
    return real_prints()


def add_episode(settings: Settings, guid: str, result: TranscriptResult) -> None:
    with Archive(settings).db.session() as s:
        episode = s.scalars(select(Episode).where(Episode.guid == guid)).one()
        store.save_transcript(s, episode, result, seconds_taken=1.0)


def voice(settings: Settings, episode_id: int, label: str) -> tuple[str | None, str | None]:
    with Archive(settings).db.session() as s:
        row = voices.voice_states(s, store.newest_transcript(s, episode_id).id)  # type: ignore[union-attr]
        found = next(v for v in row if v.label == label)
        return found.status, found.name


def show_voices(settings: Settings) -> dict[str, float]:
    with Archive(settings).db.session() as s:
        return {v.name: v.seconds for v in s.scalars(select(ShowVoice))}


def speakers_seen(settings: Settings, episode_id: int) -> list[tuple[str | None, bool]]:
    with Archive(settings).db.session() as s:
        view = public.episode_transcript(s, episode_id)
        assert view is not None
        return [(p.speaker, p.recognised) for p in view.passages]


def queued(settings: Settings) -> set[int]:
    with Archive(settings).db.session() as s:
        return set(s.scalars(select(IndexOutbox.episode_id)))


def drain(settings: Settings) -> None:
    with Archive(settings).db.session() as s:
        s.execute(IndexOutbox.__table__.delete())


@pytest.fixture
def named(make_settings, prints):  # type: ignore[no-untyped-def]
    """Episode 1 (Marie, Paul) stored; an editor renamed its "Speaker 1" to Marie Tremblay."""
    settings = make_settings()
    ids = build(settings, ITEMS, {"ep-1": voiced(prints["A1"], prints["B1"])})
    with Archive(settings).db.session() as s:
        rev = editing.rename_speaker(s, ids["ep-1"], "Speaker 1", "Marie Tremblay", 0, None)
        assert rev is not None
    return settings, ids


def test_the_prints_are_who_the_test_says(prints) -> None:  # type: ignore[no-untyped-def]
    """The premise: fr-001's halves match, fr-002 and jfk are not fr-001 (else every test below proves nothing)."""
    assert prints["A1"].similarity(prints["A2"]) >= RECOGNITION_THRESHOLD
    assert prints["A1"].similarity(prints["B2"]) < RECOGNITION_THRESHOLD
    assert prints["A1"].similarity(prints["C"]) < RECOGNITION_THRESHOLD


def test_naming_a_label_teaches_the_show_and_the_next_episode_names_it(named, prints) -> None:  # type: ignore[no-untyped-def]
    settings, ids = named
    assert voice(settings, ids["ep-1"], "Speaker 1") == ("named", "Marie Tremblay")
    assert voice(settings, ids["ep-1"], "Speaker 2") == (None, None)
    assert set(show_voices(settings)) == {"Marie Tremblay"}
    # Episode 2: jfk then Marie's other half; Marie is "Speaker 2" there.
    add_episode(settings, "ep-2", voiced(prints["C"], prints["A2"]))
    assert voice(settings, ids["ep-2"], "Speaker 2") == ("recognised", "Marie Tremblay")
    assert voice(settings, ids["ep-2"], "Speaker 1") == (None, None)
    assert speakers_seen(settings, ids["ep-2"]) == [
        ("Speaker 1", False),
        ("Marie Tremblay", True),
        ("Speaker 1", False),
        ("Marie Tremblay", True),
    ]
    with Archive(settings).db.session() as s:
        body, _ = public.export(s, ids["ep-2"], "vtt")  # type: ignore[misc]
        assert body.count("<v Marie Tremblay>") == 2 and body.count("<v Speaker 1>") == 2
        assert [p.speaker for p in public.public_passages(s, ids["ep-2"])][:2] == ["Speaker 1", "Marie Tremblay"]
        assert public.episode_entry(s, ids["ep-2"]).guests == ("Marie Tremblay",)  # type: ignore[union-attr]
        assert ("Marie Tremblay", 1) in public.speakers(s)
        assert [c.id for c in public.speaker_episodes(s, "Marie Tremblay")] == [ids["ep-2"]]
        # Episode 1's naming is a draft: readers of its machine text still see the label.
        assert [p.speaker for p in public.episode_transcript(s, ids["ep-1"]).passages][0] == "Speaker 1"  # type: ignore[union-attr]


def test_confirming_joins_the_print_and_removes_the_mark(named, prints) -> None:  # type: ignore[no-untyped-def]
    settings, ids = named
    before = show_voices(settings)["Marie Tremblay"]
    add_episode(settings, "ep-2", voiced(prints["C"], prints["A2"]))
    drain(settings)
    with Archive(settings).db.session() as s:
        assert voices.confirm(s, ids["ep-2"], "Speaker 2") == [ids["ep-2"]]
    assert voice(settings, ids["ep-2"], "Speaker 2") == ("confirmed", "Marie Tremblay")
    assert show_voices(settings)["Marie Tremblay"] > before  # both episodes' speech behind the print now
    assert ("Marie Tremblay", False) in speakers_seen(settings, ids["ep-2"])
    assert queued(settings) == {ids["ep-2"]}
    with Archive(settings).db.session() as s:
        known = voices.known_voices(s, s.scalars(select(ShowVoice.feed_id)).one())
        assert [(k.name, k.episodes, k.recognised) for k in known] == [("Marie Tremblay", 2, 0)]
        with pytest.raises(voices.VoiceError):
            voices.confirm(s, ids["ep-2"], "Speaker 2")  # already reviewed


def test_rejecting_shows_the_label_again(named, prints) -> None:  # type: ignore[no-untyped-def]
    settings, ids = named
    add_episode(settings, "ep-2", voiced(prints["C"], prints["A2"]))
    drain(settings)
    with Archive(settings).db.session() as s:
        voices.reject(s, ids["ep-2"], "Speaker 2")
    assert voice(settings, ids["ep-2"], "Speaker 2") == ("rejected", None)
    assert [sp for sp, _ in speakers_seen(settings, ids["ep-2"])] == ["Speaker 1", "Speaker 2"] * 2
    assert queued(settings) == {ids["ep-2"]}
    with Archive(settings).db.session() as s:
        assert public.speaker_episodes(s, "Marie Tremblay") == []


def test_forgetting_withdraws_recognitions_and_keeps_what_editors_said(named, prints) -> None:  # type: ignore[no-untyped-def]
    settings, ids = named
    add_episode(settings, "ep-2", voiced(prints["C"], prints["A2"]))
    add_episode(settings, "ep-3", voiced(prints["A2"], prints["B2"]))
    with Archive(settings).db.session() as s:
        voices.confirm(s, ids["ep-2"], "Speaker 2")
    drain(settings)
    assert voice(settings, ids["ep-3"], "Speaker 1") == ("recognised", "Marie Tremblay")
    with Archive(settings).db.session() as s:
        known = s.scalars(select(ShowVoice)).one()
        assert voices.forget(s, known.feed_id, known.id) == [ids["ep-3"]]
    assert show_voices(settings) == {}
    assert voice(settings, ids["ep-3"], "Speaker 1") == (None, None)
    assert voice(settings, ids["ep-2"], "Speaker 2") == ("confirmed", "Marie Tremblay")
    assert voice(settings, ids["ep-1"], "Speaker 1") == ("named", "Marie Tremblay")
    assert ("Marie Tremblay", False) in speakers_seen(settings, ids["ep-2"])
    assert queued(settings) == {ids["ep-3"]}


def test_renaming_back_releases_and_a_print_with_nothing_behind_it_is_forgotten(named, prints) -> None:  # type: ignore[no-untyped-def]
    settings, ids = named
    add_episode(settings, "ep-2", voiced(prints["C"], prints["A2"]))
    drain(settings)
    with Archive(settings).db.session() as s:
        editing.rename_speaker(s, ids["ep-1"], "Marie Tremblay", "Speaker 1", 1, None)
    assert voice(settings, ids["ep-1"], "Speaker 1") == (None, None)
    assert show_voices(settings) == {}
    # Nothing vouches for the print any more: episode 2's unreviewed recognition is withdrawn and reindexed.
    assert voice(settings, ids["ep-2"], "Speaker 2") == (None, None)
    assert queued(settings) == {ids["ep-2"]}


def test_a_recognised_label_renamed_to_someone_else_is_that_person(named, prints) -> None:  # type: ignore[no-untyped-def]
    settings, ids = named
    add_episode(settings, "ep-2", voiced(prints["C"], prints["A2"]))
    with Archive(settings).db.session() as s:
        editing.rename_speaker(s, ids["ep-2"], "Speaker 2", "Marie-Ève Tremblay", 0, None)
    assert voice(settings, ids["ep-2"], "Speaker 2") == ("named", "Marie-Ève Tremblay")
    assert set(show_voices(settings)) == {"Marie Tremblay", "Marie-Ève Tremblay"}
    # The editor's name wins over the recognition once published.
    with Archive(settings).db.session() as s:
        editing.publish(s, ids["ep-2"], None)
    assert [sp for sp, _ in speakers_seen(settings, ids["ep-2"])] == ["Speaker 1", "Marie-Ève Tremblay"] * 2


def test_a_passage_edit_names_the_voice_once_every_passage_agrees(make_settings, prints) -> None:  # type: ignore[no-untyped-def]
    settings = make_settings()
    ids = build(settings, ITEMS, {"ep-1": voiced(prints["A1"], prints["B1"])})
    with Archive(settings).db.session() as s:
        editing.edit_passage(s, ids["ep-1"], 1, 0, None, speaker="Paul Lévesque")
    # One of Speaker 2's two passages: the voice is not named (it may be two people).
    assert voice(settings, ids["ep-1"], "Speaker 2") == (None, None)
    with Archive(settings).db.session() as s:
        editing.edit_passage(s, ids["ep-1"], 3, 1, None, speaker="Paul Lévesque")
    assert voice(settings, ids["ep-1"], "Speaker 2") == ("named", "Paul Lévesque")
    with Archive(settings).db.session() as s:
        editing.revert(s, ids["ep-1"], 0, None)
    assert voice(settings, ids["ep-1"], "Speaker 2") == (None, None)
    assert show_voices(settings) == {}


def test_a_published_revision_shows_recognitions_of_labels_it_kept(named, prints) -> None:  # type: ignore[no-untyped-def]
    settings, ids = named
    add_episode(settings, "ep-2", voiced(prints["C"], prints["A2"]))
    with Archive(settings).db.session() as s:
        editing.edit_passage(s, ids["ep-2"], 0, 0, None, text="Bonjour à tous et bienvenue.")
        editing.publish(s, ids["ep-2"], None)
    assert ("Marie Tremblay", True) in speakers_seen(settings, ids["ep-2"])
    with Archive(settings).db.session() as s:
        assert public.episode_entry(s, ids["ep-2"]).guests == ("Marie Tremblay",)  # type: ignore[union-attr]
        voices.reject(s, ids["ep-2"], "Speaker 2")
    with Archive(settings).db.session() as s:
        assert public.episode_entry(s, ids["ep-2"]).guests == ()  # type: ignore[union-attr]
