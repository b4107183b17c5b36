"""A hostile feed through the real pipeline: no page of the site runs its script."""

from __future__ import annotations

import json

import pytest

from tests.conftest import copy_audio, ingest_feed, serve_site

pytestmark = pytest.mark.browser

SCRIPT_TITLE = "&lt;script&gt;alert('title')&lt;/script&gt;Épisode &lt;img src=x onerror=alert('img')&gt;"
NOTES = """<![CDATA[<p>Notes</p>
<svg><a xlink:href="javascript:alert('svg')"><text y="20">svg</text></a><script>alert('svg-script')</script></svg>
<math><mtext><a href="javascript:alert('math')">math</a></mtext><maction actiontype="statusline" xlink:href="javascript:alert('maction')">m</maction></math>
<a href="javascript:alert('a')">a</a> <a href="JaVaScRiPt&#58;alert('entity')">b</a>
<iframe src="javascript:alert('iframe')"></iframe><img src=x onerror="alert('onerror')">
<form action="javascript:alert('form')"><button>go</button></form>
<style>body{background:url(javascript:alert('css'))}</style>
<a href="data:text/html,<script>alert('data')</script>">data</a>]]>"""  # noqa: E501 (hostile markup kept verbatim)
CHAPTERS_JSON = {
    "version": "1.2.0",
    "chapters": [
        {"startTime": 0, "title": "<script>alert('chapter')</script>", "url": "javascript:alert('chapter-url')"},
        {"startTime": 1, "title": "\"><img src=x onerror=alert('chapter-img')>", "img": "javascript:alert(1)"},
        {"startTime": 2, "title": "{{ 7*7 }} </nav><a href=javascript:alert('nav')>x</a>"},
    ],
}
PUBLISHER_JSON = {
    "version": "1.0.0",
    "segments": [
        {
            "speaker": "<img src=x onerror=alert('speaker')>",
            "startTime": 0.0,
            "endTime": 3.0,
            "body": "</script><script>alert('body')</script> \"><svg onload=alert('attr')>",
        },
        {"speaker": "Invité", "startTime": 3.0, "endTime": 6.0, "body": "Rien de spécial {{ 7*7 }}."},
    ],
}


def _feed(base: str) -> str:
    item = """<item><title>{title}</title><guid>{guid}</guid><link>javascript:alert('link')</link>
      <description>{notes}</description><pubDate>Mon, 09 Nov 2026 09:00:00 -0500</pubDate>
      <itunes:image href="javascript:alert('image')"/>
      {extra}<enclosure url="{base}/{audio}" type="audio/ogg" length="1"/></item>"""
    items = [
        item.format(
            title=SCRIPT_TITLE,
            guid="h-1",
            notes=NOTES,
            base=base,
            audio="fleurs-en-000.ogg",
            extra=f'<podcast:chapters url="{base}/c.json" type="application/json+chapters"/>',
        ),
        item.format(
            title="<![CDATA[<b onmouseover=alert('cdata')>Publisher</b>]]>",
            guid="h-2",
            notes=NOTES,
            base=base,
            audio="fleurs-en-001.ogg",
            extra=f'<podcast:transcript url="{base}/t.json" type="application/json"/>'
            '<podcast:person role="&lt;b onclick=alert(1)&gt;" href="javascript:alert(\'person\')">'
            "&lt;svg onload=alert('person')&gt;</podcast:person>",
        ),
    ]
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<rss version="2.0" xmlns:itunes="http://www.itunes.com/dtds/podcast-1.0.dtd" xmlns:podcast="https://podcastindex.org/namespace/1.0">
<channel><title>&lt;/title&gt;&lt;script&gt;alert('channel')&lt;/script&gt;</title><link>javascript:alert('channel-link')</link>
<description>{NOTES}</description>{"".join(items)}</channel></rss>"""


@pytest.fixture
def hostile_site(make_settings, http_root):
    root, base = http_root
    copy_audio("fleurs-en-000.ogg", root)
    copy_audio("fleurs-en-001.ogg", root)
    (root / "t.json").write_text(json.dumps(PUBLISHER_JSON))
    (root / "c.json").write_text(json.dumps(CHAPTERS_JSON))
    (root / "feed.xml").write_text(_feed(base))
    settings = make_settings(secret_key="k")
    ingest_feed(settings, f"{base}/feed.xml", "en")
    yield from serve_site(settings)


def test_hostile_feed_never_runs_script(hostile_site, browser, artifacts):
    context = browser.new_context(locale="fr-CA", viewport={"width": 1000, "height": 900})
    page = context.new_page()
    page.set_default_timeout(15_000)
    dialogs: list[str] = []
    page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    base = hostile_site.url
    try:
        page.goto(base + "/")
        episodes = sorted(
            {
                page.locator("a[href^='/episodes/']").nth(i).get_attribute("href")
                for i in range(page.locator("a[href^='/episodes/']").count())
            }
        )
        assert len(episodes) == 2, episodes
        paths = [
            "/",
            "/about",
            "/shows/1",
            "/shows/1/feed.xml",
            "/nope",
            "/search?q=alert",
            "/search?q=<script>alert(1)</script>",
        ]
        for ep in episodes:
            paths += [ep, ep + "?start=0&end=6", ep + "#t=1", ep + "/transcript.vtt"]
        page.goto(base + episodes[-1])
        paths += [
            a for a in page.eval_on_selector_all("a.speaker, p.people a", "els => els.map(e => e.getAttribute('href'))")
        ]
        for i, path in enumerate(paths):
            page.goto(base + path)
            # Hover and click everything a reader could: onmouseover and javascript: links.
            for link in page.locator("main a, main p.text, main summary").all()[:40]:
                if link.is_visible():
                    link.hover()
            for details in page.locator("details").all():
                details.evaluate("d => d.open = true")
            bad = page.evaluate(
                """() => [...document.querySelectorAll('*')].flatMap(el => [...el.attributes]
                     .filter(a => /^on/i.test(a.name) || /^\\s*(javascript|data|vbscript):/i.test(a.value))
                     .map(a => el.tagName + ' ' + a.name + '=' + a.value))"""
            )
            assert bad == [], (path, bad)
            if i < 3 or path.endswith("end=6"):
                page.screenshot(path=str(artifacts / f"hostile-{i}.png"), full_page=True)
        assert dialogs == []
        # The readable part of the title is still there; the only script is ours.
        page.goto(base + episodes[0])
        assert "Épisode" in page.locator("h1").inner_text()
        # Chapter titles are shown as the text they are.
        titles = page.locator("#chapters .title").all_inner_texts()
        assert titles == [c["title"] for c in CHAPTERS_JSON["chapters"]], titles
        assert page.eval_on_selector_all("script", "els => els.map(e => e.getAttribute('src'))") == [
            "/static/player.js"
        ]
    finally:
        context.close()
