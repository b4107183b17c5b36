"""`podarchive feeds import/export`: OPML in and out through the real CLI; DTDs refused."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from archive.config import Settings
from feeds.errors import ParseError
from feeds.opml import Subscription, parse_opml, render_opml
from tests.conftest import run_cli

OPML = b"""<?xml version="1.0" encoding="UTF-8"?>
<opml version="2.0"><head><title>from another app</title></head><body>
  <outline text="Interviews">
    <outline type="rss" text="Dia Radio" xmlUrl="https://feeds.soundcloud.com/users/soundcloud:users:683767394/sounds.rss" language="fr"/>
    <outline type="rss" text="Caf&#233; &amp; culture" xmlUrl="https://example.org/cafe.xml"/>
  </outline>
  <outline type="rss" text="dup" xmlUrl="https://example.org/cafe.xml"/>
  <outline type="link" text="a web page, no feed" url="https://example.org/"/>
  <outline type="rss" text="not http" xmlUrl="file:///etc/passwd"/>
</body></opml>"""  # noqa: E501 (OPML document kept verbatim)

BILLION_LAUGHS = b"""<?xml version="1.0"?>
<!DOCTYPE opml [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">
<!ENTITY c "&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;">]>
<opml version="2.0"><body><outline text="&c;" xmlUrl="https://example.org/x"/></body></opml>"""

XXE = b"""<?xml version="1.0"?><!DOCTYPE opml SYSTEM "file:///etc/passwd"><opml><body/></opml>"""


def test_import_then_export_round_trip(make_settings: Callable[..., Settings], tmp_path: Path) -> None:
    settings = make_settings()
    source = tmp_path / "subs.opml"
    source.write_bytes(OPML)
    out = run_cli(settings, "feeds", "add", "https://example.org/cafe.xml")
    assert out.returncode == 0, out.stderr
    out = run_cli(settings, "feeds", "import", str(source), "--language", "en")
    assert out.returncode == 0, out.stderr
    # The file: entry is no longer counted as "already watched": it is refused, and said so.
    assert "1 feeds added, 1 already watched, 1 skipped" in out.stdout, out.stdout
    assert "skipped file:///etc/passwd: scheme 'file' not allowed" in out.stdout
    listing = run_cli(settings, "feeds", "list").stdout
    assert "soundcloud:users:683767394" in listing and "language fr" in listing
    assert "passwd" not in listing

    exported = run_cli(settings, "feeds", "export").stdout.encode()
    subs = parse_opml(exported)
    assert [s.url for s in subs] == [
        "https://example.org/cafe.xml",
        "https://feeds.soundcloud.com/users/soundcloud:users:683767394/sounds.rss",
    ]
    assert subs[1].language == "fr" and subs[0].language is None

    # Importing our own export again adds nothing.
    source.write_bytes(exported)
    out = run_cli(settings, "feeds", "import", str(source))
    assert "0 feeds added, 2 already watched, 0 skipped" in out.stdout


@pytest.mark.parametrize(
    "document", [BILLION_LAUGHS, XXE, b"<opml><body>", b"<rss/>"], ids=["bomb", "xxe", "broken", "not-opml"]
)
def test_hostile_or_broken_opml_is_refused(document: bytes) -> None:
    with pytest.raises(ParseError):
        parse_opml(document)


def test_cli_refuses_an_entity_bomb_cleanly(make_settings: Callable[..., Settings], tmp_path: Path) -> None:
    source = tmp_path / "bad.opml"
    source.write_bytes(BILLION_LAUGHS)
    settings = make_settings()
    out = run_cli(settings, "feeds", "import", str(source))
    assert out.returncode == 1 and "cannot import" in out.stderr and "DOCTYPE" in out.stderr
    assert "no feeds" in run_cli(settings, "feeds", "list").stdout


def test_render_escapes_titles() -> None:
    doc = render_opml([Subscription("https://e.org/f?a=1&b=2", 'Tom & "Jerry" <live>', "fr")])
    assert parse_opml(doc) == [Subscription("https://e.org/f?a=1&b=2", 'Tom & "Jerry" <live>', "fr")]
