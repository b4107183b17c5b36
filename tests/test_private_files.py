"""The data directory and backups are private to their owner: 0700 folders, 0600 files (issue 19, item 2).

Every process below runs under the common umask 022, so nothing is private by accident.
"""

from __future__ import annotations

import os
import stat
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest

from archive.config import Settings
from archive.search.server import LocalMeili
from tests.conftest import copy_audio, rss, settings_env
from tests.loopback import free_port, wait_healthy

pytestmark = pytest.mark.sqlite_only


def _umask_022() -> None:
    os.umask(0o022)


def _cli(settings: Settings, *args: str) -> subprocess.CompletedProcess[str]:
    """The real `podarchive` under umask 022."""
    return subprocess.run(
        [sys.executable, "-m", "archive.cli", *args],
        env=settings_env(settings),
        capture_output=True,
        text=True,
        timeout=600,
        preexec_fn=_umask_022,
    )


def _open_entries(root: Path) -> list[str]:
    """Entries under root (root included) that a group or other user could read, write or enter."""
    found = []
    for path in [root, *root.rglob("*")]:
        mode = path.lstat().st_mode
        if not stat.S_ISLNK(mode) and mode & 0o077:
            found.append(f"{path.relative_to(root.parent)} {stat.filemode(mode)}")
    return found


def _feed(root: Path, base: str) -> str:
    copy_audio("jfk.flac", root)
    (root / "feed.xml").write_text(rss("Private show", [{"title": "JFK", "guid": "j", "url": f"{base}/jfk.flac"}]))
    return f"{base}/feed.xml"


def test_a_new_data_directory_is_private_while_the_cli_and_the_site_write_it(
    make_settings: Callable[..., Settings], http_root: tuple[Path, str]
) -> None:
    root, base = http_root
    # The local Meilisearch, so its key and its data are in the data directory too.
    settings = make_settings(meili_url="", meili_key="")
    try:
        assert _cli(settings, "feeds", "add", _feed(root, base)).returncode == 0
        ingest = _cli(settings, "ingest")
        assert ingest.returncode == 0, ingest.stdout + ingest.stderr

        # The site as in production: gunicorn imports web:create_app(), no CLI involved.
        port = free_port()
        gunicorn = Path(sys.executable).with_name("gunicorn")
        site = subprocess.Popen(
            [str(gunicorn), "--workers", "1", "--bind", f"127.0.0.1:{port}", "web:create_app()"],
            env=settings_env(settings),
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            preexec_fn=_umask_022,
        )
        try:
            url = f"http://127.0.0.1:{port}"
            wait_healthy(url)
            assert httpx.get(f"{url}/search?q=country", timeout=20).status_code == 200
            assert httpx.get(f"{url}/editor/login", timeout=20).status_code == 200  # writes the secret key
            # The site holds the database open: its WAL and shared-memory files exist now.
            data = settings.data_dir
            present = {p.name for p in data.iterdir()}
            assert {"podarchive.db", "podarchive.db-wal", "podarchive.db-shm", "meili.key", "secret_key"} <= present
            assert list((data / "meili").rglob("data.mdb")), "no Meilisearch data in the data directory"
            assert [p.suffix for p in settings.audio_dir.iterdir() if p.is_file()] == [".flac"]
            assert _open_entries(data) == []
        finally:
            site.terminate()
            site.wait(timeout=30)
    finally:
        LocalMeili(settings).stop()


def test_an_open_data_directory_is_tightened_on_start_with_a_log_line(
    make_settings: Callable[..., Settings], tmp_path: Path
) -> None:
    settings = make_settings()
    assert _cli(settings, "status").returncode == 0
    data = settings.data_dir
    (data / "audio").mkdir()
    (data / "audio" / "00000001.mp3").write_bytes(b"ID3")
    # Someone else's file the data directory links to: not ours to change.
    outside = tmp_path / "outside.txt"
    outside.write_text("x")
    outside.chmod(0o644)
    (data / "link").symlink_to(outside)
    # As an older podarchive (or a umask 022 shell) left it.
    for path in [data, *data.rglob("*")]:
        if not path.is_symlink():
            path.chmod(0o755 if path.is_dir() else 0o644)
    assert len(_open_entries(data)) >= 4

    out = _cli(settings, "status")

    assert out.returncode == 0, out.stderr
    assert _open_entries(data) == []
    assert f"data directory {data} was readable by other users" in out.stderr, out.stderr
    assert stat.S_IMODE(outside.stat().st_mode) == 0o644
    # Once private, nothing to say.
    again = _cli(settings, "status")
    assert again.returncode == 0 and "readable by other users" not in again.stderr


def test_backups_are_private(
    make_settings: Callable[..., Settings], http_root: tuple[Path, str], tmp_path: Path
) -> None:
    root, base = http_root
    settings = make_settings()
    assert _cli(settings, "feeds", "add", _feed(root, base)).returncode == 0
    assert _cli(settings, "ingest", "--stage", "poll", "--stage", "download").returncode == 0

    fresh = tmp_path / "backup-new"
    made = _cli(settings, "backup", str(fresh), "--with-audio")
    assert made.returncode == 0, made.stdout + made.stderr
    assert {p.name for p in fresh.rglob("*")} >= {"podarchive.db", "settings.json", "manifest.json", "audio"}
    assert _open_entries(fresh) == []

    # An empty folder the operator made beforehand is made private too.
    given = tmp_path / "backup-given"
    given.mkdir(mode=0o755)
    given.chmod(0o755)
    assert _cli(settings, "backup", str(given), "--with-audio").returncode == 0
    assert _open_entries(given) == []


def test_joined_model_weights_are_private(make_settings: Callable[..., Settings]) -> None:
    settings = make_settings(model="base")
    out = _cli(settings, "models", "prepare")
    assert out.returncode == 0, out.stderr
    joined = Path(out.stdout.strip())
    assert joined.parent == settings.cache_dir and (joined / "model.bin").stat().st_size > 100_000_000
    assert _open_entries(settings.data_dir) == []
