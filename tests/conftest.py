"""Shared fixtures: a real Meilisearch, real Whisper weights, real HTTP servers on loopback."""

from __future__ import annotations

import functools
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import uuid
from collections.abc import Callable, Iterator
from http.server import SimpleHTTPRequestHandler
from pathlib import Path
from typing import Any

import pytest

from archive.config import Settings, load_settings
from archive.context import Archive
from archive.search.server import Endpoint, LocalMeili
from tests.loopback import QuietServer, Server, free_port, serve

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


@pytest.fixture(scope="session", autouse=True)
def cheap_password_hashes() -> Iterator[None]:
    """argon2id at its least cost for the accounts the tests make and log into in-process.

    The real cost (RFC 9106's low-memory profile: 64 MiB, 3 passes, about 0.2 s a hash and
    0.15 s a check here) is what a password deserves, not what a test of log-in is about;
    the suite made and checked a few hundred. The CLI and the servers the tests start in
    child processes keep the real one, and test_accounts_auth checks its parameters there.
    """
    from argon2 import PasswordHasher

    from archive.editorial import accounts

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(accounts, "HASHER", PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1))
        yield


@pytest.fixture(scope="session")
def model_cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Joined packaged weights shared by every test of the session."""
    return tmp_path_factory.mktemp("model-cache")


@pytest.fixture(scope="session")
def pg_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str | None]:
    """A real PostgreSQL server on loopback when PODARCHIVE_TEST_DB=postgresql (else None)."""
    if os.environ.get("PODARCHIVE_TEST_DB") != "postgresql":
        yield None
        return
    bins = sorted(Path("/usr/lib/postgresql").glob("*/bin"))
    assert bins, "PostgreSQL server binaries missing: ./dev test installs the postgresql package"
    pg_bin = bins[-1]
    # Not under pytest's base temp: its 0700 parents would lock the postgres user out.
    base = Path(tempfile.mkdtemp(prefix="podarchive-pg-"))
    base.chmod(0o755)
    # PostgreSQL refuses to run as root: run it as the package's postgres user.
    as_user = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []
    if as_user:
        shutil.chown(base, "postgres")
    data = base / "data"
    subprocess.run(
        [*as_user, pg_bin / "initdb", "-D", data, "-U", "podarchive", "--auth=trust", "-E", "UTF8"],
        check=True,
        capture_output=True,
    )
    port = free_port()
    subprocess.run(
        [
            *as_user,
            pg_bin / "pg_ctl",
            "-D",
            data,
            "-l",
            base / "server.log",
            "-w",
            "-o",
            # No fsync: a test server's data lives as long as the session, and an OS crash
            # is not what these tests are about (a killed podarchive process is, and its
            # transactions behave the same). Commits and CREATE DATABASE stop waiting on the disk.
            f"-p {port} -h 127.0.0.1 -k {base} -c fsync=off -c synchronous_commit=off -c full_page_writes=off",
            "start",
        ],
        check=True,
        capture_output=True,
    )
    yield f"postgresql+psycopg://podarchive@127.0.0.1:{port}"
    subprocess.run([*as_user, pg_bin / "pg_ctl", "-D", data, "-m", "fast", "stop"], capture_output=True)
    shutil.rmtree(base, ignore_errors=True)


def _new_pg_database(server: str, template: str | None = None) -> str:
    """A new database on the server: empty, or a copy of `template` (which nobody may be connected to)."""
    import psycopg

    name = f"t{uuid.uuid4().hex[:12]}"
    clause = f' TEMPLATE "{template}"' if template else ""
    with psycopg.connect(server.replace("postgresql+psycopg", "postgresql") + "/postgres", autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"{clause}')
    return f"{server}/{name}"


@pytest.fixture(scope="session")
def migrated_database(tmp_path_factory: pytest.TempPathFactory, pg_server: str | None) -> str:
    """A database migrated from empty to head once per session (per xdist worker).

    make_settings starts each test's database as a copy of it (a file copy on SQLite,
    CREATE DATABASE ... TEMPLATE on PostgreSQL), which costs a fraction of running every
    migration again. Returns the SQLite file's path, or the PostgreSQL database's name.
    Tests marked `empty_database` get an empty one and run the migrations themselves.
    """
    from archive.store.database import Database

    data_dir = tmp_path_factory.mktemp("migrated")
    url = _new_pg_database(pg_server) if pg_server else ""
    db = Database(load_settings(environ={}, data_dir=data_dir, database_url=url))
    db.dispose()  # closes every connection: SQLite folds its WAL in, PostgreSQL can copy it
    if pg_server:
        return url.rsplit("/", 1)[1]
    assert not (data_dir / "podarchive.db-wal").exists()
    return str(data_dir / "podarchive.db")


pytest_plugins = ["tests.leftovers"]


@pytest.hookimpl(tryfirst=True)  # before xdist's, which reads the xdist_group marks
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Markers from what a test uses.

    - `db`: it opens a database, so the PostgreSQL pass runs it again;
    - one xdist group for the tests on the demo site, ingested once (base model) on one
      worker; they are `slow` too;
    - one xdist group per module for the tests that share a module-scoped fixture (a
      corpus embedded and indexed, a model loaded): split over two workers, each worker
      built it again;
    - doctests are pure: the fast lane (`-m fast`) runs them.
    """
    for item in items:
        fixtures = getattr(item, "fixturenames", ())
        if "make_settings" in fixtures or "make_module_settings" in fixtures:
            item.add_marker(pytest.mark.db)
        if "live_site" in fixtures:
            item.add_marker(pytest.mark.xdist_group("live_site"))
            item.add_marker(pytest.mark.slow)
        elif _uses_module_fixture(item):
            item.add_marker(pytest.mark.xdist_group(item.module.__name__))  # type: ignore[attr-defined]
        if isinstance(item, pytest.DoctestItem):
            item.add_marker(pytest.mark.fast)


