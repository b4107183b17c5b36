"""The site under gunicorn with several workers, as in production."""

from __future__ import annotations

import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest

from tests.conftest import copy_audio, rss, run_cli, settings_env
from tests.loopback import free_port, wait_healthy

pytestmark = pytest.mark.slow


def test_gunicorn_workers_serve_pages_and_search(make_settings, http_root):
    root, base = http_root
    copy_audio("jfk.flac", root)
    (root / "feed.xml").write_text(rss("Gunicorn show", [{"title": "JFK", "guid": "j", "url": f"{base}/jfk.flac"}]))
    settings = make_settings()
    run_cli(settings, "feeds", "add", f"{base}/feed.xml")
    assert run_cli(settings, "ingest").returncode == 0

    port = free_port()
    gunicorn = Path(sys.executable).with_name("gunicorn")
    proc = subprocess.Popen(
        [str(gunicorn), "--workers", "3", "--bind", f"127.0.0.1:{port}", "web:create_app()"],
        env=settings_env(settings),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        url = f"http://127.0.0.1:{port}"
        wait_healthy(url)
        paths = ["/", "/search?q=country", "/episodes/1", "/healthz"] * 10
        with ThreadPoolExecutor(8) as pool:
            responses = list(pool.map(lambda p: httpx.get(url + p, timeout=20), paths))
        assert [r.status_code for r in responses] == [200] * len(paths)
        assert all("JFK" in r.text for r, p in zip(responses, paths, strict=False) if p.startswith("/search"))
        assert all(r.headers.get("Content-Security-Policy") for r in responses)
    finally:
        proc.terminate()
        output = proc.communicate(timeout=30)[0]
    assert output.count("Booting worker") >= 3, output
