"""Revisions, review states and publishing, down to what the real search index holds."""

from __future__ import annotations

import pytest

from archive import public, store
from archive.context import Archive
from archive.editorial import accounts, review_queue, revisions
from archive.editorial import workflow as editing
from archive.ingest import index_episodes
from archive.store.schema import IndexOutbox
from tests.editor_site import make_archive
from tests.web_corpus import build, transcript


@pytest.fixture
def ea(make_settings):
    return make_archive(make_settings(secret_key="k"))


def _texts(archive, episode_id):
    with archive.db.session() as s:
        return [p.text for p in public.public_passages(s, episode_id)]


def _outbox(archive, episode_id):
    with archive.db.session() as s:
        return [r.op for r in s.query(IndexOutbox).filter_by(episode_id=episode_id)]


def _hits(archive, query):
    return {h.episode_id for h in archive.search.search(query).hits}


def test_save_keeps_machine_transcript_and_times_unchanged_words(ea):
    archive, eid = Archive(ea.settings), ea.ids["ep-1"]
    with archive.db.session() as s:
        user = accounts.get_by_email(s, ea.email)
        before = editing.working_copy(s, eid)
        rev = editing.edit_passage(s, eid, 0, 0, user, text="Bonjour Gilles Vigneault, merci d'être ici")
        assert rev.number == 1 and rev.author_id == user.id and rev.note == "passage 0: text"
    with archive.db.session() as s:
        after = editing.working_copy(s, eid)
        machine = editing.snapshot_of(s, eid, 0)
    assert machine == before.snapshot  # the machine transcript is untouched
    assert after.state == editing.IN_REVIEW and after.number == 1
    old, new = before.snapshot[0], after.snapshot[0]
    assert new.text == "Bonjour Gilles Vigneault, merci d'être ici"
    by_text = {w.text: w for w in old.words}
    for w in new.words:
        if w.text in by_text:  # unchanged words keep their times and confidence
            assert (w.start, w.end, w.probability) == (
                by_text[w.text].start,
                by_text[w.text].end,
                by_text[w.text].probability,
            )
    changed = [w for w in new.words if w.text not in by_text]
    assert [w.text for w in changed] == ["Vigneault,", "ici"]
    # Changed words take the span of the words they replace, inside the passage, in order.
    assert (changed[0].start, changed[0].end) == pytest.approx(
        (by_text["Vignault"].start, by_text["Vignault"].end), abs=1e-3
    )
    assert all(old.start <= w.start <= w.end <= old.end for w in new.words)
    assert [w.start for w in new.words] == sorted(w.start for w in new.words)


def test_a_stale_edit_is_refused_and_an_unchanged_one_saves_nothing(ea):
    archive, eid = Archive(ea.settings), ea.ids["ep-1"]
    with archive.db.session() as s:
        editing.edit_passage(s, eid, 1, 0, None, text="Merci beaucoup, c'est un plaisir")
    with archive.db.session() as s, pytest.raises(editing.EditConflict):
        editing.edit_passage(s, eid, 2, 0, None, text="autre chose")
    with archive.db.session() as s:
        assert editing.edit_passage(s, eid, 1, 1, None, text="Merci  beaucoup, c'est un plaisir ") is None
        assert editing.working_copy(s, eid).number == 1


def test_bulk_speaker_rename_is_one_revision(ea):
    archive, eid = Archive(ea.settings), ea.ids["ep-1"]
    with archive.db.session() as s:
        rev = editing.rename_speaker(s, eid, "SPEAKER_1", "Marie Tremblay", 0, None)
        assert rev.number == 1
        snap = editing.working_copy(s, eid).snapshot
    assert [p.speaker for p in snap] == ["Marie Tremblay", "SPEAKER_2", "Marie Tremblay"]
    with archive.db.session() as s:
        assert editing.rename_speaker(s, eid, "SPEAKER_1", "X", 1, None) is None  # nobody left by that name


