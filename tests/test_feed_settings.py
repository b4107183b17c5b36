"""`podarchive feeds set`: per-show language, machine-text publishing and ASR preference from the real CLI."""

from __future__ import annotations

from datetime import timedelta

from archive import store
from archive.context import Archive
from tests.conftest import run_cli
from tests.search_corpus import add_show


def test_feeds_set_changes_settings_and_queues_index_work(make_settings):
    settings = make_settings()
    archive = Archive(settings)
    ids = add_show(archive, "Le Magazine", {"Un": ["le tigre rugit"], "Deux": ["le lion dort"]}, language="fr")
    with archive.db.session() as s:
        feed_id = s.get(store.Episode, ids["Un"]).feed_id
        for rows in store.pending_index_work(s, store.now() + timedelta(days=1)).values():
            store.complete_index_work(s, rows)

    out = run_cli(
        settings, "feeds", "set", str(feed_id), "--language", "EN", "--no-publish-transcripts", "--prefer-asr"
    )
    assert out.returncode == 0, out.stderr
    assert out.stdout.splitlines() == [
        f"feed {feed_id}: language: fr -> en (for episodes transcribed from now on; 2 queued for the search index)",
        f"feed {feed_id}: publish_transcripts: yes -> no (2 episodes queued for the search index)",
        f"feed {feed_id}: prefer_asr: no -> yes (for episodes transcribed from now on)",
    ]
    with archive.db.session() as s:
        feed = s.get(store.Feed, feed_id)
        assert (feed.language, feed.publish_transcripts, feed.prefer_asr) == ("en", False, True)
        assert sorted(store.pending_index_work(s, store.now())) == sorted(ids.values())

    out = run_cli(settings, "feeds", "set", str(feed_id), "--language", "en", "--no-publish-transcripts")
    assert out.returncode == 0 and out.stdout == f"feed {feed_id}: nothing changed\n"
    out = run_cli(settings, "feeds", "set", str(feed_id), "--language", "auto", "--no-prefer-asr")
    assert out.returncode == 0, out.stderr
    assert "language: en -> auto" in out.stdout and "prefer_asr: yes -> no" in out.stdout
    with archive.db.session() as s:
        assert s.get(store.Feed, feed_id).language is None


def test_feeds_set_refuses_unknown_feed_and_bad_language(make_settings):
    settings = make_settings()
    archive = Archive(settings)
    ids = add_show(archive, "Le Magazine", {"Un": ["le tigre rugit"]})
    with archive.db.session() as s:
        feed_id = s.get(store.Episode, ids["Un"]).feed_id

    out = run_cli(settings, "feeds", "set", "999", "--prefer-asr")
    assert out.returncode == 1 and "no feed 999" in out.stderr
    out = run_cli(settings, "feeds", "set", str(feed_id), "--language", "français", "--prefer-asr")
    assert out.returncode == 1 and "language 'français'" in out.stderr
    with archive.db.session() as s:
        # Refused as a whole: the valid option in the same command changed nothing.
        assert s.get(store.Feed, feed_id).prefer_asr is False
    assert "--no-publish-transcripts" in run_cli(settings, "feeds", "set", "--help").stdout
