"""The listening path in a real Chromium: search, land on the moment, seek, share a quote."""

from __future__ import annotations

import re
from urllib.parse import parse_qs, urlsplit

import pytest

pytestmark = pytest.mark.browser

READY = "() => { const a = document.getElementById('player'); return a && a.readyState >= 1; }"


def _current_time(page) -> float:
    return float(page.evaluate("document.getElementById('player').currentTime"))


def _wait_time_near(page, seconds: float, tolerance: float = 1.0) -> None:
    page.wait_for_function(
        "([t, tol]) => { const a = document.getElementById('player');"
        " return a && a.readyState >= 1 && Math.abs(a.currentTime - t) <= tol; }",
        arg=[seconds, tolerance],
    )


def _ask_not_url(live_site, page) -> str:
    page.goto(live_site.url + "/")
    link = page.get_by_role("link", name=re.compile("Ask not"))
    return live_site.url + link.first.get_attribute("href")


def test_search_hit_lands_on_the_passage(live_site, page, artifacts):
    page.goto(live_site.url + "/")
    page.fill("#q", "country")
    page.press("#q", "Enter")
    page.wait_for_url(re.compile(r"/search\?q=country"))
    page.screenshot(path=str(artifacts / "search-country.png"), full_page=True)
    hit = page.locator("main a[href*='/episodes/']").first
    href = hit.get_attribute("href")
    start = float(parse_qs(urlsplit(href).query)["t"][0])
    hit.click()
    page.wait_for_url(re.compile(r"/episodes/\d+"))
    _wait_time_near(page, start)
    assert abs(_current_time(page) - start) <= 1.0
    # The landing passage is the one the link names, and it holds the word searched for.
    fragment = urlsplit(href).fragment
    assert "country" in page.locator(f"#{fragment}").inner_text().lower()
    page.screenshot(path=str(artifacts / "episode-from-search.png"), full_page=True)


def test_clicking_a_timestamp_or_a_word_seeks(live_site, page):
    page.goto(_ask_not_url(live_site, page))
    page.wait_for_function(READY)
    second = page.locator("ol.transcript li.passage").nth(1)
    start = float(second.get_attribute("data-start"))
    second.locator("a.ts").click()
    _wait_time_near(page, start)
    # The page follows the audio: the passage being heard is marked for eyes and screen readers.
    page.wait_for_function("() => document.querySelector('li.passage.playing') !== null")
    assert second.get_attribute("aria-current") == "true"
    assert f"t={start:.2f}" in page.url

    # Click the fourth word of the third passage: playback starts at that word's time.
    third = page.locator("ol.transcript li.passage").nth(2)
    t = float(third.get_attribute("data-start")) + float(third.locator("p.text").get_attribute("data-w").split()[3])
    box = page.evaluate(
        """() => { const p = document.querySelectorAll('ol.transcript li.passage')[2].querySelector('p.text');
                   const node = p.firstChild, text = node.data; let i = 0, n = 0;
                   for (const m of text.matchAll(/\\S+/g)) { if (n++ === 3) { i = m.index; break; } }
                   const r = document.createRange(); r.setStart(node, i); r.setEnd(node, i + 1);
                   const b = r.getBoundingClientRect(); return {x: b.x + b.width / 2, y: b.y + b.height / 2}; }"""
    )
    page.mouse.click(box["x"], box["y"])
    _wait_time_near(page, t, 0.3)


def test_timestamps_work_from_the_keyboard(live_site, page):
    page.goto(_ask_not_url(live_site, page))
    page.wait_for_function(READY)
    link = page.locator("ol.transcript li.passage").nth(1).locator("a.ts")
    start = float(link.get_attribute("data-seek"))
    link.focus()
    page.keyboard.press("Enter")
    _wait_time_near(page, start)


@pytest.mark.parametrize("suffix", ["?t=33.5", "#t=33.5", "?t=0:33.5"])
def test_deep_links_start_there(live_site, page, suffix):
    page.goto(_ask_not_url(live_site, page) + suffix)
    _wait_time_near(page, 33.5, 0.5)


def test_shared_quote_round_trips(live_site, browser, artifacts):
    context = browser.new_context(locale="en-US", viewport={"width": 1200, "height": 900})
    context.grant_permissions(["clipboard-read", "clipboard-write"])
    page = context.new_page()
    page.set_default_timeout(15_000)
    try:
        url = _ask_not_url(live_site, page)
        page.goto(url)
        passages = page.locator("ol.transcript li.passage")
        first, last = passages.nth(1), passages.nth(2)
        start, end = first.get_attribute("data-start"), last.get_attribute("data-end")
        # Select from the middle of one passage to the middle of the next, as a reader would.
        page.evaluate(
            """() => {
              const ps = document.querySelectorAll('ol.transcript li.passage');
              const a = ps[1].querySelector('p.text').firstChild;
              const b = ps[2].querySelector('p.text').firstChild;
              const r = document.createRange(); r.setStart(a, 12); r.setEnd(b, 8);
              const s = window.getSelection(); s.removeAllRanges(); s.addRange(r);
              ps[2].dispatchEvent(new MouseEvent('mouseup', {bubbles: true}));
            }"""
        )
        share = page.locator("#share")
        share.wait_for(state="visible")
        shared = page.input_value("#share-url")
        assert shared == f"{url}?start={start}&end={end}"
        page.click("#share-copy")
        page.wait_for_function("() => document.getElementById('share-status').textContent.length > 0")
        assert page.evaluate("navigator.clipboard.readText()") == shared
        page.screenshot(path=str(artifacts / "share-panel.png"))

        page.goto(shared)
        quoted = page.locator("ol.transcript li.quoted")
        assert quoted.count() == 2
        quote_text = page.locator("#quote blockquote").inner_text()
        assert quote_text.split()[0].lower() in first.inner_text().lower()
        og = page.locator("meta[property='og:description']").get_attribute("content")
        assert quote_text.strip() in og
        assert page.locator("meta[name='twitter:card']").get_attribute("content") == "summary"
        page.screenshot(path=str(artifacts / "quote.png"), full_page=True)
        # It plays just that range: started at the quote, stopped at its end.
        _wait_time_near(page, float(start), 0.5)
        page.evaluate(
            f"() => {{ const a = document.getElementById('player'); a.currentTime = {float(end) - 1.0}; a.play(); }}"
        )
        page.wait_for_function("() => document.getElementById('player').paused", timeout=10_000)
        assert abs(_current_time(page) - float(end)) < 0.75
    finally:
        context.close()


