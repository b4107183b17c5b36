"""The walking skeleton: a feed of real speech becomes searchable episode pages."""

from __future__ import annotations

import fcntl
import re

from archive import store
from archive.context import Archive
from tests.conftest import copy_audio, rss, run_cli
from tests.loopback import free_port
from web import create_app


def test_feed_to_searchable_pages(make_settings, http_root):
    root, base = http_root
    copy_audio("ask-not.mp3", root)
    copy_audio("fleurs-en-002.ogg", root)
    (root / "broken.mp3").write_text("<!doctype html><html><body>Not found</body></html>")
    (root / "feed.xml").write_text(
        rss(
            "Test interviews",
            [
                {"title": "Ask not", "guid": "ep-1", "url": f"{base}/ask-not.mp3"},
                {"title": "Sintra", "guid": "ep-2", "url": f"{base}/fleurs-en-002.ogg"},
                {"title": "Broken", "guid": "ep-3", "url": f"{base}/broken.mp3"},
            ],
        )
    )
    settings = make_settings()
    dead = f"http://127.0.0.1:{free_port()}/feed.xml"
    assert run_cli(settings, "feeds", "add", f"{base}/feed.xml", "--language", "en").returncode == 0
    assert run_cli(settings, "feeds", "add", dead).returncode == 0

    result = run_cli(settings, "ingest")

    # Something failed (a bad enclosure, a dead feed): exit 1, and the run went on.
    assert result.returncode == 1, result.stdout + result.stderr
    assert "transcribe: 2 ok" in result.stdout
    archive = Archive(settings)
    with archive.db.session() as s:
        feeds = {f.url: f for f in store.list_feeds(s)}
        assert feeds[dead].error_count == 1 and "FetchError" in (feeds[dead].last_error or "")
        assert feeds[dead].next_poll_at is not None
        cards = {c.title: c for c in store.episode_states(s)}
        assert cards["Ask not"].has_transcript and cards["Sintra"].has_transcript
        broken = cards["Broken"]
        assert not broken.has_transcript
        assert broken.error and "HTML" in broken.error and "not audio" in broken.error
        ask_not_id = cards["Ask not"].id
        assert store.outbox_size(s) == 0
    # Nothing of the broken episode is indexed; the audio store holds no stray files.
    audio_files = sorted(p.name for p in settings.audio_dir.iterdir() if p.is_file())
    assert len(audio_files) == 2
    assert not any((settings.audio_dir / ".partial").iterdir())

    index = archive.search
    page = index.search("country")
    assert page.hits, "a spoken word must be found"
    hit = page.hits[0]
    assert hit.episode_id == ask_not_id
    # "country" is said in the JFK clip, the first 11 s of the episode.
    assert 0 <= hit.start < 11.0
    assert "<mark>" in hit.html and re.search(r"<mark>country</mark>", hit.html, re.I)
    assert index.search("Broken").total == 0

    # The episode page shows that passage with a link that seeks to it.
    client = create_app(settings).test_client()
    html = client.get(f"/episodes/{ask_not_id}?t={hit.start:.2f}").get_data(as_text=True)
    assert f'id="p-{hit.position}"' in html
    assert "country" in html.lower()
    assert f"#t={hit.start:.2f}" in html
    search_html = client.get("/search?q=country").get_data(as_text=True)
    assert f"/episodes/{ask_not_id}?t={hit.start:.2f}#p-{hit.position}" in search_html

    # A second run finds nothing new and creates no duplicates.
    again = run_cli(settings, "ingest")
    with archive.db.session() as s:
        assert len(store.episode_states(s)) == 3
    assert "transcribe: 0 ok" in again.stdout


def test_locked_stage_is_skipped(make_settings):
    settings = make_settings()
    lock_dir = settings.data_dir / "locks"
    lock_dir.mkdir(parents=True)
    with open(lock_dir / "transcribe.lock", "a") as held:
        fcntl.flock(held, fcntl.LOCK_EX)
        result = run_cli(settings, "ingest", timeout=120)
    assert result.returncode == 0, result.stderr
    assert "transcribe: skipped (another run holds its lock)" in result.stdout
    assert "poll: 0 ok" in result.stdout
