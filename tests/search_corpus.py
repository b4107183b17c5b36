"""Real French and English text for search tests: FLEURS references and show notes of real feeds."""

from __future__ import annotations

import re
from datetime import timedelta
from pathlib import Path
from xml.sax.saxutils import escape

import feeds
import transcribe
from archive import store
from archive.context import Archive
from feeds.text import plain_text

DATA = Path(__file__).parent / "data"
# The FLEURS files hold several sentences run together without a separator;
# these are where each reference sentence starts (read from the files).
_FLEURS_STARTS = re.compile(r"(?<=[a-zé.»])(?=nous sommes|cela peut|il a ajouté|le rugissement|le même mois)")


def fleurs_sentences(lang: str) -> list[str]:
    """Each reference sentence of the FLEURS clips of one language."""
    out: list[str] = []
    for path in sorted((DATA / "audio").glob(f"fleurs-{lang}-*.txt")):
        text = path.read_text(encoding="utf-8").strip()
        out.extend(s.strip() for s in _FLEURS_STARTS.split(text) if s.strip())
    return out


def show_note_sentences(feed_file: str, limit: int = 200) -> list[str]:
    """Sentences of the show notes of a real feed, plain text, deduplicated."""
    parsed = feeds.parse_feed((DATA / "feeds" / feed_file).read_bytes(), "https://example.org/feed")
    seen: dict[str, None] = {}
    for entry in parsed.entries:
        for sentence in re.split(r"(?<=[.!?])\s+", plain_text(entry.description_html)):
            if 30 <= len(sentence) <= 300:
                seen.setdefault(sentence, None)
    return list(seen)[:limit]


def french_corpus() -> list[str]:
    """French passages: FLEURS sentences and the French serial show's notes."""
    return fleurs_sentences("fr") + show_note_sentences("acast_fr_serial_duration_mix.xml")


def english_corpus() -> list[str]:
    """English passages: FLEURS sentences and an interview podcast's notes."""
    return [p.read_text().strip() for p in sorted((DATA / "audio").glob("fleurs-en-*.txt"))] + show_note_sentences(
        "soundcloud_infoq_interviews_large.rss", 150
    )


def feed_xml(title: str, episodes: list[tuple[str, str, str]]) -> bytes:
    """An RSS feed with (guid, title, pubDate) items."""
    items = "".join(
        f"<item><title>{escape(t)}</title><guid>{escape(g)}</guid><pubDate>{d}</pubDate>"
        f"<description>{escape('<p>Notes of ' + t + '</p>')}</description>"
        f'<enclosure url="https://example.org/{escape(g)}.mp3" type="audio/mpeg" length="1"/></item>'
        for g, t, d in episodes
    )
    return (
        f'<?xml version="1.0" encoding="UTF-8"?><rss version="2.0"><channel><title>{escape(title)}</title>'
        f"<link>https://example.org/</link><description>d</description>{items}</channel></rss>"
    ).encode()


def add_show(
    archive: Archive, title: str, episodes: dict[str, list[str]], *, language: str = "fr", year: int = 2024
) -> dict[str, int]:
    """A feed whose episodes (title -> passage texts) have transcripts; returns episode ids by title."""
    url = f"https://example.org/{abs(hash(title))}.xml"
    date = f"Mon, 06 May {year} 09:00:00 +0000"
    parsed = feeds.parse_feed(feed_xml(title, [(f"g-{t}", t, date) for t in episodes]), url)
    ids: dict[str, int] = {}
    with archive.db.session() as s:
        feed = store.add_feed(s, url, language)
        store.record_feed_parsed(
            s, feed, parsed, etag=None, last_modified=None, now=store.now(), poll_interval=timedelta(minutes=15)
        )
        s.flush()
        for episode in feed.episodes:
            texts = episodes[episode.title]
            segments = tuple(
                transcribe.Segment(start=i * 5.0, end=i * 5.0 + 5.0, text=t, speaker="Host" if i % 2 else "Guest")
                for i, t in enumerate(texts)
            )
            result = transcribe.Transcript(language=language, segments=segments, duration=len(texts) * 5.0)
            store.save_transcript(s, episode, result, 0.1)
            ids[episode.title] = episode.id
    return ids
