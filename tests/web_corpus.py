"""A small archive written through store functions (no audio, no model) for page tests."""

from __future__ import annotations

from datetime import timedelta

from archive import public, store
from archive.config import Settings
from archive.context import Archive
from feeds import parse_feed
from transcribe import Segment, Transcript, Word

FEED_URL = "https://magazine.example/balado.xml"


def feed_xml(items: list[dict[str, str]], title: str = "Le balado du magazine") -> bytes:
    """An RSS feed; item values are inserted raw, so callers can put hostile markup in them."""
    body = "".join(
        f"""<item><title>{i["title"]}</title><guid>{i["guid"]}</guid>
        {i.get("extra", "")}<link>{i.get("link", "https://magazine.example/e/" + i["guid"])}</link>
        <description>{i.get("description", "")}</description>
        <pubDate>{i.get("date", "Mon, 09 Nov 2026 09:00:00 -0500")}</pubDate>
        <itunes:duration>{i.get("duration", "1:05:00")}</itunes:duration>
        <enclosure url="{i.get("url", "https://cdn.example/" + i["guid"] + ".mp3")}" type="audio/mpeg" length="1234"/></item>"""  # noqa: E501 (feed XML kept verbatim)
        for i in items
    )
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<rss version="2.0" xmlns:itunes="http://www.itunes.com/dtds/podcast-1.0.dtd" xmlns:podcast="https://podcastindex.org/namespace/1.0"><channel><title>{title}</title><link>https://magazine.example/</link>
<language>fr-ca</language><description>Des entrevues.</description>{body}</channel></rss>""".encode()


def transcript(texts: list[tuple[str | None, str]], language: str = "fr", step: float = 5.0) -> Transcript:
    """A transcript whose passages are `step` seconds long, with word timings."""
    segments = []
    for i, (speaker, text) in enumerate(texts):
        start = i * step
        words = text.split()
        each = step / max(len(words), 1)
        segments.append(
            Segment(
                start=start,
                end=start + step,
                text=text,
                speaker=speaker,
                language=language,
                words=tuple(Word(start + j * each, start + (j + 1) * each, w, 0.9) for j, w in enumerate(words)),
            )
        )
    return Transcript(language=language, segments=tuple(segments), duration=len(texts) * step, model="base")


def build(
    settings: Settings,
    items: list[dict[str, str]],
    transcripts: dict[str, Transcript],
    title: str = "Le balado du magazine",
) -> dict[str, int]:
    """Store a parsed feed and the given transcripts (by guid); returns episode ids by guid."""
    archive = Archive(settings)
    with archive.db.session() as s:
        feed = store.add_feed(s, FEED_URL, "fr")
        parsed = parse_feed(feed_xml(items, title), FEED_URL)
        now = store.now()
        store.record_feed_parsed(
            s, feed, parsed, etag=None, last_modified=None, now=now, poll_interval=timedelta(hours=1)
        )
        ids = {}
        for card in public.show_episodes(s, feed.id):
            episode = store.get_episode(s, card.id)
            assert episode is not None
            ids[episode.guid] = episode.id
            if episode.guid in transcripts:
                store.save_transcript(s, episode, transcripts[episode.guid], seconds_taken=1.0)
    return ids
