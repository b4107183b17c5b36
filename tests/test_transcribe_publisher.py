"""Publisher transcripts: offered by the feed, fetched through the guarded fetcher, used instead of ASR."""

from __future__ import annotations

from archive import store
from archive.context import Archive
from archive.ingest import run_stages
from tests.conftest import copy_audio

VTT = """WEBVTT

00:00:00.000 --> 00:00:05.500
<v John F. Kennedy>And so, my fellow Americans, ask not

00:00:05.500 --> 00:00:11.000
<v John F. Kennedy>what your country can do for you &amp; yours.
"""
SRT = """1
00:00:00,000 --> 00:00:11,000
srt text that must not win over the VTT
"""


def _feed(base: str, items: list[tuple[str, str, str]]) -> str:
    body = "".join(
        f"""<item><title>{title}</title><guid>{guid}</guid>
        <pubDate>Mon, 02 Nov 2026 09:00:00 +0000</pubDate>
        <enclosure url="{base}/jfk.flac" type="audio/flac" length="1"/>{links}</item>"""
        for title, guid, links in items
    )
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<rss version="2.0" xmlns:podcast="https://podcastindex.org/namespace/1.0">
<channel><title>Published</title><link>https://example.org/</link><description>t</description>
{body}</channel></rss>"""


def test_publisher_vtt_is_preferred_and_used_instead_of_asr(make_settings, http_root):
    root, base = http_root
    copy_audio("jfk.flac", root)
    (root / "t.vtt").write_text(VTT)
    (root / "t.srt").write_text(SRT)
    both = (
        f'<podcast:transcript url="{base}/t.srt" type="application/srt"/>'
        f'<podcast:transcript url="{base}/t.vtt" type="text/vtt" language="en"/>'
    )
    broken = f'<podcast:transcript url="{base}/missing.vtt" type="text/vtt"/>'
    (root / "feed.xml").write_text(_feed(base, [("published", "p", both), ("missing", "m", broken)]))
    settings = make_settings()
    archive = Archive(settings)
    with archive.db.session() as s:
        store.add_feed(s, f"{base}/feed.xml", "en")

    reports = run_stages(archive, ("poll", "download", "transcribe"))
    assert all(r.failed == 0 for r in reports), [(r.stage, r.notes) for r in reports]

    with archive.db.session() as s:
        cards = {c.title: c for c in store.episode_states(s)}
        published = store.newest_transcript(s, cards["published"].id)
        assert published is not None and published.origin == "publisher"
        assert published.source_url == f"{base}/t.vtt" and published.model == ""
        assert [seg.speaker for seg in published.segments] == ["John F. Kennedy"] * 2
        assert published.segments[1].text == "what your country can do for you & yours."
        # A link that 404s is not the episode's failure: Whisper transcribes it instead.
        missing = store.newest_transcript(s, cards["missing"].id)
        assert missing is not None and missing.origin == "asr" and missing.source_url is None
        assert "ask not what your country" in " ".join(x.text.lower() for x in missing.segments).replace(",", "")


def test_a_feed_can_prefer_asr(make_settings, http_root):
    root, base = http_root
    copy_audio("jfk.flac", root)
    (root / "t.vtt").write_text(VTT)
    links = f'<podcast:transcript url="{base}/t.vtt" type="text/vtt"/>'
    (root / "feed.xml").write_text(_feed(base, [("published", "p", links)]))
    archive = Archive(make_settings())
    with archive.db.session() as s:
        feed = store.add_feed(s, f"{base}/feed.xml", "en")
        feed.prefer_asr = True
    assert all(r.failed == 0 for r in run_stages(archive, ("poll", "download", "transcribe")))
    with archive.db.session() as s:
        (card,) = store.episode_states(s)
        t = store.newest_transcript(s, card.id)
        assert t is not None and t.origin == "asr" and t.model == "tiny.en"