def test_follow_pauses_when_the_reader_scrolls_and_resumes(live_site, browser):
    context = browser.new_context(locale="en-US", viewport={"width": 800, "height": 360})
    page = context.new_page()
    page.set_default_timeout(15_000)
    try:
        page.goto(_ask_not_url(live_site, page))
        page.wait_for_function(READY)
        page.evaluate("document.getElementById('player').play()")
        page.wait_for_function("() => !document.getElementById('player').paused")
        follow = page.locator("#follow")
        assert follow.is_hidden()
        page.mouse.wheel(0, 300)
        follow.wait_for(state="visible")
        follow.click()
        follow.wait_for(state="hidden")
    finally:
        context.close()


def test_share_the_passage_being_heard_from_the_keyboard(live_site, page):
    url = _ask_not_url(live_site, page)
    page.goto(url)
    second = page.locator("ol.transcript li.passage").nth(1)
    middle = (float(second.get_attribute("data-start")) + float(second.get_attribute("data-end"))) / 2
    page.goto(f"{url}?t={middle:.2f}")
    _wait_time_near(page, middle, 0.5)
    page.focus("#share-current")
    page.keyboard.press("Enter")
    page.locator("#share").wait_for(state="visible")
    assert page.evaluate("document.activeElement.id") == "share-copy"
    expected = f"{url}?start={second.get_attribute('data-start')}&end={second.get_attribute('data-end')}"
    assert page.input_value("#share-url") == expected


def _tab_to(page, selector: str, index: int, limit: int = 120) -> None:
    """Press Tab until the index-th element matching selector has the focus."""
    for _ in range(limit):
        page.keyboard.press("Tab")
        if page.evaluate("([s, i]) => document.activeElement === document.querySelectorAll(s)[i]", [selector, index]):
            return
    raise AssertionError(f"Tab never reached {selector} #{index}")


def test_a_quote_range_from_the_keyboard_alone(live_site, page, artifacts):
    url = _ask_not_url(live_site, page)
    page.goto(url)
    page.wait_for_function(READY)
    passages = page.locator("ol.transcript li.passage")
    start, end = passages.nth(1).get_attribute("data-start"), passages.nth(2).get_attribute("data-end")
    # Tab to the second passage's quote control, pick it, then widen the quote by one passage.
    _tab_to(page, "ol.transcript a.cite", 1)
    page.keyboard.press("Enter")
    page.locator("#share").wait_for(state="visible")
    assert page.evaluate("document.activeElement.id") == "share-copy"
    assert page.input_value("#share-url") == f"{url}?start={start}&end={passages.nth(1).get_attribute('data-end')}"
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.id") == "share-earlier"
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.id") == "share-later"
    page.keyboard.press("Enter")
    shared = page.input_value("#share-url")
    assert shared == f"{url}?start={start}&end={end}"
    # Said to screen readers through the status line; both passages are marked.
    assert page.locator("#share-status").inner_text().startswith("Quote from")
    assert page.locator("ol.transcript li.selected").count() == 2
    page.screenshot(path=str(artifacts / "share-keyboard.png"))
    # Escape closes the panel and gives the focus back to the control that opened it.
    page.keyboard.press("Escape")
    page.locator("#share").wait_for(state="hidden")
    assert page.evaluate("document.activeElement === document.querySelectorAll('ol.transcript a.cite')[1]")

    page.goto(shared)
    quoted = page.locator("ol.transcript li.quoted")
    assert quoted.count() == 2
    assert [quoted.nth(i).get_attribute("id") for i in range(2)] == [
        passages.nth(1).get_attribute("id"),
        passages.nth(2).get_attribute("id"),
    ]
    _wait_time_near(page, float(start), 0.5)


def test_a_quote_range_without_javascript(live_site, browser):
    context = browser.new_context(locale="en-US", java_script_enabled=False)
    page = context.new_page()
    try:
        url = _ask_not_url(live_site, page)
        page.goto(url)
        passages = page.locator("ol.transcript li.passage")
        start, end = passages.nth(0).get_attribute("data-start"), passages.nth(1).get_attribute("data-end")
        # The quote control is a link: without the script it opens the passage's quote page.
        passages.nth(0).locator("a.cite").focus()
        page.keyboard.press("Enter")
        page.wait_for_url(re.compile(r"\?start="))
        assert page.locator("ol.transcript li.quoted").count() == 1
        page.get_by_role("link", name="Include the passage after").click()
        page.wait_for_url(re.compile(re.escape(f"{url}?start={start}&end={end}") + "$"))
        assert page.locator("ol.transcript li.quoted").count() == 2
        assert page.locator("#quote").get_by_role("link", name="Include the passage before").count() == 0
    finally:
        context.close()