def _uses_module_fixture(item: pytest.Item) -> bool:
    """Whether the test uses a fixture that lives as long as its module."""
    info = getattr(item, "_fixtureinfo", None)
    if info is None:  # a doctest
        return False
    return any(defs and defs[-1].scope == "module" for defs in info.name2fixturedefs.values())


@pytest.fixture
def make_settings(
    request: pytest.FixtureRequest, tmp_path: Path, meili: Endpoint, pg_server: str | None
) -> Callable[..., Settings]:
    """Settings for a test: own data dir and index prefix, shared Meilisearch, loopback allowed.

    With PODARCHIVE_TEST_DB=postgresql each call gets a fresh database on the real server.
    The test's data directory's database starts as a copy of the session's migrated one
    (`migrated_database`), unless the test is marked `empty_database`; a data directory
    passed in (`data_dir=`) starts with none, and podarchive migrates it on first use.
    """

    databases: dict[str, str] = {}
    empty = request.node.get_closest_marker("empty_database") is not None
    migrated: str | None = None if empty else request.getfixturevalue("migrated_database")

    def make(**overrides: Any) -> Settings:
        data_dir = Path(overrides.get("data_dir", tmp_path / "data"))
        # Only the test's own data directory starts migrated: one it names (a restore
        # target, say) starts empty, as a new install's would.
        template = migrated if "data_dir" not in overrides else None
        # One PostgreSQL database per data directory, as SQLite has one file per data directory.
        if pg_server and str(data_dir) not in databases:
            databases[str(data_dir)] = _new_pg_database(pg_server, template)
        elif not pg_server and template and not overrides.get("database_url") and str(data_dir) not in databases:
            databases[str(data_dir)] = ""
            if not data_dir.exists():
                # Private, as podarchive makes its own (archive.data_dir): 0700 and 0600.
                data_dir.mkdir(mode=0o700, parents=True)
                shutil.copyfile(template, data_dir / "podarchive.db")
                (data_dir / "podarchive.db").chmod(0o600)
        return _test_settings(meili, data_dir, databases.get(str(data_dir), ""), "t", overrides)

    return make


@pytest.fixture(scope="module")
def make_module_settings(
    tmp_path_factory: pytest.TempPathFactory, meili: Endpoint, pg_server: str | None, migrated_database: str
) -> Callable[..., Settings]:
    """make_settings for archives the tests of one module share (tests that only read them).

    Each call: a new data directory and index prefix, its database a copy of the migrated one.
    """

    def make(**overrides: Any) -> Settings:
        data_dir = tmp_path_factory.mktemp("module-data")
        data_dir.chmod(0o700)
        if pg_server:
            url = _new_pg_database(pg_server, migrated_database)
        else:
            url = ""
            shutil.copyfile(migrated_database, data_dir / "podarchive.db")
            (data_dir / "podarchive.db").chmod(0o600)
        return _test_settings(meili, data_dir, url, "m", overrides)

    return make


