"""Feed URLs an operator types or imports (issue 19, item 13): refused at once, normalised, imports capped."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from sqlalchemy import func, select

from archive import store
from archive.config import ConfigError, Settings, load_settings
from archive.context import Archive
from feeds import BlockedURL
from feeds.feed_url import normalise_feed_url
from tests.conftest import run_cli


@pytest.mark.fast
@pytest.mark.parametrize(
    ("typed", "stored"),
    [
        ("https://example.org/feed.xml", "https://example.org/feed.xml"),
        ("  HTTPS://Example.ORG/feed.xml  ", "https://example.org/feed.xml"),
        ("https://example.org:443/feed.xml", "https://example.org/feed.xml"),
        ("http://example.org:80/feed.xml#latest", "http://example.org/feed.xml"),
        ("http://example.org:8080/Feed.XML?a=1&B=2", "http://example.org:8080/Feed.XML?a=1&B=2"),
        ("https://example.org", "https://example.org/"),
        ("https://example.org/feed.xml\r\n", "https://example.org/feed.xml"),  # a pasted line's end
        ("https://[2001:DB8::1]:443/f", "https://[2001:db8::1]/f"),
    ],
)
def test_feed_urls_are_normalised(typed: str, stored: str) -> None:
    assert normalise_feed_url(typed) == stored


REFUSED = {
    "file": ("file:///etc/passwd", "scheme 'file'"),
    "javascript": ("javascript:alert(1)", "scheme 'javascript'"),
    "ftp": ("ftp://example.org/feed.xml", "scheme 'ftp'"),
    "empty": ("", "empty"),
    "blank": ("   ", "empty"),
    "two-lines": ("https://example.org/a.xml\nhttps://example.org/b.xml", "line break"),
    "crlf": ("https://example.org/a.xml\r\nhttps://example.org/b.xml", "line break"),
    "tab-inside": ("https://example.org/a\t.xml", "control character"),
    "space-inside": ("https://example.org/a b.xml", "space"),
    "no-scheme": ("example.org/feed.xml", "http:// or https://"),
    "credentials": ("https://me:pw@example.org/feed.xml", "credentials"),
    "no-host": ("https:///feed.xml", "no host"),
    "bad-port": ("https://example.org:99999/feed.xml", "malformed"),
    "too-long": ("https://example.org/" + "a" * 2100, "longer than 2048"),
}


@pytest.mark.fast
@pytest.mark.parametrize("case", REFUSED, ids=list(REFUSED))
def test_unusable_feed_urls_are_refused(case: str) -> None:
    url, words = REFUSED[case]
    with pytest.raises(BlockedURL, match=words):
        normalise_feed_url(url)


def _feed_count(settings: Settings) -> int:
    with Archive(settings).db.session() as s:
        return int(s.scalar(select(func.count()).select_from(store.Feed)) or 0)


@pytest.mark.parametrize("case", ["file", "javascript", "empty", "two-lines", "no-scheme"])
def test_feeds_add_refuses_at_once_and_stores_nothing(make_settings: Callable[..., Settings], case: str) -> None:
    settings = make_settings()
    url, words = REFUSED[case]
    out = run_cli(settings, "feeds", "add", url)
    assert out.returncode == 1 and "Traceback" not in out.stderr, out.stderr
    assert "cannot watch" in out.stderr and words in out.stderr, out.stderr
    assert _feed_count(settings) == 0


def test_feeds_add_refuses_private_addresses_the_allow_list_does_not_open(
    make_settings: Callable[..., Settings],
) -> None:
    settings = make_settings(allow_private_hosts="10.0.0.1:8080")
    refused = run_cli(settings, "feeds", "add", "http://10.0.0.1/feed.xml")
    assert refused.returncode == 1 and "non-public address" in refused.stderr, refused.stderr
    allowed = run_cli(settings, "feeds", "add", "http://10.0.0.1:8080/feed.xml")
    assert allowed.returncode == 0, allowed.stderr
    assert _feed_count(settings) == 1


def test_near_duplicates_are_one_feed(make_settings: Callable[..., Settings]) -> None:
    settings = make_settings()
    # A row from before normalisation, spelled in capitals.
    with Archive(settings).db.session() as s:
        store.add_feed(s, "https://OLD.example.org/feed.xml", None)
    first = run_cli(settings, "feeds", "add", "HTTPS://Example.ORG:443/feed.xml#top")
    assert first.returncode == 0 and "added feed 2: https://example.org/feed.xml" in first.stdout, first.stderr
    for again in (
        "https://example.org/feed.xml",
        "https://example.org:443/feed.xml#other",
        "https://old.example.org/feed.xml",
    ):
        out = run_cli(settings, "feeds", "add", again)
        assert out.returncode == 1 and "already watched as feed" in out.stderr, (again, out.stderr)
    assert _feed_count(settings) == 2


@pytest.mark.fast
@pytest.mark.parametrize("value", ["0", "-5", "many"])
def test_max_opml_feeds_must_be_a_positive_number(tmp_path: Path, value: str) -> None:
    with pytest.raises(ConfigError, match="(?i)max_opml_feeds"):
        load_settings(environ={"PODARCHIVE_MAX_OPML_FEEDS": value}, data_dir=tmp_path)


def test_opml_import_is_capped_and_says_what_it_skipped(make_settings: Callable[..., Settings], tmp_path: Path) -> None:
    hostile = [
        "file:///etc/passwd",
        "javascript:alert(1)",
        "https://example.org/a.xml&#10;https://example.org/b.xml",
        "HTTPS://Example.org:443/feed-0.xml#dup",  # the first generated feed, spelled otherwise
    ]
    outlines = [f'<outline type="rss" text="f{n}" xmlUrl="https://example.org/feed-{n}.xml"/>' for n in range(20_000)]
    outlines[1:1] = [f'<outline type="rss" text="bad" xmlUrl="{url}"/>' for url in hostile]
    source = tmp_path / "big.opml"
    source.write_text(f'<?xml version="1.0"?><opml version="2.0"><body>{"".join(outlines)}</body></opml>')
    settings = make_settings()  # the default cap: 1,000 new feeds per import

    out = run_cli(settings, "feeds", "import", str(source))

    assert out.returncode == 0, out.stderr
    assert "1000 feeds added, 1 already watched, 19003 skipped" in out.stdout, out.stdout
    assert "skipped file:///etc/passwd: scheme 'file' not allowed" in out.stdout
    assert "skipped javascript:alert(1): scheme 'javascript' not allowed" in out.stdout
    assert "line break" in out.stdout
    assert "19000 skipped over the limit of 1000 new feeds per import (PODARCHIVE_MAX_OPML_FEEDS)" in out.stdout
    assert "first skipped: https://example.org/feed-1000.xml" in out.stdout
    assert _feed_count(settings) == 1000
    # A raised limit imports the rest; what is there is skipped as already watched.
    more = run_cli(make_settings(max_opml_feeds=50_000), "feeds", "import", str(source))
    assert "19000 feeds added, 1001 already watched, 3 skipped" in more.stdout, more.stdout
    assert _feed_count(settings) == 20_000
