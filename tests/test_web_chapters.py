"""The episode page's chapters list and its quote controls, server-rendered (Flask test client)."""

from __future__ import annotations

import re

import pytest

from archive import store
from archive.context import Archive
from feeds import Chapter
from tests.web_corpus import build, transcript
from web import create_app

TEXTS = [
    (None, "And so my fellow Americans, ask not."),
    (None, "What your country can do for you."),
    (None, "Ask what you can do for your country."),
]
HOSTILE = "<script>alert('chapter')</script><img src=x onerror=alert(1)>Intro"


@pytest.fixture
def site(make_settings):
    settings = make_settings(secret_key="k")
    ids = build(
        settings,
        [{"title": "Ask not", "guid": "a"}, {"title": "No chapters", "guid": "b"}],
        {"a": transcript(TEXTS, language="en"), "b": transcript(TEXTS, language="en")},
    )
    with Archive(settings).db.session() as s:
        episode = store.get_episode(s, ids["a"])
        assert episode is not None
        store.save_chapters(
            s,
            episode,
            "https://cdn.example/a.json",
            (
                Chapter(0.0, HOSTILE, "javascript:alert(1)", None),
                Chapter(5.0, "Your country", "https://example.org/country", None),
                Chapter(3725.5, "Late", None, None),
            ),
        )
    return create_app(settings).test_client(), ids


def _page(client, path: str, lang: str = "en") -> str:
    response = client.get(path, headers={"Accept-Language": lang})
    assert response.status_code == 200
    return response.get_data(as_text=True)


def test_chapters_are_a_list_of_time_links_with_escaped_titles(site):
    client, ids = site
    html = _page(client, f"/episodes/{ids['a']}")
    nav = re.search(r'<nav class="chapters".*?</nav>', html, re.S)
    assert nav is not None
    nav_html = nav.group(0)
    assert '<h2 id="chapters-heading">Chapters</h2>' in nav_html
    assert re.findall(r'href="\?t=([\d.]+)" data-seek="\1"', nav_html) == ["0.00", "5.00", "3725.50"]
    assert re.findall(r'<span class="at">([^<]+)</span>', nav_html) == ["0:00", "0:05", "1:02:05"]
    # Feed text is text: the tags are shown, never run; only http(s) links are kept.
    assert "<script>alert" not in html and "<img src=x" not in html
    assert "&lt;script&gt;alert(&#39;chapter&#39;)&lt;/script&gt;&lt;img src=x onerror=alert(1)&gt;Intro" in nav_html
    assert "javascript:" not in html
    assert nav_html.count('class="more"') == 1 and 'href="https://example.org/country"' in nav_html
    assert "Chapitres" in _page(client, f"/episodes/{ids['a']}", "fr-CA")
    assert 'class="chapters"' not in _page(client, f"/episodes/{ids['b']}")


def test_every_passage_has_a_quote_link_that_works_without_javascript(site):
    client, ids = site
    html = _page(client, f"/episodes/{ids['a']}")
    assert re.findall(r'<a class="cite" href="\?start=([\d.]+)&amp;end=([\d.]+)"', html) == [
        ("0.00", "5.00"),
        ("5.00", "10.00"),
        ("10.00", "15.00"),
    ]
    assert 'aria-label="Quote the passage at 0:05"' in html
    # The middle passage's quote page offers to widen it by one passage either way.
    quote = _page(client, f"/episodes/{ids['a']}?start=5.00&end=10.00")
    card = re.search(r'<figure class="quote-card".*?</figure>', quote, re.S).group(0)  # type: ignore[union-attr]
    assert "What your country can do for you." in card
    assert '<a href="?start=0.00&amp;end=10.00" rel="nofollow">Include the passage before</a>' in card
    assert '<a href="?start=5.00&amp;end=15.00" rel="nofollow">Include the passage after</a>' in card
    # At the ends there is nothing more to include.
    first = _page(client, f"/episodes/{ids['a']}?start=0&end=5")
    card = re.search(r'<figure class="quote-card".*?</figure>', first, re.S).group(0)  # type: ignore[union-attr]
    assert "passage before" not in card and "?start=0.00&amp;end=10.00" in card
    whole = _page(client, f"/episodes/{ids['a']}?start=0&end=15", "fr-CA")
    card = re.search(r'<figure class="quote-card".*?</figure>', whole, re.S).group(0)  # type: ignore[union-attr]
    assert "Ajouter le passage" not in card and "Citation de 0:00 à 0:15" in card


def test_outgoing_feed_mirrors_the_shows_chapters_file(make_settings):
    from feeds import parse_feed

    settings = make_settings()
    items = [
        {
            "title": "With chapters",
            "guid": "c",
            "extra": '<podcast:chapters url="https://cdn.example/c.json" type="application/json+chapters"/>',
        },
        {
            "title": "Hostile",
            "guid": "h",
            "extra": '<podcast:chapters url="javascript:alert(1)" type="application/json"/>',
        },
        {"title": "None", "guid": "n"},
    ]
    build(settings, items, {g: transcript(TEXTS, language="en") for g in ("c", "h", "n")})
    client = create_app(settings).test_client()

    body = client.get("/shows/1/feed.xml").get_data()

    entries = {e.guid: e for e in parse_feed(body, "http://localhost/shows/1/feed.xml").entries}
    assert entries["c"].chapters_url == "https://cdn.example/c.json"
    assert entries["h"].chapters_url is None and entries["n"].chapters_url is None
    assert b'type="application/json+chapters"' in body and b"javascript:" not in body
