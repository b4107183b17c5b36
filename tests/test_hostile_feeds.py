"""Hostile feed documents: entities, external references, huge and broken feeds, wrong encodings."""

from __future__ import annotations

import importlib.util
import pyexpat
import time
import xml.sax
from collections.abc import Callable

import feedparser.api
import pytest

from archive import store
from archive.config import Settings
from archive.context import Archive
from archive.ingest import poll_feeds
from feeds import ParseError
from feeds.parse import parse_feed
from tests.loopback import Handler, serve, static

BASE = "https://example.org/"
ITEM = (
    '<item><title>T &e;</title><guid>g1</guid><enclosure url="http://example.org/a.mp3" type="audio/mpeg" length="1"/>'
    "</item>"
)
# Nine levels of ten: 10^9 "a"s if anything ever expanded &i;.
LAUGHS = (
    '<!ENTITY a "aaaaaaaaaa">'
    + "".join(f'<!ENTITY {chr(98 + n)} "{("&" + chr(97 + n) + ";") * 10}">' for n in range(8))
    + '<!ENTITY e "&i;">'
)

HOSTILE = {
    "billion-laughs-doctype-first-line": f'<!DOCTYPE rss [{LAUGHS}]><rss version="2.0"><channel><title>x</title>{ITEM}'
    "</channel></rss>",
    "billion-laughs-doctype-own-line": f'<?xml version="1.0"?>\n<!DOCTYPE rss [\n{LAUGHS}\n]>\n'
    f'<rss version="2.0"><channel><title>x</title>{ITEM}</channel></rss>',
    "xxe-system-entity": '<?xml version="1.0"?>\n<!DOCTYPE rss [<!ENTITY e SYSTEM "file:///etc/passwd">]>\n'
    f'<rss version="2.0"><channel><title>&e;</title>{ITEM}</channel></rss>',
    "xxe-external-dtd": '<?xml version="1.0"?>\n<!DOCTYPE rss SYSTEM "file:///etc/passwd">\n'
    '<rss version="2.0"><channel><title>x</title><item><title>T</title><guid>g1</guid></item></channel></rss>',
    "parameter-entities": '<?xml version="1.0"?>\n<!DOCTYPE rss [<!ENTITY % p SYSTEM "file:///etc/passwd"> %p;'
    "<!ENTITY % q \"<!ENTITY e 'root:x:0:0'>\"> %q;]>\n"
    f'<rss version="2.0"><channel><title>&e;</title>{ITEM}</channel></rss>',
}


@pytest.mark.parametrize("name", list(HOSTILE))
def test_entities_are_never_expanded_and_files_never_read(name: str) -> None:
    started = time.process_time()
    try:
        feed = parse_feed(HOSTILE[name].encode(), BASE)
    except ParseError:
        return  # refusing the document is as good as parsing it without expansion
    assert time.process_time() - started < 5  # an expansion would take minutes and gigabytes
    text = repr(feed)
    assert "root:" not in text and "aaaaaaaaaaaaaaaaaaaa" not in text
    assert len(text) < 10_000
    # The entity is refused, so the Podcasting 2.0 pass is skipped with a warning.
    assert any("entities" in w or "malformed" in w for w in feed.warnings) or "external-dtd" in name


def test_expat_is_2_6_or_newer() -> None:
    # 2.6.0 fixed CVE-2023-52425 (quadratic reparsing of huge tokens, a cheap DoS on a
    # multi-megabyte feed). pyexpat is the interpreter's own (pyenv 3.11.7 bundles 2.5.0):
    # a newer Python (3.11.9+ bundles 2.6) or one built --with-system-expat on 2.6+ passes.
    assert pyexpat.version_info >= (2, 6, 0), f"expat {pyexpat.EXPAT_VERSION}: upgrade Python/libexpat"


