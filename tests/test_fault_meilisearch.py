"""Meilisearch faults through a fault-injecting proxy, and a SIGKILL mid-batch: the index converges."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import threading
import time
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

import pytest

from archive import public, store
from archive.config import Settings, load_settings
from archive.context import Archive
from archive.ingest import index_episodes, run_stages
from archive.search.server import Endpoint, LocalMeili
from tests.faultproxy import fault_proxy
from tests.search_corpus import add_show, english_corpus

pytestmark = pytest.mark.slow


def expected_ids(archive: Archive) -> set[str]:
    """Passage ids the database says the index should hold."""
    with archive.db.session() as s:
        return {
            f"e{p.episode_id}-{p.position}" for eid in store.all_episode_ids(s) for p in public.public_passages(s, eid)
        }


def make_due(archive: Archive) -> None:
    """Let queued index work run now despite its backoff."""
    with archive.db.session() as s:
        for rows in store.pending_index_work(s, store.now() + timedelta(days=30)).values():
            for row in rows:
                row.next_try_at = None


def queued(archive: Archive) -> list[store.IndexOutbox]:
    with archive.db.session() as s:
        rows = [r for rows in store.pending_index_work(s, store.now() + timedelta(days=30)).values() for r in rows]
        s.expunge_all()
        return rows


@pytest.mark.parametrize("mode", ["refuse", "close", "reset", "stall", "503"])
def test_fault_then_recovery_index_matches_database(
    mode: str, make_settings: Callable[..., Settings], meili: Endpoint
) -> None:
    with fault_proxy(meili.url, mode) as proxy:
        # A stalled server is given up on after meili_timeout (15 s by default; 5 s here).
        archive = Archive(make_settings(meili_url=proxy.url, meili_timeout=5))
        ids = add_show(archive, "Faults", {"Un": ["the tiger roars", "the lion too"], "Deux": ["an aeroplane"]})

        started = time.monotonic()
        [report] = run_stages(archive, ("index",))
        took = time.monotonic() - started

        # The database committed; every operation stayed queued with its reason.
        assert (report.done, report.failed) == (0, 2), report
        rows = queued(archive)
        assert len(rows) == 2 and all(r.attempts == 1 and r.last_error for r in rows), rows
        with archive.db.session() as s:
            assert store.newest_transcript(s, ids["Un"]) is not None
        # One failed request ends the run (after the client's timeout for a stalled server).
        assert took < 40, took

        proxy.set_mode("pass")
        make_due(archive)
        [report] = run_stages(archive, ("index",))
        assert (report.done, report.failed) == (2, 0), report
        assert queued(archive) == []
        assert (
            archive.search.passage_ids()
            == expected_ids(archive)
            == {f"e{ids['Un']}-0", f"e{ids['Un']}-1", f"e{ids['Deux']}-0"}
        )
        assert {h.episode_id for h in archive.search.search("tiger").hits} == {ids["Un"]}


def test_fault_in_the_middle_of_a_run_keeps_the_rest_queued(
    make_settings: Callable[..., Settings], meili: Endpoint
) -> None:
    with fault_proxy(meili.url) as proxy:
        archive = Archive(make_settings(meili_url=proxy.url))
        texts = english_corpus()
        add_show(archive, "Many", {f"Ep {n}": texts[n * 3 : n * 3 + 3] for n in range(6)}, language="en")
        done: list[int] = []

        def cut_after_two() -> None:
            # Reset every connection once two episodes are in (bounded wait).
            for _ in range(600):
                if len(queued(archive)) <= 4:
                    break
                time.sleep(0.05)
            proxy.set_mode("reset")
            done.append(1)

        cutter = threading.Thread(target=cut_after_two, daemon=True)
        cutter.start()
        report = index_episodes(archive)
        cutter.join(timeout=35)
        assert report.failed >= 1 and report.done + report.failed == 6, report
        assert len(queued(archive)) == report.failed

        proxy.set_mode("pass")
        make_due(archive)
        assert index_episodes(archive).failed == 0
        assert queued(archive) == []
        assert archive.search.passage_ids() == expected_ids(archive)


def test_meilisearch_killed_mid_batch_converges_after_restart(
    make_settings: Callable[..., Settings], tmp_path: Path
) -> None:
    # Our own Meilisearch (the session's one must live): killed with SIGKILL, restarted on its data.
    local = LocalMeili(load_settings(environ={}, data_dir=tmp_path / "own-meili"))
    first = local.ensure_running()
    try:
        with fault_proxy(first.url) as proxy:
            archive = Archive(make_settings(meili_url=proxy.url, meili_key=first.key))
            texts = english_corpus()
            # A large batch: 12 episodes of 200 passages (2,400 documents).
            episodes = {
                f"Ep {n}": [texts[(n * 200 + i) % len(texts)] + f" ({n}.{i})" for i in range(200)] for n in range(12)
            }
            add_show(archive, "Large", episodes, language="en")
            expected = expected_ids(archive)
            assert len(expected) == 2400
            pid = int(json.loads(local.state_file.read_text())["pid"])

            def kill_mid_batch() -> None:
                for _ in range(1200):
                    if len(queued(archive)) <= 8:
                        break
                    time.sleep(0.05)
                os.kill(pid, signal.SIGKILL)

            killer = threading.Thread(target=kill_mid_batch, daemon=True)
            killer.start()
            report = index_episodes(archive)
            killer.join(timeout=65)
            assert report.failed >= 1 and report.done >= 1, report
            assert len(queued(archive)) == report.failed

            # Restarted on the same data (a new port: the proxy follows it).
            for _ in range(100):
                if not Path(f"/proc/{pid}").exists():
                    break
                time.sleep(0.05)
            second = local.ensure_running()
            proxy.upstream = ("127.0.0.1", int(second.url.rsplit(":", 1)[1]))
            proxy.set_mode("pass")
            for _ in range(5):  # bounded: each run drains what is due
                make_due(archive)
                index_episodes(archive)
                if not queued(archive):
                    break
            assert queued(archive) == []
            assert archive.search.passage_ids() == expected
    finally:
        local.stop(timeout=10)


def test_the_site_follows_its_local_meilisearch_to_the_port_it_restarted_on(
    make_settings: Callable[..., Settings],
) -> None:
    from tests.conftest import run_cli
    from tests.editor_site import make_archive
    from web import create_app

    # No Meilisearch configured: the site's first search starts the local one of its data directory.
    ea = make_archive(make_settings(meili_url="", meili_key="", secret_key="restart"))
    local = LocalMeili(ea.settings)
    try:
        client = create_app(ea.settings).test_client()
        assert index_episodes(client.application.extensions["podarchive"]).done == 2

        def search() -> tuple[int, str]:
            response = client.get("/search?q=Natashquan", headers={"Accept-Language": "en"})
            return response.status_code, response.get_data(as_text=True)

        def health() -> int:
            return client.get("/healthz").status_code

        status, page = search()
        assert status == 200 and "Entrevue avec Gilles Vignault" in page and health() == 200
        before = json.loads(local.state_file.read_text())
        os.kill(before["pid"], signal.SIGKILL)
        for _ in range(100):
            with contextlib.suppress(ChildProcessError):
                os.waitpid(before["pid"], os.WNOHANG)  # this process started it: reap it
            if not Path(f"/proc/{before['pid']}").exists():
                break
            time.sleep(0.05)
        # Down: a clean 503 on both.
        assert search()[0] == 503 and health() == 503
        # Any command that needs the index starts it again, on a new random port.
        done = run_cli(ea.settings, "search", "Natashquan", timeout=180)
        assert done.returncode == 0, done.stderr
        after = json.loads(local.state_file.read_text())
        assert after["url"] != before["url"] and after["pid"] != before["pid"]
        # The same site process, never restarted, finds it there.
        status, page = search()
        assert status == 200 and "Entrevue avec Gilles Vignault" in page
        assert health() == 200
    finally:
        local.stop()
