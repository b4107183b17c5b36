"""The demo episode's chapters in a real Chromium: jump to one, with and without JavaScript, on a phone."""

from __future__ import annotations

import re

import pytest

pytestmark = pytest.mark.browser

# archive/demo/ask-not.chapters.json
DEMO_STARTS = [0.0, 12.5, 23.0, 33.0]


def _ask_not(live_site, page) -> str:
    page.goto(live_site.url + "/")
    return live_site.url + page.get_by_role("link", name=re.compile("Ask not")).first.get_attribute("href")


def _current_time(page) -> float:
    return float(page.evaluate("document.getElementById('player').currentTime"))


def test_clicking_a_chapter_seeks_there(live_site, page, artifacts):
    url = _ask_not(live_site, page)
    page.goto(url)
    nav = page.get_by_role("navigation", name="Chapters")
    links = nav.locator("a[data-seek]")
    assert [float(links.nth(i).get_attribute("data-seek")) for i in range(links.count())] == DEMO_STARTS
    assert links.nth(2).inner_text().split("\n")[0].strip().startswith("0:23")
    page.wait_for_function("() => document.getElementById('player').readyState >= 1")
    links.nth(2).click()
    page.wait_for_function("() => Math.abs(document.getElementById('player').currentTime - 23) < 0.3")
    assert page.url.endswith("?t=23.00")
    # The chapter being heard is marked for eyes and screen readers.
    page.wait_for_function("() => document.querySelector('#chapters a[aria-current]') !== null")
    assert links.nth(2).get_attribute("aria-current") == "true"
    page.evaluate("document.getElementById('player').pause()")
    page.screenshot(path=str(artifacts / "episode-chapters.png"), full_page=True)

    # From the keyboard: Tab to the last chapter and press Enter.
    links.nth(3).focus()
    page.keyboard.press("Enter")
    page.wait_for_function("() => Math.abs(document.getElementById('player').currentTime - 33) < 0.3")
    assert abs(_current_time(page) - 33.0) < 0.3


def test_chapters_without_javascript_and_on_a_phone(live_site, browser, artifacts):
    context = browser.new_context(locale="fr-CA", java_script_enabled=False)
    page = context.new_page()
    try:
        page.goto(_ask_not(live_site, page))
        page.get_by_role("navigation", name="Chapitres").get_by_role("link", name=re.compile("Sintra")).click()
        page.wait_for_url(re.compile(r"\?t=33\.00$"))
        # The server puts the moment in the audio's media fragment: the browser starts there itself.
        assert page.locator("#player").get_attribute("src").endswith("#t=33.00")
    finally:
        context.close()
    context = browser.new_context(
        locale="fr-CA", viewport={"width": 375, "height": 812}, is_mobile=True, has_touch=True
    )
    page = context.new_page()
    try:
        page.goto(_ask_not(live_site, page))
        page.locator("#chapters").scroll_into_view_if_needed()
        page.screenshot(path=str(artifacts / "phone-episode-chapters.png"), full_page=True)
        assert page.evaluate("document.documentElement.scrollWidth") <= 375
        box = page.locator("#chapters").bounding_box()
        assert box and box["width"] <= 375
    finally:
        context.close()