def test_feedparser_has_no_libxml2_binding() -> None:
    # feedparser prefers drv_libxml2 when importable; libxml2 resolves external entities
    # unless told not to, so it must not be there at all.
    assert importlib.util.find_spec("lxml") is None
    assert importlib.util.find_spec("libxml2") is None
    assert importlib.util.find_spec("drv_libxml2") is None
    parser = xml.sax.make_parser(feedparser.api.PREFERRED_XML_PARSERS)
    assert type(parser).__module__ == "xml.sax.expatreader"


MALFORMED = {
    "unclosed-tags": b'<rss version="2.0"><channel><title>T</title><item><title>A</title><guid>g1</guid>',
    "bad-nesting": b'<rss version="2.0"><channel><title>T</title><item><title>A<guid>g1</title></guid></item>'
    b"</channel></rss>",
    "stray-ampersand": b'<rss version="2.0"><channel><title>A & B</title><item><title>x & y</title><guid>g1</guid>'
    b"</item></channel></rss>",
    "nul-bytes": b'<rss version="2.0"><channel><title>T\x00</title><item><title>A\x00B</title><guid>g\x001</guid>'
    b'<link>http://example.org/\x00x</link><enclosure url="http://example.org/a\x00.mp3" type="audio/mp\x00eg"/>'
    b"</item></channel></rss>",
    "truncated-mid-tag": b'<?xml version="1.0"?><rss version="2.0"><channel><title>T</title><item><title>A</ti',
    "binary-junk": bytes(range(256)) * 8,
    "json-not-xml": b'{"rss": {"channel": []}}',
}


@pytest.mark.parametrize("name", list(MALFORMED))
def test_malformed_xml_parses_leniently_or_raises_parse_error(name: str) -> None:
    try:
        feed = parse_feed(MALFORMED[name], BASE)
    except ParseError:
        return
    # No NUL anywhere (PostgreSQL text refuses it: the whole feed's insert would fail).
    assert "\x00" not in repr(feed)
    assert all(entry.guid for entry in feed.entries)


ENCODINGS = {
    # declared, actual bytes, acceptable titles (None: any text, or ParseError)
    "latin1-declared-utf8": ("UTF-8", "Café Brûlé".encode("latin-1"), None),
    "utf8-declared-latin1": ("ISO-8859-1", "Café".encode(), ("CafÃ©", "Café")),
    "utf16-with-bom": ("UTF-16", None, ("Café",)),
    "unknown-label": ("x-no-such-charset", b"Caf\xc3\xa9", None),
    "cp1252-smart-quotes": ("windows-1252", "\u201cquoted\u201d".encode("cp1252"), ("\u201cquoted\u201d",)),
}


@pytest.mark.parametrize("name", list(ENCODINGS))
def test_wrong_encodings_give_text_or_parse_error(name: str) -> None:
    declared, title_bytes, expected = ENCODINGS[name]
    if title_bytes is None:
        doc = (
            f'<?xml version="1.0" encoding="{declared}"?><rss version="2.0"><channel><title>Café</title>'
            "<item><title>Café</title><guid>g1</guid></item></channel></rss>"
        )
        content = doc.encode("utf-16")
    else:
        content = (
            f'<?xml version="1.0" encoding="{declared}"?><rss version="2.0"><channel><title>'.encode()
            + title_bytes
            + b"</title><item><title>"
            + title_bytes
            + b"</title><guid>g1</guid></item></channel></rss>"
        )
    try:
        feed = parse_feed(content, BASE)
    except ParseError:
        assert expected is None
        return
    assert len(feed.entries) == 1 and isinstance(feed.entries[0].title, str)
    if expected is not None:
        assert feed.entries[0].title in expected


def _big_feed(items: int) -> bytes:
    notes = "n" * 190
    body = "".join(
        f"<item><title>Episode {i}</title><guid>big-{i}</guid><description>{notes}</description>"
        f'<pubDate>Mon, 02 Nov 2026 09:00:00 +0000</pubDate><enclosure url="http://127.0.0.1:9/{i}.mp3" '
        'type="audio/mpeg" length="1"/></item>'
        for i in range(items)
    )
    return f'<?xml version="1.0"?><rss version="2.0"><channel><title>Big</title>{body}</channel></rss>'.encode()


