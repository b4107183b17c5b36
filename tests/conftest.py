"""Shared fixtures: a real Meilisearch, real Whisper weights, real HTTP servers on loopback."""

from __future__ import annotations

import functools
import os
import shutil
import subprocess
import sys
import threading
import uuid
from collections.abc import Callable, Iterator
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from archive.config import Settings, load_settings
from archive.meili import Endpoint, LocalMeili

os.environ.setdefault("HF_HUB_OFFLINE", "1")

TESTS = Path(__file__).parent
AUDIO = TESTS / "data" / "audio"
DEMO = TESTS.parent / "archive" / "demo"
ARTIFACTS = TESTS.parent / "test-artifacts"


class _QuietHandler(SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:  # noqa: A002
        pass


@pytest.fixture(scope="session")
def meili(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Endpoint]:
    """One real Meilisearch process for the session, on a free loopback port."""
    data_dir = tmp_path_factory.mktemp("meili-session")
    local = LocalMeili(load_settings(environ={}, data_dir=data_dir))
    endpoint = local.ensure_running()
    yield endpoint
    local.stop()


@pytest.fixture(scope="session")
def model_cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Joined packaged weights shared by every test of the session."""
    return tmp_path_factory.mktemp("model-cache")


@pytest.fixture
def make_settings(tmp_path: Path, meili: Endpoint) -> Callable[..., Settings]:
    """Settings for a test: own data dir and index prefix, shared Meilisearch, loopback allowed."""

    def make(**overrides: Any) -> Settings:
        values: dict[str, Any] = {
            "data_dir": tmp_path / "data",
            "meili_url": meili.url,
            "meili_key": meili.key,
            "index_prefix": f"t{uuid.uuid4().hex[:12]}",
            "model": "tiny.en",
            "allow_private_hosts": "127.0.0.1",
            "max_attempts": 3,
        }
        values.update(overrides)
        return load_settings(environ={}, **values)

    return make


def settings_env(settings: Settings) -> dict[str, str]:
    """The PODARCHIVE_* variables that reproduce these settings in a subprocess."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("PODARCHIVE_")}
    for name, value in settings.__dict__.items():
        if isinstance(value, frozenset):
            value = ",".join(sorted(value))
        if value in ("", None):
            continue
        env[f"PODARCHIVE_{name.upper()}"] = str(value)
    env["HF_HUB_OFFLINE"] = "1"
    return env


def run_cli(settings: Settings, *args: str, timeout: float = 600) -> subprocess.CompletedProcess[str]:
    """Run the real `podarchive` command in a subprocess with these settings."""
    return subprocess.run(
        [sys.executable, "-m", "archive.cli", *args],
        env=settings_env(settings), capture_output=True, text=True, timeout=timeout,
    )


@pytest.fixture
def http_root(tmp_path: Path) -> Iterator[tuple[Path, str]]:
    """A directory served over HTTP on 127.0.0.1; yields (directory, base URL)."""
    root = tmp_path / "www"
    root.mkdir()
    handler = functools.partial(_QuietHandler, directory=str(root))
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield root, f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def rss(title: str, items: list[dict[str, str]]) -> str:
    """A small RSS 2.0 feed."""
    body = "".join(
        f"""<item><title>{i['title']}</title><guid>{i['guid']}</guid>
        <pubDate>{i.get('date', 'Mon, 02 Nov 2026 09:00:00 +0000')}</pubDate>
        <enclosure url="{i['url']}" type="audio/mpeg" length="1"/></item>"""
        for i in items
    )
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<rss version="2.0"><channel><title>{title}</title><link>https://example.org/</link>
<description>test feed</description>{body}</channel></rss>"""


@pytest.fixture(scope="session")
def artifacts() -> Path:
    """Where tests leave screenshots for people to look at."""
    ARTIFACTS.mkdir(exist_ok=True)
    return ARTIFACTS


def copy_audio(name: str, dest: Path) -> Path:
    """Copy a real speech file from tests/data/audio or the demo into dest."""
    source = AUDIO / name if (AUDIO / name).exists() else DEMO / name
    target = dest / name
    shutil.copyfile(source, target)
    return target
