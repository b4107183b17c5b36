"""Server-rendered pages, languages, downloads, the outgoing feed and headers (Flask test client)."""

from __future__ import annotations

import json
import re

import pytest

from feeds import parse_feed
from tests.web_corpus import build, transcript
from transcribe import formats
from web import create_app

ITEMS = [
    {
        "title": "Entrevue avec Marie Tremblay",
        "guid": "ep-1",
        "date": "Mon, 09 Nov 2026 09:00:00 -0500",
        "description": "<p>Une <b>entrevue</b> sur la forêt boréale.</p>",
    },
    {
        "title": "Pas encore transcrit",
        "guid": "ep-2",
        "date": "Mon, 02 Nov 2026 09:00:00 -0500",
        "extra": '<podcast:person role="guest">Jean Dubois</podcast:person>'
        "<podcast:person>Animatrice X</podcast:person>",
    },
]
TEXTS = [
    ("Animateur", "Bonjour et bienvenue à l'émission."),
    ("Marie Tremblay", "Merci de me recevoir, c'est un plaisir."),
    ("Marie Tremblay", "La forêt boréale couvre une grande partie du Québec."),
    ("Animateur", "Parlons de la coupe forestière."),
]


@pytest.fixture
def site(make_settings):
    settings = make_settings(secret_key="k", model="base")
    ids = build(settings, ITEMS, {"ep-1": transcript(TEXTS, step=5.0)})
    return create_app(settings).test_client(), ids


def _html(client, path, lang="en", **kw):
    response = client.get(path, headers={"Accept-Language": lang}, **kw)
    return response, response.get_data(as_text=True)


def test_pages_render_in_both_languages(site):
    client, ids = site
    for path in [
        "/",
        "/about",
        "/shows/1",
        f"/episodes/{ids['ep-1']}",
        f"/episodes/{ids['ep-2']}",
        "/speakers/Marie%20Tremblay",
    ]:
        en, en_html = _html(client, path, "en-US,en;q=0.9")
        fr, fr_html = _html(client, path, "fr-CA,fr;q=0.9")
        assert en.status_code == fr.status_code == 200, path
        assert '<html lang="en">' in en_html and '<html lang="fr-CA">' in fr_html
        assert 'href="#main"' in fr_html and 'role="search"' in fr_html
    _, home = _html(client, "/", "fr-CA")
    assert "Dernières entrevues" in home and "9 novembre 2026" in home
    _, home_en = _html(client, "/", "en")
    assert "Latest interviews" in home_en and "November 9, 2026" in home_en
    assert "Marie Tremblay" in home  # a voice of the archive


def test_durations_and_dates_are_localised(site):
    client, ids = site
    _, fr = _html(client, f"/episodes/{ids['ep-1']}", "fr-CA")
    _, en = _html(client, f"/episodes/{ids['ep-1']}", "en")
    # A no-break space between number and unit (French typography), a plain one between parts.
    assert "1\u00a0h 5\u00a0min" in fr and "1\u00a0hr 5\u00a0min" in en
    assert "9 novembre 2026" in fr and "Transcription automatique" in fr


def test_language_choice_order(make_settings):
    settings = make_settings(site_language="fr_CA")
    client = create_app(settings).test_client()
    # The setting beats Accept-Language ...
    assert '<html lang="fr-CA">' in client.get("/", headers={"Accept-Language": "en"}).get_data(as_text=True)
    # ... and the reader's switch beats the setting.
    switched = client.get("/language/en?next=/about")
    assert switched.status_code == 303 and switched.headers["Location"] == "/about"
    assert "lang=en" in switched.headers["Set-Cookie"] and "HttpOnly" in switched.headers["Set-Cookie"]
    assert '<html lang="en">' in client.get("/about").get_data(as_text=True)
    # Unknown Accept-Language falls back to French, the archive's first language.
    plain = create_app(make_settings()).test_client()
    assert '<html lang="fr-CA">' in plain.get("/", headers={"Accept-Language": "de"}).get_data(as_text=True)
    assert "Vary" in plain.get("/").headers and "Cookie" in plain.get("/").headers["Vary"]


@pytest.mark.parametrize(
    "target", ["https://evil.example/", "//evil.example/x", "/\\evil.example", "javascript:alert(1)"]
)
def test_language_switch_only_returns_to_local_pages(make_settings, target):
    client = create_app(make_settings()).test_client()
    response = client.get("/language/fr_CA", query_string={"next": target})
    assert response.headers["Location"] == "/"


def test_every_page_has_a_switch_to_the_other_language(site):
    client, ids = site
    _, fr = _html(client, f"/episodes/{ids['ep-1']}?t=5", "fr-CA")
    assert re.search(r'href="/language/en\?next=/episodes/\d+\?t%3D5"', fr)
    _, en = _html(client, "/about", "en")
    assert 'href="/language/fr_CA?next=/about"' in en


def test_episode_page_works_without_javascript(site):
    client, ids = site
    _, html = _html(client, f"/episodes/{ids['ep-1']}?t=10", "fr")
    assert f'src="/episodes/{ids["ep-1"]}/audio' not in html  # no audio stored: no player
    assert 'href="?t=10.00#p-2"' in html and 'id="p-3"' in html
    assert '<a class="speaker" href="/speakers/Marie%20Tremblay">Marie Tremblay</a>' in html
    assert '<p class="text" data-w="0 0.6 1.1 1.7 ' in html and "La forêt boréale couvre" in html
    assert "status-machine" in html


