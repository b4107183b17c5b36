"""Names that look like paths stay one link segment; images load only from the show's own art hosts."""

from __future__ import annotations

import re
from html.parser import HTMLParser
from urllib.parse import urljoin, urlsplit

import pytest

from archive.context import Archive
from archive.store.schema import Episode, Feed
from tests.conftest import serve_site
from tests.editor_site import PASSWORD
from tests.web_corpus import build, transcript
from web import create_app

VOICE = "../../editor/logout"
SHOW_ART = "https://img.example/cover.jpg"
EPISODE_ART = "https://art.example/episode.jpg"
PIXEL = "https://pixel.tracker.example/p.gif"
NOTES = f"""<![CDATA[<p>Notes <img src="{PIXEL}" width="1" height="1"> and
<img src="https://img.example/inline.png" alt="the show's own picture"></p>]]>"""
ITEMS = [
    {
        "title": "Entrevue",
        "guid": "ep-1",
        "description": NOTES,
        "extra": f"<podcast:person>{VOICE}</podcast:person>",
    },
]


class _Tags(HTMLParser):
    """Every <a href> and <img src> of a page."""

    def __init__(self) -> None:
        super().__init__()
        self.links: list[str] = []
        self.images: list[str | None] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = dict(attrs)
        if tag == "a" and found.get("href"):
            self.links.append(found["href"] or "")
        if tag == "img":
            self.images.append(found.get("src"))


def _tags(html: str) -> _Tags:
    parsed = _Tags()
    parsed.feed(html)
    return parsed


def _img_src(response) -> list[str]:  # type: ignore[no-untyped-def]
    csp = response.headers["Content-Security-Policy"]
    found = re.search(r"img-src ([^;]*)", csp)
    assert found, csp
    return found.group(1).split()


@pytest.fixture
def archive_with_art(make_settings):  # type: ignore[no-untyped-def]
    settings = make_settings(secret_key="art")
    ids = build(settings, ITEMS, {"ep-1": transcript([(VOICE, "Bonjour tout le monde"), (None, "Merci")])})
    with Archive(settings).db.session() as s:
        s.get(Episode, ids["ep-1"]).image = EPISODE_ART
        s.get(Feed, 1).image = SHOW_ART
    from archive.editorial import accounts

    with Archive(settings).db.session() as s:
        accounts.add_user(s, "ed@example.org", PASSWORD, role="editor")
    return settings, ids["ep-1"]


def test_a_voice_named_like_a_path_links_to_its_own_page(archive_with_art) -> None:  # type: ignore[no-untyped-def]
    settings, eid = archive_with_art
    client = create_app(settings).test_client()
    quoted = "/speakers/..%2F..%2Feditor%2Flogout"
    for page in ("/", f"/episodes/{eid}"):
        base = "http://localhost" + page
        links = _tags(client.get(page).get_data(as_text=True)).links
        speaker_links = [h for h in links if "editor" in h and "logout" in h]
        # Home (voices), and the episode's credit and its transcript passage.
        assert len(speaker_links) >= (1 if page == "/" else 2), (page, links)
        for href in speaker_links:
            assert href == quoted, (page, href)
            # Resolved as a browser does (dot segments removed): still the speaker's page.
            assert urlsplit(urljoin(base, href)).path == quoted, (page, href)
    answer = client.get(quoted)
    assert answer.status_code == 200 and VOICE in answer.get_data(as_text=True)


def test_images_only_from_the_shows_own_art_hosts(archive_with_art) -> None:  # type: ignore[no-untyped-def]
    settings, eid = archive_with_art
    client = create_app(settings).test_client()
    expected = {
        "/": ["'self'", "data:"],
        "/shows/1": ["'self'", "data:", "https://img.example"],
        f"/episodes/{eid}": ["'self'", "data:", "https://art.example", "https://img.example"],
        "/search": ["'self'", "data:"],
        "/editor/login": ["'self'", "data:"],
    }
    for path, sources in expected.items():
        response = client.get(path)
        assert _img_src(response) == sources, path
        html = response.get_data(as_text=True)
        assert "pixel.tracker.example" not in html, path
        for src in _tags(html).images:
            if src is None:
                continue  # the pixel: its source removed, only the tag left
            assert f"{urlsplit(src).scheme}://{urlsplit(src).netloc}" in sources, (path, src)
    episode = _tags(client.get(f"/episodes/{eid}").get_data(as_text=True)).images
    assert EPISODE_ART in episode and "https://img.example/inline.png" in episode
    assert SHOW_ART in _tags(client.get("/shows/1").get_data(as_text=True)).images


def test_a_hostile_image_url_never_reaches_the_policy(archive_with_art) -> None:  # type: ignore[no-untyped-def]
    settings, eid = archive_with_art
    with Archive(settings).db.session() as s:
        s.get(Feed, 1).image = "https://x.example;script-src 'unsafe-inline' https:/a.png"
        s.get(Episode, eid).image = "http://u:p@art.example/a.png"
    client = create_app(settings).test_client()
    for path in ("/shows/1", f"/episodes/{eid}"):
        response = client.get(path)
        csp = response.headers["Content-Security-Policy"]
        assert "unsafe-inline" not in csp and "x.example" not in csp and "art.example" not in csp, csp
        assert _img_src(response) == ["'self'", "data:"]
        images = _tags(response.get_data(as_text=True)).images
        assert all(src is None for src in images), images  # no art, no inline picture, no pixel


@pytest.mark.browser
def test_in_chromium_only_the_art_loads_and_the_voice_link_stays_put(archive_with_art, page) -> None:  # type: ignore[no-untyped-def]
    settings, eid = archive_with_art
    requested: list[str] = []
    png = bytes.fromhex(
        "89504e470d0a1a0a0000000d4948445200000001000000010806000000"
        "1f15c4890000000d49444154789c6360000002000154a24f5d0000000049454e44ae426082"
    )

    def outside(route) -> None:  # type: ignore[no-untyped-def]
        # No internet here: the art hosts are answered locally, anything else is refused.
        requested.append(route.request.url)
        if route.request.url in (SHOW_ART, EPISODE_ART, "https://img.example/inline.png"):
            route.fulfill(status=200, body=png, content_type="image/png")
        else:
            route.abort()

    page.route(re.compile(r"^https?://(?!127\.0\.0\.1)"), outside)
    for site in serve_site(settings):
        page.goto(f"{site.url}/editor/login")
        page.fill("#email", "ed@example.org")
        page.fill("#password", PASSWORD)
        page.click("main button[type=submit]")
        page.wait_for_url(f"{site.url}/editor/")
        page.goto(f"{site.url}/episodes/{eid}")
        page.wait_for_load_state("load")
        # The art loads lazily, after the load event: wait until every image is done, loaded or refused.
        page.wait_for_function("[...document.images].every(i => i.complete)")
        assert page.evaluate("[...document.images].filter(i => i.complete && i.naturalWidth > 0).length") == 2
        assert set(requested) == {EPISODE_ART, "https://img.example/inline.png"}, requested
        page.goto(f"{site.url}/")
        page.click(f"ul.speakers a:text-is('{VOICE}')")
        page.wait_for_load_state("load")
        assert urlsplit(page.url).path == "/speakers/..%2F..%2Feditor%2Flogout"
        assert VOICE in page.inner_text("h1")
        # Still logged in: the link went to the voice's page, not to /editor/logout.
        assert page.goto(f"{site.url}/editor/").url == f"{site.url}/editor/"
        assert not any("tracker" in u for u in requested)
