"""The outbox: database commits never wait on Meilisearch, and the index ends equal to the database."""

from __future__ import annotations

from datetime import timedelta

from archive import public, store
from archive.context import Archive
from archive.ingest import index_episodes
from tests.loopback import free_port
from tests.search_corpus import add_show


def _expected_ids(archive: Archive) -> set[str]:
    with archive.db.session() as s:
        return {
            f"e{p.episode_id}-{p.position}" for eid in store.all_episode_ids(s) for p in public.public_passages(s, eid)
        }


def test_meilisearch_down_keeps_work_then_recovers(make_settings, meili):
    live = make_settings()
    down = make_settings(meili_url=f"http://127.0.0.1:{free_port()}", index_prefix=live.index_prefix)
    archive_down = Archive(down)
    ids = add_show(archive_down, "Le Magazine", {"Un": ["le tigre rugit", "le lion aussi"], "Deux": ["un avion"]})

    report = index_episodes(archive_down)

    # The transcripts committed; the work stayed queued with the reason and a next try.
    assert report.failed == 2 and report.done == 0
    with archive_down.db.session() as s:
        rows = list(store.pending_index_work(s, store.now() + timedelta(days=2)).values())
        assert len(rows) == 2
        for (row,) in rows:
            assert row.attempts == 1 and row.last_error and row.next_try_at and row.next_try_at > store.now()
        assert store.newest_transcript(s, ids["Un"]) is not None
        # Not due yet: a second run right away does not hammer the dead server.
        assert store.pending_index_work(s, store.now()) == {}

    # Meilisearch is back; once the retry is due the index matches the database exactly.
    archive = Archive(live)
    with archive.db.session() as s:
        for rows in store.pending_index_work(s, store.now() + timedelta(days=2)).values():
            for row in rows:
                row.next_try_at = None
    assert index_episodes(archive).done == 2
    with archive.db.session() as s:
        assert store.outbox_size(s) == 0
    assert (
        archive.search.passage_ids()
        == _expected_ids(archive)
        == {f"e{ids['Un']}-0", f"e{ids['Un']}-1", f"e{ids['Deux']}-0"}
    )
    assert {h.episode_id for h in archive.search.search("tigre").hits} == {ids["Un"]}


def test_task_meilisearch_reports_failed_stays_queued(make_settings):
    archive = Archive(make_settings())
    add_show(archive, "Le Magazine", {"Un": ["le tigre rugit"]})
    archive.search.ensure_settings()
    # Someone drops episode_id from the filterable attributes: the delete-by-filter
    # task is accepted (HTTP 202) and then fails inside Meilisearch.
    client = archive.search.client
    client.wait_for_task(client.index(archive.search.passages_uid).update_filterable_attributes(["year"]).task_uid)

    report = index_episodes(archive)

    assert report.failed == 1 and report.done == 0
    with archive.db.session() as s:
        (rows,) = store.pending_index_work(s, store.now() + timedelta(days=2)).values()
        assert "failed" in (rows[0].last_error or "") and "filter" in (rows[0].last_error or "")
    assert archive.search.document_count() == 0


def test_show_not_publishing_stays_out_of_public_index(make_settings):
    archive = Archive(make_settings())
    ids = add_show(archive, "Brouillons", {"Un": ["le tigre rugit"]})
    add_show(archive, "Public", {"Deux": ["le tigre dort"]})
    index_episodes(archive)
    assert archive.search.document_count() == 2

    with archive.db.session() as s:
        feed = s.get(store.Episode, ids["Un"]).feed
        assert store.set_feed_publishing(s, feed.id, False) == 1
    index_episodes(archive)
    assert [h.episode_title for h in archive.search.search("tigre").hits] == ["Deux"]
    # Episode metadata stays searchable; the transcript text does not.
    assert [h.title for h in archive.search.search_episodes("Un")] == ["Un"]

    with archive.db.session() as s:
        store.set_feed_publishing(s, s.get(store.Episode, ids["Un"]).feed_id, True)
    index_episodes(archive)
    assert archive.search.document_count() == 2
