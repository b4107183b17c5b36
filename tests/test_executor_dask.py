"""Scale-out: the transcribe stage submits to a real Dask scheduler with two worker processes on loopback."""

from __future__ import annotations

import itertools
import os
import signal
import threading
import time

import distributed  # noqa: E402,F401  (installed by ./dev test: the dask extra)
import pytest

from archive import store
from archive.context import Archive
from archive.ingest import run_stages, transcribe_episodes
from archive.ingest.executor import DaskExecutor, make_executor
from tests.conftest import copy_audio, rss
from tests.watched import Watched

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def cluster():
    """A scheduler and two single-threaded worker processes, bound to 127.0.0.1."""
    with distributed.LocalCluster(
        processes=True,
        n_workers=2,
        threads_per_worker=1,
        host="127.0.0.1",
        dashboard_address=None,
        silence_logs=40,
    ) as local:
        yield local


def test_dask_workers_transcribe_and_only_the_ingest_writes(make_settings, http_root, cluster, tmp_path):
    root, base = http_root
    files = ["jfk.flac", "fleurs-en-000.ogg", "fleurs-en-001.ogg"]
    items = []
    for n, name in enumerate(files):
        copy_audio(name, root)
        items.append({"title": name, "guid": f"ep-{n}", "url": f"{base}/{name}"})
    (root / "feed.xml").write_text(rss("Scale-out", items))
    settings = make_settings(dask_scheduler=cluster.scheduler_address)
    archive = Archive(settings)
    with archive.db.session() as s:
        store.add_feed(s, f"{base}/feed.xml", "en")
    assert all(r.failed == 0 for r in run_stages(archive, ("poll", "download")))

    executor = make_executor(settings)
    assert isinstance(executor, DaskExecutor)
    try:
        report = transcribe_episodes(archive, executor=executor)
        # Each worker process keeps its model: ask every worker which engines it holds.
        held = executor.client.run(_engines_loaded)
    finally:
        executor.close()

    assert (report.done, report.failed) == (3, 0), report.notes
    assert len(held) == 2 and sum(held.values()) >= 1 and max(held.values()) == 1
    with archive.db.session() as s:
        cards = {c.title: c for c in store.episode_states(s)}
        assert all(cards[f].has_transcript for f in files)
        t = store.newest_transcript(s, cards["jfk.flac"].id)
        assert t is not None and t.origin == "asr" and t.model == "tiny.en"
        assert "ask not what your country" in " ".join(seg.text.lower() for seg in t.segments).replace(",", "")


def test_two_dask_workers_decode_two_episodes_at_once(make_settings, http_root, cluster):
    root, base = http_root
    files = ["jfk.flac", "fleurs-en-000.ogg", "fleurs-en-002.ogg"]
    for name in files:
        copy_audio(name, root)
    items = [{"title": name, "guid": f"ep-{n}", "url": f"{base}/{name}"} for n, name in enumerate(files)]
    (root / "feed.xml").write_text(rss("At once", items))
    settings = make_settings(dask_scheduler=cluster.scheduler_address, threads=1)
    archive = Archive(settings)
    with archive.db.session() as s:
        store.add_feed(s, f"{base}/feed.xml", "en")
    assert all(r.failed == 0 for r in run_stages(archive, ("poll", "download")))

    executor = make_executor(settings)
    assert isinstance(executor, DaskExecutor)
    watched = Watched(executor)
    try:
        # One job in flight per worker; both hold the model before the first job.
        assert executor.capacity() == 2
        executor.warm()
        report = transcribe_episodes(archive, executor=watched)
    finally:
        executor.close()

    assert (report.done, report.failed) == (3, 0), report.notes
    results = [f.result for f in watched.finished]
    assert all(r is not None for r in results) and len(results) == 3
    # Recorded by the jobs themselves: two workers were decoding at the same moment.
    at_once = [
        (a.worker, b.worker)
        for a, b in itertools.combinations([r for r in results if r is not None], 2)
        if a.worker != b.worker and max(a.started, b.started) < min(a.finished, b.finished)
    ]
    assert at_once, [(r.worker, r.started, r.finished) for r in results if r is not None]


def test_a_lost_dask_worker_requeues_only_its_own_episode(make_settings, http_root, cluster):
    root, base = http_root
    files = ["jfk.flac", "ask-not.mp3", "entretien-montagne.mp3"]
    for name in files:
        copy_audio(name, root)
    items = [{"title": name, "guid": f"ep-{n}", "url": f"{base}/{name}"} for n, name in enumerate(files)]
    (root / "feed.xml").write_text(rss("Lost", items))
    settings = make_settings(dask_scheduler=cluster.scheduler_address, threads=1)
    archive = Archive(settings)
    with archive.db.session() as s:
        store.add_feed(s, f"{base}/feed.xml", "en")
    assert all(r.failed == 0 for r in run_stages(archive, ("poll", "download")))
    killed: dict[str, float | int | str] = {}

    def kill_a_worker_once_both_decode() -> None:
        # Its own client: the stage's is busy in the main thread.
        with distributed.Client(cluster.scheduler_address, set_as_default=False) as client:
            for _ in range(1200):
                busy = sorted(w for w, keys in client.processing().items() if keys)
                if len(busy) == 2:
                    pid = client.run(os.getpid, workers=[busy[0]])[busy[0]]
                    killed.update(pid=pid, at=time.time())
                    os.kill(pid, signal.SIGKILL)  # the nanny starts a fresh worker
                    return
                time.sleep(0.05)

    executor = make_executor(settings)
    assert isinstance(executor, DaskExecutor)
    watched = Watched(executor)
    killer = threading.Thread(target=kill_a_worker_once_both_decode, daemon=True)
    try:
        executor.warm()
        killer.start()
        report = transcribe_episodes(archive, executor=watched)
    finally:
        killer.join(timeout=60)
        executor.close()

    assert killed, "two jobs were never running at once"
    # Dask ran the lost worker's job again elsewhere; the job on the other worker went on.
    assert (report.done, report.failed) == (3, 0), report.notes
    results = [f.result for f in watched.finished if f.result is not None]
    assert len(results) == 3
    assert not any(r.worker.endswith(f":{killed['pid']}") for r in results)
    assert any(r.started < float(killed["at"]) < r.finished for r in results)


def test_dask_job_over_its_deadline_is_marked_for_retry(make_settings, http_root, cluster):
    root, base = http_root
    copy_audio("ask-not.mp3", root)
    (root / "feed.xml").write_text(rss("Slow", [{"title": "long", "guid": "g", "url": f"{base}/ask-not.mp3"}]))
    # 45 s of audio cannot be transcribed in 0.2 s, even by a warm worker.
    settings = make_settings(
        dask_scheduler=cluster.scheduler_address, transcribe_timeout=0.2, transcribe_timeout_factor=0.0
    )
    archive = Archive(settings)
    with archive.db.session() as s:
        store.add_feed(s, f"{base}/feed.xml", "en")
    assert all(r.failed == 0 for r in run_stages(archive, ("poll", "download")))
    report = transcribe_episodes(archive)
    assert (report.done, report.failed) == (0, 1)
    with archive.db.session() as s:
        (card,) = store.episode_states(s)
        assert not card.has_transcript and "hung" in (card.error or "")


def _engines_loaded() -> int:
    from transcribe import worker as workers

    return len(workers._engines)
