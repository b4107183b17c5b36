"""Secrets stay out of `ps`, `podarchive config` and backups (issue 19, items 1 and 3)."""

from __future__ import annotations

import json
import subprocess
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest

from archive.config import Settings, load_settings
from archive.search.server import LocalMeili
from tests.conftest import run_cli
from tests.loopback import Server


def test_local_meilisearch_key_never_in_its_command_line(tmp_path: Path) -> None:
    local = LocalMeili(load_settings(environ={}, data_dir=tmp_path / "data"))
    endpoint = local.ensure_running()
    try:
        pid = int(json.loads(local.state_file.read_text())["pid"])
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes()
        assert b"meilisearch" in cmdline  # the right process
        assert endpoint.key.encode() not in cmdline
        # What any local user sees with ps.
        ps = subprocess.run(["ps", "-eww", "-o", "args"], capture_output=True, text=True, check=True).stdout
        assert str(tmp_path) in ps and endpoint.key not in ps
        # The key is in force all the same: no key, no index list.
        assert httpx.get(f"{endpoint.url}/indexes", timeout=5).status_code == 401
        auth = {"Authorization": f"Bearer {endpoint.key}"}
        assert httpx.get(f"{endpoint.url}/indexes", headers=auth, timeout=5).status_code == 200
    finally:
        local.stop()


# One password per URL-valued setting, so a leak names its setting.
URLS = {
    "database_url": "postgresql+psycopg://arch:db-pw-1@127.0.0.1:1/podarchive",
    "meili_url": "http://search:meili-pw-2@127.0.0.1:1",
    "dask_scheduler": "tcp://dask:dask-pw-3@127.0.0.1:8786",
    "public_url": "https://site:site-pw-4@archive.example",
}
PASSWORDS = ("db-pw-1", "meili-pw-2", "dask-pw-3", "site-pw-4")


def test_config_masks_the_password_of_every_url_setting(tmp_path: Path) -> None:
    settings = load_settings(environ={}, data_dir=tmp_path, meili_key="k" * 20, **URLS)
    out = run_cli(settings, "config")
    assert out.returncode == 0, out.stderr
    for password in PASSWORDS:
        assert password not in out.stdout, out.stdout
    # Still useful: user, host and port shown.
    assert "database_url = postgresql+psycopg://arch:****@127.0.0.1:1/podarchive" in out.stdout
    assert "meili_url = http://search:****@127.0.0.1:1" in out.stdout
    assert "dask_scheduler = tcp://dask:****@127.0.0.1:8786" in out.stdout
    assert "public_url = https://site:****@archive.example" in out.stdout


@pytest.mark.parametrize(
    ("url", "shown"),
    [
        ("postgresql://me:hunter2@db/x", "postgresql://me:****@db/x"),
        ("postgresql://:hunter2@db/x", "postgresql://:****@db/x"),
        ("postgresql://me@db/x", "postgresql://me@db/x"),
        ("postgresql://db/x?user=me&password=hunter2&ssl=1", "postgresql://db/x?user=me&password=****&ssl=1"),
        ("sqlite:///x.db", "sqlite:///x.db"),
        ("", ""),
    ],
)
def test_public_items_mask_passwords_in_url_settings(tmp_path: Path, url: str, shown: str) -> None:
    items = dict(load_settings(environ={}, data_dir=tmp_path, database_url=url).public_items())
    assert items["database_url"] == shown
    assert "hunter2" not in json.dumps(items)


@pytest.mark.sqlite_only
def test_backup_settings_json_masks_passwords(make_settings: Callable[..., Settings], tmp_path: Path) -> None:
    settings = make_settings()
    # The backup reads the SQLite database of make_settings; the other URLs are only saved.
    meili = settings.meili_url.replace("http://", "http://search:meili-pw-2@")
    shown = make_settings(meili_url=meili, dask_scheduler=URLS["dask_scheduler"])
    dest = tmp_path / "backup"
    made = run_cli(shown, "backup", str(dest))
    assert made.returncode == 0, made.stdout + made.stderr
    saved = (dest / "settings.json").read_text()
    for password in PASSWORDS:
        assert password not in saved
    values = json.loads(saved)
    assert values["meili_url"] == settings.meili_url.replace("http://", "http://search:****@")
    assert values["dask_scheduler"] == "tcp://dask:****@127.0.0.1:8786"
    assert "meili_key" not in values and "secret_key" not in values


def test_doctor_never_prints_the_meilisearch_url_password(
    make_settings: Callable[..., Settings], server: Server
) -> None:
    # The loopback server answers 404: httpx's error then quotes the whole URL.
    settings = make_settings(meili_url=server.base.replace("http://", "http://search:meili-pw-2@"))
    out = run_cli(settings, "doctor", "--skip-model")
    assert out.returncode == 1 and "FAIL meilisearch" in out.stdout, out.stdout + out.stderr
    assert "search:****@127.0.0.1" in out.stdout, out.stdout
    assert "meili-pw-2" not in out.stdout + out.stderr
