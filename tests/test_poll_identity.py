"""Episode identity across polls: real feeds never duplicate; changes update, enclosure swaps are flagged."""

from __future__ import annotations

from pathlib import Path

import feeds
from archive import store
from archive.context import Archive
from archive.ingest import StageReport, poll_feeds
from tests.conftest import rss, run_cli
from tests.loopback import Server, static

REAL_FEEDS = sorted((Path(__file__).parent / "data" / "feeds").glob("*.[xr]*[ls]"))


def poll_again(archive: Archive) -> StageReport:
    with archive.db.session() as s:
        store.poll_soon(s)
    return poll_feeds(archive)


def queued(archive: Archive) -> dict[int, list[str]]:
    with archive.db.session() as s:
        return {eid: [r.op for r in rows] for eid, rows in store.pending_index_work(s, store.now()).items()}


def test_real_feeds_polled_three_times_never_duplicate(server: Server, archive: Archive) -> None:
    assert len(REAL_FEEDS) == 10
    expected = {}
    with archive.db.session() as s:
        for path in REAL_FEEDS:
            route = f"/{path.name}"
            # Validators ignored on purpose: every poll gets the full body and re-parses it.
            server.routes[route] = static(200, path.read_bytes(), Content_Type="application/rss+xml")
            fid = store.add_feed(s, server.url(route), None).id
            expected[fid] = len(feeds.parse_feed(path.read_bytes(), server.url(route)).entries)
    counts = []
    for _ in range(3):
        report = poll_again(archive)
        assert (report.done, report.failed) == (10, 0), report.notes
        with archive.db.session() as s:
            counts.append({fid: len(store.feed_episodes(s, fid)) for fid in expected})
    assert counts == [expected] * 3
    assert sum(expected.values()) > 1300
    # Nothing changed between polls, so nothing was queued for re-indexing or flagged.
    assert queued(archive) == {}
    with archive.db.session() as s:
        assert not [e for fid in expected for e in store.feed_episodes(s, fid) if e.flag]


def test_changed_title_and_notes_update_the_episode_and_queue_reindex(server: Server, archive: Archive) -> None:
    def publish(title: str) -> None:
        body = rss(
            "Show",
            [
                {"title": title, "guid": "g1", "url": f"{server.base}/a.mp3"},
                {"title": "Two", "guid": "g2", "url": f"{server.base}/b.mp3"},
            ],
        )
        server.routes["/feed"] = static(200, body.encode())

    publish("One")
    with archive.db.session() as s:
        fid = store.add_feed(s, server.url("/feed"), None).id
    poll_feeds(archive)
    assert queued(archive) == {}
    publish("One (with the guest's name fixed)")
    poll_again(archive)
    with archive.db.session() as s:
        episodes = {e.guid: e for e in store.feed_episodes(s, fid)}
        assert len(episodes) == 2
        assert episodes["g1"].title == "One (with the guest's name fixed)"
        changed = episodes["g1"].id
    assert queued(archive) == {changed: ["upsert"]}


def test_guid_with_another_enclosure_is_flagged_not_merged(server: Server, archive: Archive) -> None:
    original = f"{server.base}/audio/one.mp3"
    server.routes["/feed"] = static(200, rss("Show", [{"title": "One", "guid": "g1", "url": original}]).encode())
    with archive.db.session() as s:
        fid = store.add_feed(s, server.url("/feed"), None).id
    poll_feeds(archive)
    # A tracking prefix added in front of the same file is not a different enclosure.
    server.routes["/feed"] = static(
        200,
        rss(
            "Show",
            [
                {"title": "One", "guid": "g1", "url": f"http://op3.dev/e/{original.removeprefix('http://')}"},
            ],
        ).encode(),
    )
    poll_again(archive)
    with archive.db.session() as s:
        [episode] = store.feed_episodes(s, fid)
        assert episode.flag is None and episode.enclosure_url.startswith("http://op3.dev/e/")
    # A different file under the same guid: keep the old one, flag, store the new URL aside.
    other = f"{server.base}/audio/something-else.mp3"
    server.routes["/feed"] = static(200, rss("Show", [{"title": "One", "guid": "g1", "url": other}]).encode())
    poll_again(archive)
    poll_again(archive)
    with archive.db.session() as s:
        [episode] = store.feed_episodes(s, fid)
        assert episode.enclosure_url.startswith("http://op3.dev/e/")
        assert episode.enclosure_conflict_url == other
        assert episode.flag and other in episode.flag and "kept" in episode.flag
    with archive.db.session() as s:
        assert [h.flagged for h in store.feed_health(s)] == [1]
    out = run_cli(archive.settings, "feeds", "flagged")
    assert out.returncode == 0 and "another enclosure" in out.stdout and other in out.stdout
    assert "1 flagged" in run_cli(archive.settings, "feeds", "list").stdout
