"""Hand-written feeds for shapes the real fixtures lack: Atom, UTF-16 with a BOM, Podcasting 2.0."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

import feeds

pytestmark = pytest.mark.fast

ATOM = """<?xml version="1.0" encoding="utf-8"?>
<feed xmlns="http://www.w3.org/2005/Atom">
  <title>Entretiens en Atom</title>
  <link href="https://example.org/"/>
  <id>urn:uuid:60a76c80-d399-11d9-b93c-0003939e0af6</id>
  <updated>2026-11-20T18:30:02Z</updated>
  <entry>
    <title>Épisode 1 : le fleuve</title>
    <id>urn:uuid:1225c695-cfb8-4ebb-aaaa-80da344efa6a</id>
    <updated>2026-11-20T18:30:02Z</updated>
    <link rel="alternate" href="/episodes/1"/>
    <link rel="enclosure" type="audio/mpeg" length="1337" href="/audio/ep1.mp3"/>
    <summary type="html">&lt;p&gt;Une entrevue &lt;script&gt;alert(1)&lt;/script&gt;sur le fleuve.&lt;/p&gt;</summary>
  </entry>
</feed>"""

RSS_FR = """<?xml version="1.0" encoding="UTF-16"?>
<rss version="2.0" xmlns:itunes="http://www.itunes.com/dtds/podcast-1.0.dtd"><channel>
<title>Balado québécois</title><link>https://example.org/</link><description>Été, œuvre, garçon</description>
<item><title>Ça déménage à Trois-Rivières</title><guid>qc-1</guid>
<enclosure url="https://example.org/qc1.mp3" type="audio/mpeg" length="42"/>
<itunes:duration>01:02:03</itunes:duration></item>
</channel></rss>"""

P20 = """<?xml version="1.0" encoding="UTF-8"?>
<rss version="2.0" xmlns:podcast="https://podcastindex.org/namespace/1.0"><channel>
<title>P2.0</title><link>https://example.org/</link><description>d</description>
<item><title>Avec transcriptions</title><guid>p-1</guid>
<enclosure url="https://example.org/p1.mp3" type="audio/mpeg" length="1"/>
<podcast:transcript url="https://example.org/p1.vtt" type="text/vtt" language="FR-CA"/>
<podcast:transcript url="/p1.srt" type="application/srt" language="fr-ca" rel="captions"/>
<podcast:transcript url="https://example.org/p1.json" type="application/json"/>
<podcast:person role="host" href="https://example.org/marie">Marie Tremblay</podcast:person>
<podcast:person role="guest" group="cast">Gilles Vigneault</podcast:person>
<podcast:chapters url="https://example.org/p1-chapters.json" type="application/json+chapters"/>
</item></channel></rss>"""


def test_atom_entry_with_relative_enclosure_and_hostile_summary():
    feed = feeds.parse_feed(ATOM.encode(), "https://example.org/atom.xml")
    assert feed.title == "Entretiens en Atom"
    [entry] = feed.entries
    assert entry.guid == "urn:uuid:1225c695-cfb8-4ebb-aaaa-80da344efa6a"
    assert entry.title == "Épisode 1 : le fleuve"
    assert entry.enclosure and entry.enclosure.url == "https://example.org/audio/ep1.mp3"
    assert entry.enclosure.length == 1337
    assert entry.link == "https://example.org/episodes/1"
    assert entry.published == datetime(2026, 11, 20, 18, 30, 2, tzinfo=UTC)
    assert "<script" not in entry.description_html and "sur le fleuve" in entry.description_html


def test_utf16_with_bom_keeps_french_text():
    content = RSS_FR.encode("utf-16")  # Python writes the BOM first
    assert content[:2] in (b"\xff\xfe", b"\xfe\xff")
    feed = feeds.parse_feed(content, "https://example.org/fr.xml")
    assert feed.title == "Balado québécois"
    [entry] = feed.entries
    assert entry.title == "Ça déménage à Trois-Rivières"
    assert entry.duration == 3723.0


def test_podcasting20_every_repeated_tag_is_kept():
    feed = feeds.parse_feed(P20.encode(), "https://example.org/p20.xml")
    [entry] = feed.entries
    assert [(t.type, t.language) for t in entry.transcripts] == [
        ("text/vtt", "fr-ca"),
        ("application/x-subrip", "fr-ca"),
        ("application/json", None),
    ]
    assert entry.transcripts[1].url == "https://example.org/p1.srt"
    assert entry.transcripts[1].rel == "captions"
    assert [(p.name, p.role, p.group) for p in entry.persons] == [
        ("Marie Tremblay", "host", None),
        ("Gilles Vigneault", "guest", "cast"),
    ]
    assert entry.persons[0].href == "https://example.org/marie"
    assert entry.chapters_url == "https://example.org/p1-chapters.json"
