"""Hostile names: guids, titles, Content-Disposition and redirect file names never choose a path."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path
from xml.sax.saxutils import escape, quoteattr

from sqlalchemy import select

from archive import store
from archive.config import Settings
from archive.context import Archive
from archive.ingest import download_episodes, poll_feeds
from tests.loopback import serve, static
from web import create_app

MP3 = (Path(__file__).parent.parent / "archive" / "demo" / "ask-not.mp3").read_bytes()
RLO = "\u202e"  # right-to-left override: "evil\u202e3pm.exe" shows as "evilexe.mp3"
LONG = "A" * 10_000

HOSTILE_NAMES = [
    "../../../../tmp/pwned-guid",
    "..\\..\\windows\\pwned",
    "/etc/cron.d/pwned",
    "pwned/../../x",
    f"pwned{RLO}3pm.exe",
    LONG,
    "nul\u0000byte",
    "~/.ssh/authorized_keys",
    "CON",
    ".",
    "..",
]


def _item(n: int, name: str, enclosure: str) -> str:
    clean = name.replace("\u0000", "")  # a raw NUL is not XML: its own feed below carries it
    return (
        f"<item><title>{escape(clean)}</title><guid>{escape(clean)}-{n}</guid>"
        f'<enclosure url={quoteattr(enclosure)} type="audio/mpeg"/></item>'
    )


def test_names_from_the_feed_and_the_server_never_leave_the_audio_store(
    make_settings: Callable[..., Settings], tmp_path: Path
) -> None:
    archive = Archive(make_settings())
    before = {p for p in Path("/tmp").rglob("*pwned*")} if Path("/tmp").exists() else set()
    with serve() as server:
        disposition = [
            'attachment; filename="../../../../tmp/pwned-cd.mp3"',
            "attachment; filename*=UTF-8''..%2F..%2F..%2Ftmp%2Fpwned-cd2.mp3",
            # Raw UTF-8 bytes in the header, as servers send them (http.server writes latin-1).
            f'attachment; filename="pwned{RLO}3pm.exe"'.encode().decode("latin-1"),
            f'attachment; filename="{LONG}.mp3"',
            'attachment; filename="/etc/pwned.mp3"',
        ]
        items = []
        for n, name in enumerate(HOSTILE_NAMES):
            path = f"/ep{n}.mp3"
            if n < len(disposition):
                server.routes[path] = static(200, MP3, Content_Type="audio/mpeg", Content_Disposition=disposition[n])
            else:
                # Redirect to a file name that climbs out: the server decodes nothing for us.
                target = f"/files/..%2F..%2F..%2Ftmp%2Fpwned-{n}%00.mp3"
                server.routes[path] = static(302, Location=target)
                server.routes[f"/files/..%2F..%2F..%2Ftmp%2Fpwned-{n}%00.mp3"] = static(200, MP3)
            items.append(_item(n, name, server.url(path)))
        server.routes["/feed"] = static(
            200,
            (
                '<?xml version="1.0" encoding="UTF-8"?><rss version="2.0"><channel><title>Paths</title>'
                + "".join(items)
                + "</channel></rss>"
            ).encode(),
        )
        server.routes["/ep-nul.mp3"] = static(200, MP3)
        server.routes["/nul-feed"] = static(
            200,
            (
                '<rss version="2.0"><channel><title>N\x00UL</title><item><title>../\x00/etc/passwd</title>'
                f'<guid>../\x00../pwned-nul</guid><enclosure url="{server.url("/ep-nul.mp3")}" type="audio/mpeg"/>'
                "</item></channel></rss>"
            ).encode(),
        )
        with archive.db.session() as s:
            store.add_feed(s, server.url("/feed"), None)
            store.add_feed(s, server.url("/nul-feed"), None)
        poll_feeds(archive)
        report = download_episodes(archive)

    with archive.db.session() as s:
        episodes = list(s.scalars(select(store.Episode)))
        stored = {e.id: e.audio.path for e in episodes if e.audio is not None}
    assert len(episodes) == len(HOSTILE_NAMES) + 1 and report.failed == 0  # + the NUL feed's one
    assert len(stored) == report.done == len(episodes)
    # podarchive's own names, one per episode, all directly in the audio store.
    audio_dir = archive.settings.audio_dir
    assert all(path == f"{eid:08d}.mp3" for eid, path in stored.items()), stored
    on_disk = sorted(p.relative_to(audio_dir).as_posix() for p in audio_dir.rglob("*") if p.is_file())
    assert on_disk == sorted(stored.values())
    # Nothing anywhere else on this machine's temp or data dirs picked a hostile name.
    data_files = [p for p in archive.settings.data_dir.rglob("*") if p.is_file()]
    assert not [p for p in data_files if re.search(r"pwned|passwd|\u202e|AAAA", p.name)]
    assert {p for p in Path("/tmp").rglob("*pwned*")} == before
    assert not list(tmp_path.rglob("*pwned*"))

    # The pages that show these names render them as text.
    client = create_app(archive.settings).test_client()
    for eid in stored:
        page = client.get(f"/episodes/{eid}")
        assert page.status_code == 200, page.status_code
        assert b"\x00" not in page.data
