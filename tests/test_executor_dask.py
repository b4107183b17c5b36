"""Scale-out: the transcribe stage submits to a real Dask scheduler with two worker processes on loopback."""

from __future__ import annotations

import distributed  # noqa: E402,F401  (installed by ./dev test: the dask extra)
import pytest

from archive import store
from archive.context import Archive
from archive.ingest import run_stages, transcribe_episodes
from archive.ingest.executor import DaskExecutor, make_executor
from tests.conftest import copy_audio, rss

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
    from archive.ingest import workers

    return len(workers._engines)
