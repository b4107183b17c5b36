"""parse_feed against real feeds (tests/data/feeds, see SOURCES.md there)."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from feeds import Feed, ParseError, parse_duration, parse_feed
from feeds.identity import normalise_enclosure_url
from feeds.model import Person, TranscriptLink

pytestmark = pytest.mark.fast

DATA = Path(__file__).parent / "data" / "feeds"


def load(name: str, base_url: str = "https://feeds.example.org/show/feed.xml") -> Feed:
    """Parse one fixture feed."""
    return parse_feed((DATA / name).read_bytes(), base_url)


@pytest.mark.parametrize(
    ("name", "count", "title"),
    [
        ("acast_fr_serial_duration_mix.xml", 10, "Demain, Le Soleil Se Couchera Deux Fois"),
        ("ccma_catalan_iso8859-1.xml", 350, "L'ofici de viure"),
        ("esperanto_no_guids.xml", 373, "Varsovia Vento Podkasto"),
        ("no_agenda_undefined_entity_p20.xml", 29, "No Agenda"),
        ("old_time_radio_dup_guid_bad_dates.xml", 74, "Old Time Radio Mystery Theater"),
        ("podcasting20_pc20rss.xml", 56, "Podcasting 2.0"),
        ("relative_enclosure_url.xml", 1, "Relative Enclosure URL example feed"),
        ("soundcloud_dia_radio_fr_basque.rss", 108, "DIA!"),
        ("soundcloud_infoq_interviews_large.rss", 308, "The InfoQ Podcast"),
        ("themnshow_p20_transcripts_vtt_srt.xml", 54, "The Mike Neumann Show"),
    ],
)
def test_every_fixture_parses(name: str, count: int, title: str) -> None:
    feed = load(name)
    assert feed.title == title
    assert len(feed.entries) == count
    guids = [e.guid for e in feed.entries]
    assert all(guids) and len(set(guids)) == len(guids)
    for entry in feed.entries:
        assert "<script" not in entry.description_html
        assert entry.published is None or entry.published.tzinfo is not None


def test_acast_durations_in_three_shapes() -> None:
    feed = load("acast_fr_serial_duration_mix.xml")
    assert feed.language == "fr"
    durations = {e.guid: e.duration for e in feed.entries}
    assert durations["614da3143ec8840014f75c0f"] == 1 * 3600 + 45 * 60 + 16  # 1:45:16
    assert durations["6fc3217a-0b54-4ec2-9add-dba798c08af9"] == 15 * 60 + 30  # 15:30
    assert durations["4595d025-86ba-4d64-9dd0-a0005db3b3a9"] == 84  # 1:24
    first = feed.entries[0]
    assert first.title == "Demain, Le Soleil Se Couchera Deux Fois : L'intégrale"
    assert first.published == datetime(2021, 9, 24, 10, 30, 46, tzinfo=UTC)
    assert first.enclosure is not None and first.enclosure.length == 101065944


def test_catalan_iso_8859_1_decoded() -> None:
    feed = load("ccma_catalan_iso8859-1.xml")
    first = feed.entries[0]
    assert first.title == "Jubilació: aspectes psicològics"
    # A relative guid is an identifier, not a URL: it must not change with the feed URL.
    assert first.guid == "mp3/2/4/1770796837042.mp3"
    assert "Hernández" in feed.description_html
    assert first.duration == 3340


def test_esperanto_identity_from_enclosure_is_stable() -> None:
    one = load("esperanto_no_guids.xml")
    two = load("esperanto_no_guids.xml", base_url="https://elsewhere.example.net/moved.xml")
    assert [e.guid for e in one.entries] == [e.guid for e in two.entries]
    assert one.entries[0].guid == "http://www.podkasto.net/wp-content/uploads/2023/07/230727VVE168P3.mp3"
    assert one.entries[0].title == "La 168-a elsendo - parto 3 (2023-07-27)"


def test_no_agenda_undefined_entity_still_yields_entries() -> None:
    feed = load("no_agenda_undefined_entity_p20.xml")
    assert any("undefined entity" in w for w in feed.warnings)
    first = feed.entries[0]
    assert first.guid == "http://1393.noagendanotes.com"
    assert first.title == '1393: "Space Wake"'
    assert len(first.transcripts) == 1
    assert first.chapters_url is not None
    assert sum(len(e.transcripts) for e in feed.entries) == 29


def test_old_time_radio_duplicate_kept_once_and_bad_dates() -> None:
    feed = load("old_time_radio_dup_guid_bad_dates.xml")
    dup = "http://www.mysteryshows.com/Podcasts/Suspense_49-02-17_328_Catch-Me-If-You-Can.mp3"
    assert [e.guid for e in feed.entries].count(dup) == 1
    assert any("duplicate item" in w and dup in w for w in feed.warnings)
    undated = {e.title for e in feed.entries if e.published is None}
    assert "CBS Radio Mystery Theater - 0017 - A Very Old Man" in undated
    assert len(undated) == 4


def test_podcasting20_persons_transcripts_chapters() -> None:
    feed = load("podcasting20_pc20rss.xml")
    first = feed.entries[0]
    assert first.guid == "PC2057"
    assert first.persons == (
        Person("Adam Curry", "host", "cast", "http://curry.com", "https://feeds.podcastindex.org/adam_avatar.jpg"),
        Person("Dave Jones", "host", "cast", "http://dave.sobr.org", "https://feeds.podcastindex.org/dave_avatar.jpg"),
        Person(
            "Brian of London",
            "guest",
            "cast",
            "https://gist.github.com/brianoflondon/",
            "https://noagendaassets.com/enc/1633719509.451_sirbrianoflondon.png",
        ),
    )
    # The feed says application/srt; we normalise to the registered-ish x-subrip.
    assert first.transcripts == (
        TranscriptLink("https://mp3s.nashownotes.com/PC20-57-Captions.srt", "application/x-subrip", None, None),
    )
    assert first.chapters_url == "http://34.117.70.159/http%3Amp3s.nashownotes.compc20rss.xml/PC2057"
    assert sum(len(e.transcripts) for e in feed.entries) == 47


def test_themnshow_srt_and_vtt_transcripts_lowercased_language() -> None:
    feed = load("themnshow_p20_transcripts_vtt_srt.xml")
    resilience = next(e for e in feed.entries if e.title == "Resilience")
    base = "https://mikeneumann.show/assets/static/themnshow050-20240622-DRAFT-transcript"
    assert resilience.transcripts == (
        TranscriptLink(base + ".srt", "application/x-subrip", "en", "captions"),
        TranscriptLink(base + ".vtt", "text/vtt", "en", "captions"),
    )
    first = feed.entries[0]
    assert first.title == "Social Media"
    assert first.episode_number == 54 and first.season == 1
    assert [p.name for p in first.persons] == ["Dr. Timothy M. Jurgensen"]
    assert sum(len(e.transcripts) for e in feed.entries) == 56


def test_relative_enclosure_resolved_against_base_url() -> None:
    feed = load("relative_enclosure_url.xml", base_url="https://kryogenix.org/random/relurleg.xml")
    enclosure = feed.entries[0].enclosure
    assert enclosure is not None
    assert enclosure.url == "https://kryogenix.org/images/me/hackergotchi-simpler.png"


def test_soundcloud_next_page_and_tracking_prefix() -> None:
    feed = load("soundcloud_infoq_interviews_large.rss")
    assert feed.next_page == "https://feeds.soundcloud.com/users/soundcloud:users:215740450/sounds.rss?before=259648966"
    first = feed.entries[0]
    assert first.guid == "tag:soundcloud,2010:tracks/2036513796"
    assert first.duration == 2222
    assert first.enclosure is not None
    assert normalise_enclosure_url(first.enclosure.url) == (
        "http://feeds.soundcloud.com/stream/2036513796-infoq-channel-facilitating-software-"
        "architecture-with-andrew-harmel-law.mp3"
    )
    # The channel claims English: the channel's language is a hint only.
    assert load("soundcloud_dia_radio_fr_basque.rss").language == "en"


@pytest.mark.parametrize(
    "content",
    [b"", b"   ", b"<html><head><title>x</title></head><body><p>hi</p></body></html>", b"not xml"],
)
def test_not_a_feed_raises(content: bytes) -> None:
    with pytest.raises(ParseError):
        parse_feed(content, "https://example.org/")


def test_entity_declarations_skip_second_pass_and_titles_are_plain() -> None:
    doc = b"""<?xml version="1.0"?>
