"""Operator commands: status, doctor, /healthz."""

from __future__ import annotations

import pytest

from tests.conftest import copy_audio, rss, run_cli
from tests.loopback import free_port
from web import create_app

pytestmark = pytest.mark.slow


def dead_url() -> str:
    """A URL on a loopback port where nothing listens."""
    return f"http://127.0.0.1:{free_port()}"


def test_status_after_ingest(make_settings, http_root):
    root, base = http_root
    copy_audio("jfk.flac", root)
    (root / "feed.xml").write_text(rss("Status show", [{"title": "JFK", "guid": "j", "url": f"{base}/jfk.flac"}]))
    dead_feed = f"{dead_url()}/feed.xml"
    settings = make_settings()
    run_cli(settings, "feeds", "add", f"{base}/feed.xml")
    run_cli(settings, "feeds", "add", dead_feed)
    assert run_cli(settings, "ingest").returncode == 1

    out = run_cli(settings, "status")

    assert out.returncode == 0, out.stderr
    assert "feeds: 2   episodes: 1" in out.stdout
    assert "transcribed: 1" in out.stdout and "awaiting transcript: 0" in out.stdout
    assert "x real time" in out.stdout
    assert f"failing feed 2 {dead_feed}: x1" in out.stdout
    for stage in ("poll", "download", "transcribe", "index"):
        assert f"last {stage}:" in out.stdout
    assert "last poll:" in out.stdout and "1 ok, 1 failed" in out.stdout


def test_doctor_passes_and_names_a_fix(make_settings):
    good = run_cli(make_settings(), "doctor")
    assert good.returncode == 0, good.stdout
    for name in ("ffmpeg", "meilisearch", "model", "disk", "migrations"):
        assert f"ok   {name}" in good.stdout
    assert "version 1.21.0" in good.stdout

    bad = run_cli(make_settings(meili_url=dead_url(), meili_key="k" * 20), "doctor", "--skip-model")
    assert bad.returncode == 1
    assert "FAIL meilisearch" in bad.stdout and "fix: check PODARCHIVE_MEILI_URL/KEY" in bad.stdout


def test_healthz(make_settings):
    ok = create_app(make_settings()).test_client().get("/healthz")
    assert ok.status_code == 200 and ok.get_json()["checks"] == {"database": "ok", "search": "ok"}
    assert "Content-Security-Policy" in ok.headers

    down = create_app(make_settings(meili_url=dead_url(), meili_key="k" * 20)).test_client().get("/healthz")
    assert down.status_code == 503
    body = down.get_json()
    assert body["checks"]["database"] == "ok" and body["checks"]["search"].startswith("error")
    assert "k" * 20 not in down.get_data(as_text=True)


@pytest.mark.sqlite_only
def test_backup_then_restore_elsewhere(make_settings, http_root, tmp_path):
    import sqlite3

    root, base = http_root
    copy_audio("jfk.flac", root)
    (root / "feed.xml").write_text(rss("Backup show", [{"title": "JFK", "guid": "j", "url": f"{base}/jfk.flac"}]))
    settings = make_settings()
    run_cli(settings, "feeds", "add", f"{base}/feed.xml")
    assert run_cli(settings, "ingest").returncode == 0

    dest = tmp_path / "backup"
    made = run_cli(settings, "backup", str(dest), "--with-audio")
    assert made.returncode == 0, made.stderr
    assert "1 audio files listed, 1 copied" in made.stdout
    assert "meili_key" not in (dest / "settings.json").read_text()
    assert run_cli(settings, "backup", str(dest)).returncode != 0  # never overwrites a backup

    other = make_settings(data_dir=tmp_path / "elsewhere")
    restored = run_cli(other, "restore", str(dest))
    assert restored.returncode == 0, restored.stdout + restored.stderr
    assert "search index rebuilt with" in restored.stdout
    db = sqlite3.connect(other.data_dir / "podarchive.db")
    assert db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    assert db.execute("SELECT count(*) FROM segments").fetchone()[0] > 0
    found = run_cli(other, "search", "country")
    assert "JFK" in found.stdout, found.stdout + found.stderr
    # A second restore over the now-existing database needs --force.
    assert run_cli(other, "restore", str(dest)).returncode != 0


def test_json_log_lines_name_the_failing_item(make_settings):
    import json

    settings = make_settings()
    dead = f"{dead_url()}/feed.xml"
    run_cli(settings, "feeds", "add", dead)
    out = run_cli(settings, "--json-log", "ingest", "--stage", "poll")
    assert out.returncode == 1
    lines = [json.loads(line) for line in out.stderr.splitlines() if line.startswith("{")]
    assert any(e["level"] == "warning" and dead in e["message"] for e in lines), out.stderr


