"""Crash tests: kill -9 an ingest in the middle of each stage, run again, lose and duplicate nothing."""

from __future__ import annotations

import functools
import os
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from http.server import SimpleHTTPRequestHandler
from pathlib import Path

import pytest

from archive.context import Archive
from tests.conftest import copy_audio, rss, run_cli, settings_env
from tests.loopback import QuietServer

pytestmark = [pytest.mark.sqlite_only, pytest.mark.slow]

FILES = ["ask-not.mp3", "jfk.flac", "fleurs-en-002.ogg"]


class _SlowHandler(SimpleHTTPRequestHandler):
    """Serves files slowly (about 64 KB/s) when asked, so a download is in progress long enough to be killed."""

    delay = 0.0
    first_byte_delay = 0.0

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002
        pass

    def copyfile(self, source, outputfile):  # type: ignore[no-untyped-def]
        time.sleep(self.first_byte_delay)
        while chunk := source.read(8192):
            outputfile.write(chunk)
            time.sleep(self.delay)


@pytest.fixture
def slow_root(tmp_path: Path):
    root = tmp_path / "slow"
    root.mkdir()
    handler = type("Handler", (_SlowHandler,), {})
    server = QuietServer(("127.0.0.1", 0), functools.partial(handler, directory=str(root)))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield root, f"http://127.0.0.1:{server.server_address[1]}", handler
    server.shutdown()
    server.server_close()


def _stage_running(db_path: Path, stage: str) -> bool:
    try:
        con = sqlite3.connect(f"file:{db_path}?mode=ro", uri=True, timeout=1)
        try:
            row = con.execute(
                "SELECT count(*) FROM stage_runs WHERE stage = ? AND finished_at IS NULL", (stage,)
            ).fetchone()
        finally:
            con.close()
    except sqlite3.Error:
        return False
    return bool(row and row[0])


@pytest.mark.parametrize("stage", ["poll", "download", "transcribe", "index"])
def test_kill_during_stage_loses_nothing(stage, make_settings, slow_root):
    root, base, handler = slow_root
    if stage == "download":
        handler.delay = 0.12
    for name in FILES:
        copy_audio(name, root)
    items = [{"title": n, "guid": n, "url": f"{base}/{n}"} for n in FILES]
    (root / "feed.xml").write_text(rss("Crash show", items))
    settings = make_settings()
    assert run_cli(settings, "feeds", "add", f"{base}/feed.xml").returncode == 0
    if stage == "poll":
        handler.first_byte_delay = 1.5  # the feed answers slowly: the kill lands mid-poll
    else:
        assert run_cli(settings, "ingest", "--stage", "poll").returncode == 0

    proc = subprocess.Popen(
        [sys.executable, "-m", "archive.cli", "ingest"],
        env=settings_env(settings),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    db_path = settings.data_dir / "podarchive.db"
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and proc.poll() is None and not _stage_running(db_path, stage):
        time.sleep(0.02)
    killed = proc.poll() is None
    if killed:
        time.sleep(0.3)  # into the stage's work, not just its bookkeeping
        os.kill(proc.pid, signal.SIGKILL)
    proc.wait(timeout=30)

    # The slow server was there to catch the first run mid-stage; the run after the crash
    # gets files at full speed (a partial download must still be resumed or restarted).
    handler.delay = handler.first_byte_delay = 0.0
    again = run_cli(settings, "ingest")
    assert again.returncode == 0, again.stdout + again.stderr

    con = sqlite3.connect(db_path)
    assert con.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    assert con.execute("SELECT count(*) FROM episodes").fetchone()[0] == 3
    assert con.execute("SELECT count(*) FROM audio_files").fetchone()[0] == 3
    per_episode = con.execute("SELECT episode_id, count(*) FROM transcripts GROUP BY episode_id").fetchall()
    assert sorted(n for _, n in per_episode) == [1, 1, 1]
    # Every transcript is whole: segments present and none dangling.
    assert (
        con.execute(
            "SELECT count(*) FROM transcripts t"
            " WHERE NOT EXISTS (SELECT 1 FROM segments s WHERE s.transcript_id = t.id)"
        ).fetchone()[0]
        == 0
    )
    assert con.execute("SELECT count(*) FROM index_outbox").fetchone()[0] == 0
    segments = con.execute("SELECT count(*) FROM segments WHERE trim(text) != ''").fetchone()[0]
    con.close()

    stored = sorted(p.name for p in settings.audio_dir.iterdir() if p.is_file())
    assert len(stored) == 3, stored
    partial = settings.audio_dir / ".partial"
    assert not partial.exists() or not any(partial.iterdir())
    # The index converged to the database: one document per non-empty segment.
    archive = Archive(settings)
    assert len(archive.search.passage_ids()) == segments
    if not killed:
        pytest.fail(f"ingest finished before the {stage} stage could be interrupted")
