"""A bounded soak on loopback: readers hammer /search and episode pages while `ingest` keeps running.

No 5xx; p95 printed; the web process's memory stays flat after warm-up; the SQLite WAL
stays bounded (wal_autocheckpoint). About 60 s of load; everything stops by itself.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest

from archive import store
from archive.config import Settings
from archive.context import Archive
from tests.conftest import AUDIO, rss, run_cli, settings_env
from tests.loopback import free_port, wait_healthy

pytestmark = [pytest.mark.soak, pytest.mark.sqlite_only, pytest.mark.slow]

SOAK_SECONDS = float(os.environ.get("PODARCHIVE_SOAK_SECONDS", "60"))
WARM_UP = 15.0
CLIPS = ["fleurs-en-000.ogg", "fleurs-en-001.ogg", "fleurs-en-002.ogg"]
WORDS = ["the", "world", "people", "water", "time", "nonsense-word", "é", '"quoted"']
# The web process on its own: the site as `podarchive serve` runs it, with the search rate
# limit lifted (every request here comes from one loopback address).
WEB = """
import faulthandler, signal, sys
faulthandler.register(signal.SIGUSR1)  # the test asks for every thread's stack when a request hangs
from werkzeug.serving import make_server
from archive.config import load_settings
from web import create_app
app = create_app(load_settings())
app.config["SEARCH_RATE_BURST"], app.config["SEARCH_RATE_PER_S"] = 10**9, 10**9
make_server("127.0.0.1", int(sys.argv[1]), app, threaded=True).serve_forever()
"""


def _rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def _add_round(settings: Settings, root: Path, base: str, n: int) -> None:
    """A new show with two new episodes (short real speech): poll, download, transcribe and index work."""
    items = []
    for k in range(2):
        name = f"r{n}-{k}-{CLIPS[(n + k) % len(CLIPS)]}"
        shutil.copyfile(AUDIO / CLIPS[(n + k) % len(CLIPS)], root / name)
        items.append({"title": f"Round {n} clip {k}", "guid": name, "url": f"{base}/{name}"})
    (root / f"feed{n}.xml").write_text(rss(f"Soak show {n}", items))
    added = run_cli(settings, "feeds", "add", f"{base}/feed{n}.xml", "--language", "en")
    assert added.returncode == 0, added.stderr


def test_search_and_pages_while_ingest_runs(
    make_settings: Callable[..., Settings], http_root: tuple[Path, str]
) -> None:
    root, base = http_root
    settings = make_settings()
    _add_round(settings, root, base, 0)
    first = run_cli(settings, "ingest")
    assert first.returncode == 0, first.stdout + first.stderr
    archive = Archive(settings)
    wal = settings.data_dir / "podarchive.db-wal"

    port = free_port()
    # Its log goes to a file: a pipe nobody reads fills after ~900 request lines and blocks the server.
    log_path = settings.data_dir / "web.log"
    # The child gets its own copy of the descriptor, so ours can close once it has started.
    with open(log_path, "wb") as log_file:
        web = subprocess.Popen(
            [sys.executable, "-c", WEB, str(port)],
            env=settings_env(settings),
            cwd=Path(__file__).parent.parent,
            stdout=subprocess.DEVNULL,
            stderr=log_file,
        )
    url = f"http://127.0.0.1:{port}"
    stop = threading.Event()
    latencies: list[float] = []
    failures: list[str] = []
    statuses: dict[int, int] = {}
    episode_ids: list[int] = []
    ingest_runs: list[int] = []
    lock = threading.Lock()
    dumped: list[int] = []

    def refresh_ids() -> None:
        with archive.db.session() as s:
            ids = [c.id for c in store.episode_states(s)]
        with lock:
            episode_ids[:] = ids

    def ingest_loop() -> None:
        n = 1
        while not stop.is_set():
            _add_round(settings, root, base, n)
            result = run_cli(settings, "ingest", "--max-minutes", "0.5", timeout=120)
            ingest_runs.append(result.returncode)
            if result.returncode not in (0, 1):
                failures.append(f"ingest exited {result.returncode}: {result.stderr[-500:]}")
            refresh_ids()
            n += 1

    def reader(k: int) -> None:
        i = 0
        with httpx.Client(base_url=url, timeout=30) as client:
            while not stop.is_set():
                with lock:
                    eid = episode_ids[i % len(episode_ids)]
                path = (
                    f"/search?q={WORDS[(i + k) % len(WORDS)]}"
                    if i % 2 == 0
                    else f"/episodes/{eid}"
                    if i % 4 == 1
                    else "/"
                )
                started = time.monotonic()
                try:
                    r = client.get(path)
                except httpx.HTTPError as exc:
                    failures.append(f"{path}: {type(exc).__name__}: {exc} after {time.monotonic() - started:.0f} s")
                    if isinstance(exc, httpx.TimeoutException) and not dumped:
                        dumped.append(1)
                        os.kill(web.pid, signal.SIGUSR1)
                    continue
                finally:
                    i += 1
                with lock:
                    latencies.append(time.monotonic() - started)
                    statuses[r.status_code] = statuses.get(r.status_code, 0) + 1
                if r.status_code >= 500:
                    failures.append(f"{path}: {r.status_code} {r.text[:200]}")

    try:
        wait_healthy(url)
        refresh_ids()
        threads = [threading.Thread(target=ingest_loop)] + [
            threading.Thread(target=reader, args=(k,)) for k in range(4)
        ]
        for t in threads:
            t.start()
        started = time.monotonic()
        rss: list[tuple[float, float]] = []
        wal_sizes: list[int] = []
        while (elapsed := time.monotonic() - started) < SOAK_SECONDS and web.poll() is None:
            time.sleep(2)
            rss.append((elapsed, _rss_mb(web.pid)))
            wal_sizes.append(wal.stat().st_size if wal.exists() else 0)
        stop.set()
        for t in threads:
            t.join(timeout=150)
    finally:
        stop.set()
        web.terminate()
        web.wait(timeout=30)
        err = log_path.read_text(errors="replace")

    ordered = sorted(latencies)
    p50, p95 = ordered[len(ordered) // 2], ordered[int(len(ordered) * 0.95)]
    warm = [mb for t, mb in rss if t >= WARM_UP]
    print(
        f"\nsoak {SOAK_SECONDS:.0f}s: {len(latencies)} requests, statuses {statuses}, "
        f"p50 {p50 * 1000:.0f} ms, p95 {p95 * 1000:.0f} ms; ingest runs {ingest_runs}; "
        f"web RSS {warm[0]:.0f} -> {warm[-1]:.0f} MB (max {max(warm):.0f}); "
        f"WAL max {max(wal_sizes) / 1e6:.1f} MB, last {wal_sizes[-1] / 1e6:.1f} MB"
    )
    assert not failures, (failures[:10], err[-5000:])
    assert "Traceback" not in err, err[-2000:]
    assert len(latencies) > 100 and all(code < 500 for code in statuses)
    assert len(ingest_runs) >= 2, ingest_runs
    # Memory flat after warm-up; the WAL checkpoints instead of growing with every write.
    assert max(warm) - warm[0] < 50, rss
    half = len(wal_sizes) // 2
    assert max(wal_sizes) < 64e6 and max(wal_sizes[half:]) <= max(wal_sizes[:half]) + 8e6, wal_sizes
