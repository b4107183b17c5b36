"""The site in a real Chromium: language switch, accessibility basics, phone width, screenshots."""

from __future__ import annotations

import re

import pytest

pytestmark = pytest.mark.browser


def test_language_switch_follows_the_reader(live_site, browser, artifacts):
    context = browser.new_context(locale="fr-CA", viewport={"width": 1200, "height": 900})
    page = context.new_page()
    try:
        page.goto(live_site.url + "/")
        assert page.get_attribute("html", "lang") == "fr-CA"
        assert page.locator("h1").inner_text() == "Dernières entrevues"
        assert re.search(r"\d+ novembre 2026", page.locator("main").inner_text())
        page.screenshot(path=str(artifacts / "home-fr.png"), full_page=True)
        page.get_by_role("link", name=re.compile("Le rugissement")).first.click()
        episode_url = page.url
        assert page.locator("h2#transcript-heading").inner_text() == "Transcription"
        page.screenshot(path=str(artifacts / "episode-fr.png"), full_page=True)
        # The switch returns to the same page, now in English, and the choice sticks.
        page.get_by_role("link", name="English").click()
        page.wait_for_url(episode_url)
        assert page.get_attribute("html", "lang") == "en"
        assert page.locator("h2#transcript-heading").inner_text() == "Transcript"
        assert re.search(r"November \d+, 2026", page.locator("article").inner_text())
        page.goto(live_site.url + "/about")
        assert page.locator("h1").inner_text() == "About this archive"
        page.get_by_role("link", name="Français").click()
        assert page.locator("h1").inner_text() == "À propos de ces archives"
    finally:
        context.close()


def test_landmarks_labels_and_focus(live_site, page):
    page.goto(live_site.url + "/")
    page.get_by_role("link", name=re.compile("Ask not")).first.click()
    for role in ["banner", "main", "contentinfo", "search"]:
        assert page.get_by_role(role).count() == 1, role
    assert page.get_by_role("navigation").count() >= 2
    # Every form control has a name a screen reader can say.
    unnamed = page.evaluate(
        """() => [...document.querySelectorAll('input, button, audio, select, textarea')]
             .filter(el => !el.hidden && !(el.labels && el.labels.length) && !el.getAttribute('aria-label')
                     && !el.textContent.trim()).map(el => el.outerHTML)"""
    )
    assert unnamed == []
    # The first Tab lands on the skip link, which becomes visible and shows a focus ring.
    page.keyboard.press("Tab")
    focused = page.evaluate("document.activeElement.className")
    assert focused == "skip"
    box = page.locator("a.skip").bounding_box()
    assert box and box["x"] >= 0
    page.keyboard.press("Tab")
    outline = page.evaluate("getComputedStyle(document.activeElement).outlineStyle")
    assert outline not in ("none", "")


def _luminance(rgb: tuple[int, int, int]) -> float:
    def channel(c: int) -> float:
        c = c / 255
        return c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4

    r, g, b = (channel(c) for c in rgb)
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


@pytest.mark.parametrize("path", ["/", "/about", "/search?q=country", "/episodes/9999", "episode"])
def test_text_contrast_meets_aa(live_site, page, path):
    page.goto(live_site.url + ("/" if path == "episode" else path))
    if path == "episode":
        page.get_by_role("link", name=re.compile("Ask not")).first.click()
    pairs = page.evaluate(
        """() => {
          const bg = el => { for (; el; el = el.parentElement) { const c = getComputedStyle(el).backgroundColor;
                               if (c !== 'rgba(0, 0, 0, 0)' && c !== 'transparent') return c; } return 'rgb(255, 255, 255)'; };
          return [...document.querySelectorAll('a, p, span, h1, h2, h3, time, li, summary, label, button')]
            .filter(el => el.offsetParent !== null && el.textContent.trim())
            .map(el => [getComputedStyle(el).color, bg(el), el.tagName + '.' + el.className]);
        }"""  # noqa: E501 (JavaScript fragment kept verbatim)
    )
    rgb = lambda s: tuple(int(x) for x in re.findall(r"\d+", s)[:3])  # noqa: E731
    for fg, bg, what in pairs:
        lighter, darker = sorted((_luminance(rgb(fg)), _luminance(rgb(bg))), reverse=True)
        assert (lighter + 0.05) / (darker + 0.05) >= 4.5, (what, fg, bg)


def test_phone_width(live_site, browser, artifacts):
    context = browser.new_context(
        locale="fr-CA", viewport={"width": 375, "height": 812}, is_mobile=True, has_touch=True
    )
    page = context.new_page()
    try:
        for name, path in [("home", "/"), ("about", "/about"), ("missing", "/episodes/9999")]:
            page.goto(live_site.url + path)
            page.screenshot(path=str(artifacts / f"phone-{name}.png"), full_page=True)
        page.goto(live_site.url + "/")
        page.get_by_role("link", name=re.compile("Entretien :")).first.click()
        page.screenshot(path=str(artifacts / "phone-episode.png"), full_page=True)
        # Nothing wider than the screen: no sideways scrolling on a phone.
        assert page.evaluate("document.documentElement.scrollWidth") <= 375
        page.goto(live_site.url + "/search?q=tigre")
        page.screenshot(path=str(artifacts / "phone-search.png"), full_page=True)
        assert page.evaluate("document.documentElement.scrollWidth") <= 375
    finally:
        context.close()


def test_pages_work_without_javascript(live_site, browser, artifacts):
    context = browser.new_context(locale="en-US", java_script_enabled=False)
    page = context.new_page()
    try:
        page.goto(live_site.url + "/")
        page.get_by_role("link", name=re.compile("Ask not")).first.click()
        # The share and follow helpers stay hidden; the transcript, downloads and links are all there.
        assert page.locator("#share").is_hidden() and page.locator("#share-current").is_hidden()
        link = page.locator("ol.transcript li.passage").nth(1).locator("a.ts")
        start = float(link.get_attribute("data-seek"))
        link.click()
        page.wait_for_url(re.compile(r"\?t="))
        # The server put the moment in the audio's media fragment: the browser starts there by itself.
        assert page.locator("#player").get_attribute("src").endswith(f"#t={start:.2f}")
        page.get_by_role("link", name="Français").click()
        assert page.get_attribute("html", "lang") == "fr-CA"
        page.fill("#q", "country")
        page.press("#q", "Enter")
        page.wait_for_url(re.compile(r"/search\?q=country"))
        assert page.locator("main a[href*='/episodes/']").count() >= 1
        page.screenshot(path=str(artifacts / "no-js-search-fr.png"), full_page=True)
    finally:
        context.close()