def test_publish_changes_the_public_text_and_queues_index_work_in_the_same_transaction(ea):
    archive, eid = Archive(ea.settings), ea.ids["ep-1"]
    index_episodes(archive)
    machine = _texts(archive, eid)
    assert machine[2] == "Parlons de Natashquan et de Vignault"
    with archive.db.session() as s:
        editing.edit_passage(s, eid, 2, 0, None, text="Parlons de Kamouraska et de Vigneault")
    assert _texts(archive, eid) == machine  # saving is not publishing
    assert _outbox(archive, eid) == []
    with archive.db.session() as s:
        editing.publish(s, eid, None)
        s.flush()
        assert [r.op for r in s.query(IndexOutbox).filter_by(episode_id=eid)] == ["upsert"]
        s.rollback()  # a failed transaction publishes nothing and queues nothing
    assert _outbox(archive, eid) == [] and _texts(archive, eid) == machine
    with archive.db.session() as s:
        editing.publish(s, eid, None)
    assert _outbox(archive, eid) == ["upsert"]
    assert _texts(archive, eid)[2] == "Parlons de Kamouraska et de Vigneault"
    assert index_episodes(archive).done == 1
    assert eid in _hits(archive, "Kamouraska")
    assert eid not in _hits(archive, "Natashquan")
    # Later edits stay private until published again.
    with archive.db.session() as s:
        editing.edit_passage(s, eid, 1, 1, None, text="Merci infiniment")
    assert "Merci infiniment" not in _texts(archive, eid)
    # Unpublishing takes the episode out of the index altogether, machine text included.
    with archive.db.session() as s:
        editing.unpublish(s, eid, None)
    assert _texts(archive, eid) == []
    index_episodes(archive)
    assert eid not in _hits(archive, "Kamouraska") and eid not in _hits(archive, "Bonjour Gilles")
    # Revert to the machine text, publish again: the old words are back.
    with archive.db.session() as s:
        rev = editing.revert(s, eid, 0, None)
        assert rev.number == 3 and editing.working_copy(s, eid).snapshot == editing.snapshot_of(s, eid, 0)
        editing.publish(s, eid, None)
    index_episodes(archive)
    assert eid in _hits(archive, "Natashquan") and eid not in _hits(archive, "Kamouraska")


def test_show_setting_hides_machine_text_but_not_published_text(ea):
    archive, eid = Archive(ea.settings), ea.ids["ep-1"]
    other = ea.ids["ep-2"]
    with archive.db.session() as s:
        feed = store.get_episode(s, eid).feed
        store.set_feed_publishing(s, feed.id, False)
    assert _texts(archive, eid) == [] and _texts(archive, other) == []
    with archive.db.session() as s:
        editing.publish(s, eid, None)  # approved as is
        assert editing.working_copy(s, eid).number == 1
    assert len(_texts(archive, eid)) == 3 and _texts(archive, other) == []


def test_queue_puts_risky_transcripts_first_and_drops_published_ones(make_settings):
    settings = make_settings()
    ids = build(
        settings,
        [{"title": "Calme", "guid": "a"}, {"title": "Risqué", "guid": "b"}],
        {
            "a": transcript([(None, "tout va bien ici")]),
            "b": transcript([(None, "tout va bien ici")]),
        },
    )
    archive = Archive(settings)
    with archive.db.session() as s:
        seg = store.newest_transcript(s, ids["b"], words=True).segments[0]
        seg.flags = "repeat"
        for w in seg.words[:2]:
            w.probability = 0.1
    with archive.db.session() as s:
        items = review_queue.queue(s)
    assert [i.episode_id for i in items] == [ids["b"], ids["a"]]
    assert (items[0].low_words, items[0].words, items[0].risky_passages) == (2, 4, 1)
    assert items[0].risk > items[1].risk
    with archive.db.session() as s:
        editing.publish(s, ids["b"], None)
        assert [i.episode_id for i in review_queue.queue(s)] == [ids["a"]]


def test_snapshots_round_trip_through_json(ea):
    with Archive(ea.settings).db.session() as s:
        snap = editing.snapshot_of(s, ea.ids["ep-1"], 0)
    assert revisions.loads(revisions.dumps(snap)) == snap