def test_retention_drops_old_audio_keeps_transcript(make_settings, http_root):
    from datetime import timedelta

    from sqlalchemy import update

    from archive.context import Archive
    from archive.store.schema import AudioFile, Segment, Transcript, utcnow

    root, base = http_root
    copy_audio("jfk.flac", root)
    copy_audio("fleurs-en-002.ogg", root)
    items = [
        {"title": "Old", "guid": "old", "url": f"{base}/jfk.flac"},
        {"title": "New", "guid": "new", "url": f"{base}/fleurs-en-002.ogg"},
    ]
    (root / "feed.xml").write_text(rss("Retention show", items))
    settings = make_settings(audio_retention_days=30)
    run_cli(settings, "feeds", "add", f"{base}/feed.xml")
    assert run_cli(settings, "ingest").returncode == 0
    archive = Archive(settings)
    with archive.db.session() as s:
        old_id = s.scalar(
            AudioFile.__table__.select().with_only_columns(AudioFile.episode_id).where(AudioFile.path.like("%.flac"))
        )
        s.execute(
            update(Transcript).where(Transcript.episode_id == old_id).values(created_at=utcnow() - timedelta(days=31))
        )
        segments_before = s.query(Segment).count()

    out = run_cli(settings, "ingest", "--stage", "prune")

    assert out.returncode == 0 and "prune: 1 ok" in out.stdout, out.stdout
    assert sorted(p.suffix for p in settings.audio_dir.iterdir() if p.is_file()) == [".ogg"]
    with archive.db.session() as s:
        pruned = {a.episode_id: a.pruned_at for a in s.query(AudioFile)}
        assert pruned[old_id] is not None and sum(v is not None for v in pruned.values()) == 1
        assert s.query(Segment).count() == segments_before
    assert "Old" in run_cli(settings, "search", "country").stdout
    # The episode page still works; its audio now comes from the show's own enclosure.
    client = create_app(settings).test_client()
    assert client.get(f"/episodes/{old_id}").status_code == 200
    moved = client.get(f"/episodes/{old_id}/audio")
    assert moved.status_code == 302 and moved.headers["Location"] == f"{base}/jfk.flac"
    # Pruned audio is never downloaded again, and a second prune finds nothing.
    again = run_cli(settings, "ingest")
    assert "download: 0 ok" in again.stdout and "prune: 0 ok" in again.stdout


def test_max_minutes_stops_starting_new_work(make_settings, http_root):
    root, base = http_root
    copy_audio("jfk.flac", root)
    (root / "feed.xml").write_text(rss("Budget show", [{"title": "JFK", "guid": "j", "url": f"{base}/jfk.flac"}]))
    settings = make_settings()
    run_cli(settings, "feeds", "add", f"{base}/feed.xml")

    out = run_cli(settings, "ingest", "--max-minutes", "0")

    assert out.returncode == 0, out.stderr
    assert "poll: skipped (time limit reached)" in out.stdout
    assert "transcribe: skipped (time limit reached)" in out.stdout
    done = run_cli(settings, "ingest")
    assert "transcribe: 1 ok" in done.stdout


def test_admin_page_plots_for_admins_only(make_settings):
    from tests.editor_site import login, make_archive

    ea = make_archive(make_settings())
    client = create_app(ea.settings).test_client()
    assert client.get("/admin/").status_code in (302, 401)  # anonymous: to the log-in page
    login(client)  # an editor, not an admin
    assert client.get("/admin/").status_code == 403
    admin = create_app(ea.settings).test_client()
    login(admin, email="boss@example.org")
    page = admin.get("/admin/")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    # Five charts; one with no data (nothing failing here) says so instead of drawing.
    assert html.count("<svg") + html.count(": —</p>") == 5 and "<script" not in html
    assert "Failing episodes per feed: —" in html
    assert "<title>Episodes per month</title>" in html and "2026-11" in html


def test_prune_drops_abandoned_partial_downloads(make_settings, http_root):
    import os
    import time

    from sqlalchemy import update

    from archive.context import Archive
    from archive.store.schema import Episode

    root, base = http_root
    items = [{"title": f"E{i}", "guid": f"g{i}", "url": f"{base}/e{i}.mp3"} for i in range(3)]
    (root / "feed.xml").write_text(rss("Partial show", items))
    settings = make_settings()
    run_cli(settings, "feeds", "add", f"{base}/feed.xml")
    assert run_cli(settings, "ingest", "--stage", "poll").returncode == 0
    archive = Archive(settings)
    with archive.db.session() as s:
        trying, given_up, stale = sorted(s.scalars(Episode.__table__.select().with_only_columns(Episode.id)))
        s.execute(update(Episode).where(Episode.id == given_up).values(attempts=settings.max_attempts))
    tmp = settings.audio_dir / ".partial"
    tmp.mkdir(parents=True)
    for eid in (trying, given_up, stale, 99_999):
        (tmp / f"{eid:08d}.part").write_bytes(b"\xff\xfb" * 100)
        (tmp / f"{eid:08d}.json").write_text("{}")
    week_ago = time.time() - 8 * 86400
    for suffix in (".part", ".json"):
        os.utime(tmp / f"{stale:08d}{suffix}", (week_ago, week_ago))
    (tmp / "README").write_text("not ours")

    assert run_cli(settings, "ingest", "--stage", "prune").returncode == 0

    left = sorted(p.name for p in tmp.iterdir())
    assert left == sorted(["README", f"{trying:08d}.json", f"{trying:08d}.part"])
