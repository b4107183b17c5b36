"""Voices of an unpublished show's publisher transcript reach no reader-facing list: pages, search, API, feed."""

from __future__ import annotations

import json
from urllib.parse import quote

from archive import store
from archive.context import Archive
from archive.ingest import index_episodes, run_stages
from tests.conftest import copy_audio, run_cli
from web import create_app

VOICES = ("Marguerite Voixcachée", "Ulysse Secretvoice")
WORDS = ("Americans", "country")  # a word each voice says
VTT = f"""WEBVTT

00:00:00.000 --> 00:00:05.500
<v {VOICES[0]}>And so, my fellow Americans, ask not

00:00:05.500 --> 00:00:11.000
<v {VOICES[1]}>what your country can do for you.
"""


def _feed(base: str) -> str:
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<rss version="2.0" xmlns:podcast="https://podcastindex.org/namespace/1.0">
<channel><title>Quiet show</title><link>https://example.org/</link><description>t</description>
<item><title>The speech</title><guid>speech</guid><pubDate>Mon, 02 Nov 2026 09:00:00 +0000</pubDate>
<enclosure url="{base}/jfk.flac" type="audio/flac" length="1"/>
<podcast:transcript url="{base}/t.vtt" type="text/vtt" language="en"/></item></channel></rss>"""


def _reader_views(settings, episode_id: int) -> dict[str, str]:  # type: ignore[no-untyped-def]
    """Every reader-facing list, as a fresh site process serves it (no cached voices)."""
    app = create_app(settings)
    app.config["SEARCH_RATE_BURST"] = 1000
    client = app.test_client()
    paths = {
        "home": "/",
        "show": "/shows/1",
        "episode": f"/episodes/{episode_id}",
        "feed": "/shows/1/feed.xml",
        "search": "/search?q=country",
        "api": "/api/search?q=country",
        # The episode index holds guests: a voice's name must not find the episode.
        "api by name": f"/api/search?q={quote(VOICES[0])}",
        "search page by name": f"/search?q={quote(VOICES[1])}",
    }
    for n, voice in enumerate(VOICES):
        paths[f"speaker page {n}"] = f"/speakers/{quote(voice)}"
        paths[f"search on speaker {n}"] = f"/search?q={WORDS[n]}&speaker={quote(voice)}"
        paths[f"api on speaker {n}"] = f"/api/search?q={WORDS[n]}&speaker={quote(voice)}"
    views = {}
    for name, path in paths.items():
        response = client.get(path, headers={"Accept-Language": "en"})
        assert response.status_code in (200, 404), (name, response.status_code)
        views[name] = f"{response.status_code} {response.get_data(as_text=True)}"
    return views


def _json(view: str) -> dict:  # type: ignore[type-arg]
    status, _, body = view.partition(" ")
    assert status == "200", view[:200]
    return json.loads(body)  # type: ignore[no-any-return]


def test_voices_of_an_unpublished_shows_publisher_transcript_are_nowhere(make_settings, http_root) -> None:  # type: ignore[no-untyped-def]
    root, base = http_root
    copy_audio("jfk.flac", root)
    (root / "t.vtt").write_text(VTT)
    (root / "feed.xml").write_text(_feed(base))
    settings = make_settings()
    archive = Archive(settings)
    with archive.db.session() as s:
        store.add_feed(s, f"{base}/feed.xml", "en")
    # The operator's command, as the hostile tester ran it.
    done = run_cli(settings, "feeds", "set", "1", "--no-publish-transcripts")
    assert done.returncode == 0 and "publish" in done.stdout, done.stdout + done.stderr
    reports = run_stages(archive, ("poll", "download", "transcribe", "index"))
    assert all(r.failed == 0 for r in reports), [(r.stage, r.notes) for r in reports]
    with archive.db.session() as s:
        (card,) = store.episode_states(s)
        transcript = store.newest_transcript(s, card.id)
        # The voices are in the database: the publisher's file was used.
        assert transcript is not None and transcript.origin == "publisher"
        assert {seg.speaker for seg in transcript.segments} == set(VOICES)

    hidden = _reader_views(settings, card.id)
    for name, view in hidden.items():
        if "search" in name or "speaker page" in name:
            # These repeat what the reader asked for (query, path): what matters is that nothing is found.
            assert "hit-title" not in view and "card" not in view, name
            continue
        for voice in VOICES:
            assert voice not in view and quote(voice) not in view, (name, voice)
        assert "/speakers/" not in view, name  # no voice link anywhere
    for n in range(len(VOICES)):
        assert hidden[f"speaker page {n}"].startswith("404 ")
        assert _json(hidden[f"api on speaker {n}"])["passages"] == []
    for name in ("api", "api by name"):
        body = _json(hidden[name])
        assert body["passages"] == [] and body["episodes"] == [], name
    assert "/transcript." not in hidden["feed"]
    # The control: the same show published makes every one of them show the voices.
    done = run_cli(settings, "feeds", "set", "1", "--publish-transcripts")
    assert done.returncode == 0, done.stderr
    assert index_episodes(archive).done == 1
    shown = _reader_views(settings, card.id)
    for n, voice in enumerate(VOICES):
        assert voice in shown["home"] and voice in shown["episode"]
        assert (
            shown[f"speaker page {n}"].startswith("200 ")
            and f'href="/episodes/{card.id}"' in shown[f"speaker page {n}"]
        )
        assert {p["speaker"] for p in _json(shown[f"api on speaker {n}"])["passages"]} == {voice}
        assert "hit-title" in shown[f"search on speaker {n}"]
    assert [e["title"] for e in _json(shown["api by name"])["episodes"]] == ["The speech"]
    assert "/transcript." in shown["feed"]