@pytest.mark.parametrize("cap_mb", [8, 50], ids=["rejected-by-size-cap", "parsed-and-stored"])
def test_16mb_feed_with_40k_items_through_the_poll_stage(make_settings: Callable[..., Settings], cap_mb: int) -> None:
    content = _big_feed(40_000)
    assert 15e6 < len(content) < 18e6
    archive = Archive(make_settings(max_download_mb=cap_mb))
    with serve() as server:
        server.routes["/big"] = static(200, content, Content_Type="application/rss+xml")
        server.routes["/small"] = static(200, _big_feed(2), Content_Type="application/rss+xml")
        with archive.db.session() as s:
            big = store.add_feed(s, server.url("/big"), None).id
            small = store.add_feed(s, server.url("/small"), None).id
        report = poll_feeds(archive)
    # The run finishes and the other feed of the batch is stored either way.
    with archive.db.session() as s:
        assert len(store.feed_episodes(s, small)) == 2
        stored = len(store.feed_episodes(s, big))
        error = s.get(store.Feed, big).last_error
    if cap_mb == 8:
        assert (report.done, report.failed) == (1, 1)
        assert stored == 0 and "TooLarge" in (error or ""), error
    else:
        assert (report.done, report.failed) == (2, 0)
        assert stored == 40_000


def _served_twice(h: Handler) -> None:
    h.reply(200, {"Content-Type": "application/rss+xml"}, HOSTILE["xxe-system-entity"].encode())


def test_hostile_feed_through_the_poll_stage_stores_no_file_content(make_settings: Callable[..., Settings]) -> None:
    archive = Archive(make_settings())
    with serve() as server:
        server.routes["/xxe"] = _served_twice
        with archive.db.session() as s:
            fid = store.add_feed(s, server.url("/xxe"), None).id
        poll_feeds(archive)
    db_bytes = b"".join(p.read_bytes() for p in archive.settings.data_dir.glob("podarchive.db*"))
    assert b"root:x:0:0" not in db_bytes
    with archive.db.session() as s:
        assert all("root:" not in e.title for e in store.feed_episodes(s, fid))


def test_overlong_fields_are_stored_without_failing_the_feed(make_settings: Callable[..., Settings]) -> None:
    # Column limits are enforced by PostgreSQL (not SQLite): one oversized value must not
    # roll back the whole feed's poll. Run with PODARCHIVE_TEST_DB=postgresql to see it.
    long = "g" * 10_000
    doc = f"""<?xml version="1.0"?><rss version="2.0"><channel><title>Long</title><language>{"x" * 100}</language>
<item><title>{"T" * 10_000}</title><guid>{long}</guid><link>http://example.org/{"l" * 10_000}</link>
<enclosure url="http://example.org/{"e" * 10_000}.mp3" type="audio/{"m" * 300}"/></item>
<item><title>Other</title><guid>{long}-2</guid><enclosure url="http://example.org/b.mp3" type="audio/mpeg"/></item>
<item><title>Plain</title><guid>plain</guid><enclosure url="http://example.org/c.mp3" type="audio/mpeg"/></item>
</channel></rss>""".encode()
    archive = Archive(make_settings())
    with serve() as server:
        server.routes["/long"] = static(200, doc)
        with archive.db.session() as s:
            fid = store.add_feed(s, server.url("/long"), None).id
        assert poll_feeds(archive).failed == 0
        assert poll_feeds(archive, fid).failed == 0  # polled again: nothing changes, nothing duplicates
        with archive.db.session() as s:
            s.get(store.Feed, fid).next_poll_at = None
        assert poll_feeds(archive).failed == 0
    with archive.db.session() as s:
        episodes = store.feed_episodes(s, fid)
        # Two guids that share their first 10,000 characters stay two episodes.
        assert sorted(e.title[:5] for e in episodes) == ["Other", "Plain", "TTTTT"]
        assert len({e.guid for e in episodes}) == 3 and all(len(e.guid) <= 2048 for e in episodes)