<!DOCTYPE rss [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">]>
<rss version="2.0" xmlns:podcast="https://podcastindex.org/namespace/1.0"><channel><title>T</title>
<item><title>&lt;b&gt;Bold&lt;/b&gt; &amp;amp; co</title><guid>g1</guid>
<podcast:transcript url="https://h/t.vtt" type="text/vtt"/></item></channel></rss>"""
    feed = parse_feed(doc, "https://example.org/")
    assert any("entities" in w for w in feed.warnings)
    assert feed.entries[0].title == "Bold & co"
    assert feed.entries[0].transcripts == ()


def test_entries_without_identity_fall_back_to_title_and_date() -> None:
    doc = b"""<rss version="2.0"><channel><title>T</title>
<item><title>One</title><pubDate>Mon, 06 Jan 2020 10:00:00 GMT</pubDate></item></channel></rss>"""
    entry = parse_feed(doc, "https://example.org/").entries[0]
    assert entry.guid == "title:One|2020-01-06T10:00:00+00:00"


@given(st.text())
def test_parse_duration_never_raises(value: str) -> None:
    result = parse_duration(value)
    assert result is None or result >= 0


@given(st.integers(0, 10**6), st.integers(0, 59), st.integers(0, 59))
def test_parse_duration_hms(h: int, m: int, s: int) -> None:
    assert parse_duration(f"{h}:{m:02d}:{s:02d}") == h * 3600 + m * 60 + s
    assert parse_duration(str(h * 3600 + m * 60 + s)) == h * 3600 + m * 60 + s


@given(st.text())
def test_normalise_enclosure_url_total_and_idempotent(value: str) -> None:
    once = normalise_enclosure_url(value)
    assert normalise_enclosure_url(once) == once


@given(
    st.sampled_from(["", "dts.podtrac.com/redirect.mp3/", "chtbl.com/track/X1/", "op3.dev/e/", "pdst.fm/e/"]),
    st.from_regex(r"[a-z0-9]{1,10}\.(com|org)/[a-z0-9/]{0,20}\.mp3", fullmatch=True),
)
def test_normalise_strips_prefix(prefix: str, rest: str) -> None:
    url = normalise_enclosure_url(f"https://{prefix}{rest}?utm_source=feed")
    assert url == normalise_enclosure_url(f"https://{rest}")
    assert normalise_enclosure_url(url) == url
