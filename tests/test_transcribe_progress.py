"""A progress bar per episode on a terminal; nothing when the output is not a terminal (cron)."""

from __future__ import annotations

import io
import os
import pty
import select
import subprocess
import sys
import time

import pytest

from archive.cli.progress import EpisodeProgress, terminal_progress
from tests.conftest import copy_audio, rss, run_cli, settings_env

pytestmark = pytest.mark.slow


def test_one_bar_per_episode_with_seconds_and_speed():
    out = io.StringIO()
    bar = EpisodeProgress(out)
    for done in (0.0, 5.0, 11.0):
        bar(done, 11.0)
    for done in (0.0, 20.0):
        bar(done, 45.0)
    bar.close()
    text = out.getvalue()
    assert bar.episodes == 2
    assert "episode 1: 100%" in text and "11/11 s audio" in text
    assert "episode 2:  44%" in text and "20/45 s audio" in text
    assert "x real time" in text
    assert terminal_progress(io.StringIO()) is None


def test_ingest_draws_bars_on_a_terminal_and_stays_quiet_in_cron(make_settings, http_root):
    root, base = http_root
    copy_audio("jfk.flac", root)
    (root / "feed.xml").write_text(rss("Speeches", [{"title": "jfk", "guid": "j", "url": f"{base}/jfk.flac"}]))
    settings = make_settings()
    assert run_cli(settings, "feeds", "add", f"{base}/feed.xml", "--language", "en").returncode == 0
    assert run_cli(settings, "ingest", "--stage", "poll", "--stage", "download").returncode == 0

    # Piped (as under cron): no bar.
    piped_settings = make_settings(data_dir=settings.data_dir)
    # A terminal: the real CLI under a pseudo-terminal.
    master, slave = pty.openpty()
    proc = subprocess.Popen(
        [sys.executable, "-m", "archive.cli", "ingest", "--stage", "transcribe"],
        env=settings_env(settings),
        stdin=slave,
        stdout=slave,
        stderr=slave,
    )
    os.close(slave)
    chunks = []
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        ready, _, _ = select.select([master], [], [], 1.0)
        if ready:
            try:
                data = os.read(master, 4096)
            except OSError:  # EIO: the child closed the terminal
                break
            if not data:
                break
            chunks.append(data)
        elif proc.poll() is not None:
            break
    proc.wait(timeout=30)
    os.close(master)
    shown = b"".join(chunks).decode("utf-8", "replace")
    assert proc.returncode == 0, shown
    assert "episode 1:" in shown and "11/11 s audio" in shown and "x real time" in shown

    # The same command piped, as cron runs it: only the summary line.
    run_cli(piped_settings, "ingest", "--stage", "transcribe")
    again = run_cli(piped_settings, "ingest", "--stage", "transcribe")
    assert "episode 1:" not in again.stdout + again.stderr and "transcribe: 0 ok" in again.stdout
