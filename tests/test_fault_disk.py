"""Disk full during a download and during a database write: a clean error, nothing corrupt.

The fault is a real one: the stage runs in a child process under RLIMIT_FSIZE (writes past
the limit fail with EFBIG, SIGXFSZ ignored), or on a small tmpfs when mount works (root).
"""

from __future__ import annotations

import resource
import signal
import sqlite3
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
from sqlalchemy import select

from archive import store
from archive.config import Settings
from archive.context import Archive
from archive.ingest import run_stages
from tests.conftest import AUDIO, copy_audio, rss, settings_env

pytestmark = pytest.mark.sqlite_only


def _limit(limit: int) -> Callable[[], None]:
    def apply() -> None:
        # In the child, before exec: both survive exec. A write past the limit then fails with EFBIG.
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))

    return apply


def _run_limited(settings: Settings, limit: int, stage: str) -> subprocess.CompletedProcess[str]:
    """The real `podarchive ingest --stage STAGE` with every file it writes capped at limit bytes."""
    return subprocess.run(
        [sys.executable, "-m", "archive.cli", "ingest", "--stage", stage],
        env=settings_env(settings),
        capture_output=True,
        text=True,
        timeout=120,
        preexec_fn=_limit(limit),
        cwd=Path(__file__).parent.parent,
    )


def _integrity(settings: Settings) -> str:
    con = sqlite3.connect(settings.data_dir / "podarchive.db")
    try:
        return str(con.execute("PRAGMA integrity_check").fetchone()[0])
    finally:
        con.close()


def _feed(root: Path, base: str, files: list[str]) -> None:
    items = []
    for n, name in enumerate(files):
        copy_audio(name, root)
        items.append(
            {"title": name, "guid": f"g{n}", "url": f"{base}/{name}", "date": f"Mon, 0{n + 1} Nov 2026 09:00:00 +0000"}
        )
    (root / "feed.xml").write_text(rss("Disk", items))


def _episodes(archive: Archive) -> dict[str, tuple[str | None, str | None]]:
    with archive.db.session() as s:
        return {e.title: (e.audio.path if e.audio else None, e.last_error) for e in s.scalars(select(store.Episode))}


def test_download_past_the_file_size_limit_fails_that_episode_cleanly(
    make_settings: Callable[..., Settings], http_root: tuple[Path, str]
) -> None:
    root, base = http_root
    _feed(root, base, ["jfk.flac", "rugissement-du-tigre.mp3"])
    settings = make_settings()
    archive = Archive(settings)
    with archive.db.session() as s:
        store.add_feed(s, f"{base}/feed.xml", "en")
    run_stages(archive, ("poll",))
    # Room for the database to grow and for the 121 kB MP3, not for the 1.1 MB FLAC.
    limit = max(p.stat().st_size for p in settings.data_dir.glob("podarchive.db*")) + 400_000
    assert limit < (AUDIO / "jfk.flac").stat().st_size

    child = _run_limited(settings, limit, "download")
    assert child.returncode == 1 and "Traceback" not in child.stderr, child.stderr[-3000:]
    assert "download: 1 ok, 1 failed" in child.stdout, child.stdout
    state = _episodes(archive)
    assert state["rugissement-du-tigre.mp3"][0] is not None
    path, error = state["jfk.flac"]
    assert path is None and "File too large" in (error or ""), error
    assert [p.name for p in settings.audio_dir.iterdir() if p.is_file()] == [state["rugissement-du-tigre.mp3"][0]]
    assert not list((settings.audio_dir / ".partial").iterdir())
    assert _integrity(settings) == "ok"

    # Space again: the next run downloads it whole.
    with archive.db.session() as s:
        for e in s.scalars(select(store.Episode)):
            e.next_try_at = None
    [report] = run_stages(archive, ("download",))
    assert (report.done, report.failed) == (1, 0)
    path, _ = _episodes(archive)["jfk.flac"]
    assert path and (settings.audio_dir / path).read_bytes() == (AUDIO / "jfk.flac").read_bytes()


