"""The search page and GET /api/search: grouped results, facets as links, safe HTML, rate limit, no key."""

from __future__ import annotations

import re

import pytest

from archive.context import Archive
from archive.ingest import index_episodes
from tests.search_corpus import add_show
from web import create_app


@pytest.fixture
def site(make_settings):
    settings = make_settings()
    archive = Archive(settings)
    add_show(
        archive,
        "Le Magazine",
        {
            "Le tigre": ["le rugissement du tigre <script>alert(1)</script>", "le tigre & le lion", "autre chose"],
            "Le lion": ["le lion rugit plus fort que le tigre"],
        },
        year=2023,
    )
    add_show(archive, "Other Show", {"Tigers": ["the tiger roars, the tigre too"]}, language="en", year=2025)
    assert index_episodes(archive).done == 3
    app = create_app(settings)
    app.config["SEARCH_RATE_BURST"] = 1000
    return app, settings


def test_api_search_json(site):
    app, settings = site
    client = app.test_client()
    r = client.get("/api/search?q=tigre&limit=500")
    assert r.status_code == 200
    body = r.get_json()
    assert body["limit"] == 50  # capped
    assert body["total"] == 4
    assert body["facets"]["show"] == {"Le Magazine": 3, "Other Show": 1}
    assert body["facets"]["year"] == {"2023": 3, "2025": 1}
    p = next(p for p in body["passages"] if "script" in p["html"])
    assert "<script>" not in p["html"] and "&lt;script&gt;" in p["html"] and "<mark>tigre</mark>" in p["html"]
    assert p["episode"]["show"] == "Le Magazine" and p["start"] == 0.0 and p["url"].startswith("/episodes/")
    assert settings.meili_key not in r.get_data(as_text=True)

    r = client.get("/api/search?q=tigre&year=2025&language=en")
    assert [p["episode"]["title"] for p in r.get_json()["passages"]] == ["Tigers"]
    r = client.get("/api/search?q=tigre&show=Le%20Magazine&speaker=Host")
    assert {p["speaker"] for p in r.get_json()["passages"]} == {"Host"}
    assert client.get("/api/search?q=tigre&page=9999").get_json()["page"] == 50
    assert client.get("/api/search").status_code == 400


def test_api_rate_limit(site):
    app, _ = site
    app.config["SEARCH_RATE_BURST"] = 3
    app.config["SEARCH_RATE_PER_S"] = 0.01
    app.extensions.pop("podarchive_search_bucket", None)
    client = app.test_client()
    codes = [client.get("/api/search?q=tigre").status_code for _ in range(5)]
    assert codes == [200, 200, 200, 429, 429]
    r = client.get("/api/search?q=tigre")
    assert int(r.headers["Retry-After"]) >= 1
    # Another client has its own bucket.
    assert client.get("/api/search?q=tigre", environ_base={"REMOTE_ADDR": "10.0.0.9"}).status_code == 200


def test_search_page_grouped_with_facets_and_more(site):
    app, settings = site
    client = app.test_client()
    html = client.get("/search?q=tigre").get_data(as_text=True)
    # One result per interview: three interviews, the best passage of each.
    assert html.count('class="hit"') == 3 and "3 interviews" in html
    assert "<script>alert" not in html
    assert settings.meili_key not in html
    assert 'href="/search?q=tigre&amp;show=Other+Show"' in html or "show=Other%20Show" in html
    more = re.findall(r'href="(/search\?q=tigre&amp;episode=\d+)"', html)
    assert len(more) == 3
    # "More passages" lists every matching passage of that interview.
    pages = [client.get(m.replace("&amp;", "&")).get_data(as_text=True).count('class="hit"') for m in more]
    assert sorted(pages) == [1, 1, 2]
    filtered = client.get("/search?q=tigre&year=2025").get_data(as_text=True)
    assert filtered.count('class="hit"') == 1 and "remove" in filtered


def test_search_page_no_results_suggests(site):
    app, _ = site
    html = app.test_client().get("/search?q=zzzqqqxx&show=Le+Magazine").get_data(as_text=True)
    assert "Nothing found" in html and "fewer words" in html and "without filters" in html