def _test_settings(
    meili: Endpoint, data_dir: Path, database_url: str, prefix: str, overrides: dict[str, Any]
) -> Settings:
    """A test archive's settings: its data directory and database, a new index prefix, the session's Meilisearch."""
    values: dict[str, Any] = {
        "data_dir": data_dir,
        "database_url": database_url,
        "meili_url": meili.url,
        "meili_key": meili.key,
        "index_prefix": f"{prefix}{uuid.uuid4().hex[:12]}",
        "model": "tiny.en",
        # Loopback test servers take random ports: every port of 127.0.0.1 (the host:*
        # form; a bare host would mean ports 80 and 443 only).
        "allow_private_hosts": "127.0.0.1:*",
        "max_attempts": 3,
    }
    values.update(overrides)
    return load_settings(environ={}, **values)


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
        env=settings_env(settings),
        capture_output=True,
        text=True,
        timeout=timeout,
    )


@pytest.fixture
def http_root(tmp_path: Path) -> Iterator[tuple[Path, str]]:
    """A directory served over HTTP on 127.0.0.1; yields (directory, base URL)."""
    root = tmp_path / "www"
    root.mkdir()
    handler = functools.partial(_QuietHandler, directory=str(root))
    server = QuietServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield root, f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def rss(title: str, items: list[dict[str, str]]) -> str:
    """A small RSS 2.0 feed."""
    body = "".join(
        f"""<item><title>{i["title"]}</title><guid>{i["guid"]}</guid>
        <pubDate>{i.get("date", "Mon, 02 Nov 2026 09:00:00 +0000")}</pubDate>
        <enclosure url="{i["url"]}" type="audio/mpeg" length="1"/></item>"""
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


# --- browser: Debian's Chromium through Playwright, and the site on loopback ---------

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
    # Audio tests call play() from script; no user gesture exists in a headless run.
    "--autoplay-policy=no-user-gesture-required",
]


class LiveSite:
    """A running site: its settings and base URL."""

    def __init__(self, settings: Settings, url: str) -> None:
        self.settings = settings
        self.url = url


def serve_site(settings: Settings) -> Iterator[LiveSite]:
    """Run create_app(settings) on a free loopback port in a thread while the generator lives."""
    from werkzeug.serving import make_server

    from web import create_app

    server = make_server("127.0.0.1", 0, create_app(settings), threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield LiveSite(settings, f"http://127.0.0.1:{server.server_port}")
    finally:
        server.shutdown()
        server.server_close()


def ingest_feed(settings: Settings, feed_url: str, language: str | None = None) -> None:
    """Add a feed and run the real pipeline over it with the real CLI; fail the test on errors."""
    args = ["feeds", "add", feed_url] + (["--language", language] if language else [])
    added = run_cli(settings, *args)
    assert added.returncode == 0, added.stderr
    result = run_cli(settings, "ingest")
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.fixture(scope="session")
def session_settings(tmp_path_factory: pytest.TempPathFactory, meili: Endpoint) -> Callable[..., Settings]:
    """Like make_settings, for archives that live the whole session."""

    def make(**overrides: Any) -> Settings:
        data_dir = tmp_path_factory.mktemp("site-data")
        return _test_settings(meili, data_dir, "", "s", {"model": "base", "secret_key": "test-secret", **overrides})

    return make


@pytest.fixture(scope="session")
def live_site(session_settings: Callable[..., Settings]) -> Iterator[LiveSite]:
    """The demo podcast (French and English speech) ingested with the base model, served on loopback."""
    from archive.demo import serve_demo_feed

    settings = session_settings()
    with serve_demo_feed("127.0.0.1", 0) as feed_url:
        ingest_feed(settings, feed_url)
    yield from serve_site(settings)


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    """One headless Chromium for a module's tests.

    Not for the session: Playwright's sync API keeps an asyncio loop running in the
    worker's main thread while it is open, and every later test of that worker that runs
    a loop of its own (the MCP clients' anyio.run) failed with "Already running asyncio
    in this thread".
    """
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture
def page(browser: Any) -> Iterator[Any]:
    """A fresh page in its own context (cookies, storage), English by default."""
    context = browser.new_context(locale="en-US", viewport={"width": 1200, "height": 900})
    page = context.new_page()
    page.set_default_timeout(15_000)
    yield page
    context.close()


@pytest.fixture
def server() -> Iterator[Server]:
    """A loopback HTTP server whose routes a test sets (tests.loopback)."""
    with serve() as srv:
        yield srv


@pytest.fixture
def archive(make_settings: Callable[..., Settings]) -> Archive:
    """An archive on a fresh data directory (and database)."""
    return Archive(make_settings())