def test_database_write_past_the_file_size_limit_is_clean(
    make_settings: Callable[..., Settings], http_root: tuple[Path, str]
) -> None:
    root, base = http_root
    # A feed with many long episodes: storing them grows the database past the limit.
    notes = "x" * 4000
    items = "".join(
        f"<item><title>Ep {n}</title><guid>g{n}</guid><description>{notes}</description></item>" for n in range(400)
    )
    (root / "big.xml").write_text(
        f'<?xml version="1.0"?><rss version="2.0"><channel><title>Big</title>{items}</channel></rss>'
    )
    (root / "small.xml").write_text(rss("Small", [{"title": "One", "guid": "s1", "url": f"{base}/a.mp3"}]))
    settings = make_settings()
    archive = Archive(settings)
    with archive.db.session() as s:
        store.add_feed(s, f"{base}/small.xml", None)
        store.add_feed(s, f"{base}/big.xml", None)
    size = (settings.data_dir / "podarchive.db").stat().st_size
    wal = settings.data_dir / "podarchive.db-wal"
    limit = max(size, wal.stat().st_size if wal.exists() else 0) + 150_000

    child = _run_limited(settings, limit, "poll")
    # A clear message and a failing exit code, never a traceback or a corrupt file.
    # The stage records the failure on the feed and goes on; the run exits 1 with its summary.
    assert child.returncode == 1 and "poll: 1 ok, 1 failed" in child.stdout, child.stdout + child.stderr[-3000:]
    assert "400 new" not in child.stderr  # the rolled-back transaction claims nothing
    with archive.db.session() as s:
        errors = {f.url.rsplit("/", 1)[1]: f.last_error or "" for f in store.list_feeds(s)}
    assert "disk I/O error" in errors["big.xml"] or "full" in errors["big.xml"], errors
    assert _integrity(settings) == "ok"
    with archive.db.session() as s:
        counts = {f.url.rsplit("/", 1)[1]: len(store.feed_episodes(s, f.id)) for f in store.list_feeds(s)}
    # All or nothing per feed: the big feed's episodes are either all stored or none.
    assert counts["big.xml"] in (0, 400), counts

    # Without the limit the next run stores everything.
    with archive.db.session() as s:
        for f in store.list_feeds(s):
            f.next_poll_at = None
    run_stages(archive, ("poll",))
    with archive.db.session() as s:
        counts = {f.url.rsplit("/", 1)[1]: len(store.feed_episodes(s, f.id)) for f in store.list_feeds(s)}
    assert counts == {"small.xml": 1, "big.xml": 400}
    assert _integrity(settings) == "ok"


def test_audio_store_on_a_full_tmpfs(make_settings: Callable[..., Settings], http_root: tuple[Path, str]) -> None:
    root, base = http_root
    settings = make_settings()
    settings.audio_dir.mkdir(parents=True, exist_ok=True)
    mounted = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=600k", "tmpfs", str(settings.audio_dir)], capture_output=True, text=True
    )
    if mounted.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here (needs root): {mounted.stderr.strip()}")
    try:
        _feed(root, base, ["jfk.flac", "rugissement-du-tigre.mp3"])
        archive = Archive(settings)
        with archive.db.session() as s:
            store.add_feed(s, f"{base}/feed.xml", "en")
        reports = {r.stage: r for r in run_stages(archive, ("poll", "download"))}
        assert (reports["download"].done, reports["download"].failed) == (1, 1)
        path, error = _episodes(archive)["jfk.flac"]
        assert path is None and "No space left" in (error or ""), error
        # The partial file of the failed episode is gone: the space is free for the next one.
        assert not list((settings.audio_dir / ".partial").glob("*.part"))
        assert _integrity(settings) == "ok"
    finally:
        subprocess.run(["umount", "-l", str(settings.audio_dir)], capture_output=True)


def _downloaded(settings: Settings, http_root: tuple[Path, str]) -> Archive:
    """An archive with one downloaded episode waiting for its transcript."""
    root, base = http_root
    _feed(root, base, ["jfk.flac"])
    archive = Archive(settings)
    with archive.db.session() as s:
        store.add_feed(s, f"{base}/feed.xml", "en")
    reports = run_stages(archive, ("poll", "download"))
    assert [(r.done, r.failed) for r in reports] == [(1, 0), (1, 0)]
    return archive


def _not_charged(archive: Archive) -> None:
    with archive.db.session() as s:
        episode = s.scalars(select(store.Episode)).one()
        assert (episode.attempts, episode.last_error, episode.next_try_at) == (0, None, None)


def test_model_cache_past_the_file_size_limit_is_not_the_episodes_fault(
    make_settings: Callable[..., Settings], http_root: tuple[Path, str]
) -> None:
    # Packaged "base" is joined into the cache (145 MB) on first use; 20 MB is not enough.
    settings = make_settings(model="base")
    archive = _downloaded(settings, http_root)

    child = _run_limited(settings, 20_000_000, "transcribe")

    output = child.stdout + child.stderr
    assert child.returncode == 1 and "Traceback" not in output, output[-3000:]
    assert "model cache" in child.stderr and "File too large" in child.stderr, output[-3000:]
    assert "cannot read" not in output and ".flac" not in child.stderr
    _not_charged(archive)
    # No half-joined weights left (the small side files may stay: model.bin marks a complete copy).
    assert not list(settings.cache_dir.rglob("model.bin")) and not list(settings.cache_dir.rglob("*.tmp"))
    assert _integrity(settings) == "ok"

    # Room again: the same episode is transcribed on the next run.
    [report] = run_stages(archive, ("transcribe",))
    assert (report.done, report.failed) == (1, 0), report.notes


def test_model_cache_on_a_full_tmpfs_is_not_the_episodes_fault(
    make_settings: Callable[..., Settings], http_root: tuple[Path, str]
) -> None:
    settings = make_settings(model="base")
    settings.cache_dir.mkdir(parents=True)
    mounted = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=20m", "tmpfs", str(settings.cache_dir)], capture_output=True, text=True
    )
    if mounted.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here (needs root): {mounted.stderr.strip()}")
    try:
        archive = _downloaded(settings, http_root)
        [report] = run_stages(archive, ("transcribe",))
        assert report.done == 0 and report.notes, report
        assert "No space left on device" in report.notes[0] and "model cache" in report.notes[0], report.notes
        _not_charged(archive)
    finally:
        subprocess.run(["umount", "-l", str(settings.cache_dir)], capture_output=True)