def test_quote_link_highlights_the_range_and_fills_the_card_tags(site):
    client, ids = site
    _, html = _html(client, f"/episodes/{ids['ep-1']}?start=5.00&end=15.00", "fr-CA")
    assert html.count('class="passage quoted') == 2
    # Marie's turn starts at p-1 (the second voice), p-2 goes on with it.
    assert 'id="p-1" class="passage quoted voice-2 turn"' in html and 'id="p-2" class="passage quoted voice-2"' in html
    og = re.search(r'<meta property="og:description" content="([^"]*)"', html).group(1)
    assert og.startswith("«\u00a0Merci de me recevoir") and "forêt boréale" in og
    assert 'name="twitter:card" content="summary"' in html
    # A reversed, absurd or partial range is just the episode.
    for query in ["start=15&end=5", "start=abc&end=3", "start=5", "start=nan&end=inf"]:
        _, plain = _html(client, f"/episodes/{ids['ep-1']}?{query}")
        assert "quoted" not in plain.split("<ol", 1)[1]


def test_downloads_round_trip_through_the_formats(site):
    client, ids = site
    base = f"/episodes/{ids['ep-1']}/transcript"
    vtt = client.get(base + ".vtt")
    assert vtt.status_code == 200 and vtt.mimetype == "text/vtt"
    assert vtt.headers["Access-Control-Allow-Origin"] == "*"
    parsed = formats.parse_vtt(vtt.get_data(as_text=True))
    assert [s.text for s in parsed.segments] == [t for _, t in TEXTS]
    assert [s.speaker for s in parsed.segments] == [sp for sp, _ in TEXTS]
    data = json.loads(client.get(base + ".json").get_data(as_text=True))
    assert data["segments"][2]["startTime"] == 10.0 and data["segments"][2]["speaker"] == "Marie Tremblay"
    assert formats.parse_srt(client.get(base + ".srt").get_data(as_text=True)).segments[3].start == 15.0
    assert "Marie Tremblay: Merci" in client.get(base + ".txt").get_data(as_text=True)
    assert client.get(base + ".doc").status_code == 404
    assert client.get(f"/episodes/{ids['ep-2']}/transcript.vtt").status_code == 404


def test_outgoing_feed_carries_transcripts(site):
    client, ids = site
    response = client.get("/shows/1/feed.xml")
    assert response.status_code == 200 and response.mimetype == "application/rss+xml"
    assert response.headers["Access-Control-Allow-Origin"] == "*"
    parsed = parse_feed(response.get_data(), "http://localhost/shows/1/feed.xml")
    assert parsed.title == "Le balado du magazine" and not parsed.warnings
    entries = {e.guid: e for e in parsed.entries}
    assert set(entries) == {"ep-1", "ep-2"}
    assert entries["ep-2"].transcripts == ()
    links = {t.type: t for t in entries["ep-1"].transcripts}
    assert set(links) == {"text/vtt", "application/json"}
    assert all(t.language == "fr" for t in links.values())
    assert entries["ep-1"].enclosure.url == "https://cdn.example/ep-1.mp3"
    # The links resolve to the same files the episode page offers.
    vtt = client.get(links["text/vtt"].url.replace("http://localhost", ""))
    assert vtt.status_code == 200 and "Merci de me recevoir" in vtt.get_data(as_text=True)
    assert client.get("/shows/999/feed.xml").status_code == 404


def test_security_headers_on_every_response_errors_included(site):
    client, ids = site
    app = client.application

    @app.get("/boom-for-test")
    def boom():  # a fault no real page can be made to raise on demand
        raise RuntimeError("boom")

    paths = [
        "/",
        f"/episodes/{ids['ep-1']}",
        "/nope",
        "/episodes/999",
        "/shows/1/feed.xml",
        f"/episodes/{ids['ep-1']}/transcript.vtt",
        "/boom-for-test",
        "/static/site.css",
    ]
    for path in paths:
        response = client.get(path, headers={"Accept-Language": "fr-CA"})
        csp = response.headers.get("Content-Security-Policy", "")
        assert "script-src 'self'" in csp and "frame-ancestors 'none'" in csp and "unsafe-inline" not in csp, path
        assert response.headers["X-Content-Type-Options"] == "nosniff", path
        assert response.headers["Referrer-Policy"], path
    missing = client.get("/episodes/999", headers={"Accept-Language": "fr-CA"})
    assert missing.status_code == 404 and "Nous n’avons pas trouvé cette page" in missing.get_data(as_text=True)
    broken = client.get("/boom-for-test", headers={"Accept-Language": "fr-CA"})
    assert broken.status_code == 500 and "Un problème est survenu" in broken.get_data(as_text=True)
    assert "RuntimeError" not in broken.get_data(as_text=True)


def test_speaker_page_lists_every_interview_with_them(site):
    client, ids = site
    _, html = _html(client, "/speakers/Marie%20Tremblay", "fr-CA")
    assert "Toutes les entrevues avec Marie Tremblay" in html
    assert f'href="/episodes/{ids["ep-1"]}"' in html and f'href="/episodes/{ids["ep-2"]}"' not in html
    assert client.get("/speakers/Nobody").status_code == 404


def test_podcast_person_credits_make_speaker_pages(site):
    client, ids = site
    _, episode = _html(client, f"/episodes/{ids['ep-2']}", "fr-CA")
    assert "Avec\n" in episode or "Avec" in episode
    assert '<a href="/speakers/Jean%20Dubois">Jean Dubois</a> <span class="meta">(invité·e)</span>' in episode
    _, page = _html(client, "/speakers/Jean%20Dubois", "en")
    assert f'href="/episodes/{ids["ep-2"]}"' in page and f'href="/episodes/{ids["ep-1"]}"' not in page
    _, home = _html(client, "/", "en")
    assert "Jean Dubois" in home and "Marie Tremblay" in home
