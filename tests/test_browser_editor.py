"""The whole editorial loop in a real Chromium: log in, correct, rename, publish, search, revert."""

from __future__ import annotations

import hashlib
import re

import pytest

from archive import store
from archive.context import Archive
from archive.ingest import index_episodes
from tests.conftest import copy_audio, serve_site
from tests.editor_site import make_archive

pytestmark = pytest.mark.browser


@pytest.fixture
def editor_site(make_settings):
    ea = make_archive(make_settings(secret_key="browser-test"))
    audio_dir = ea.settings.audio_dir
    audio_dir.mkdir(parents=True, exist_ok=True)
    mp3 = copy_audio("entretien-montagne.mp3", audio_dir)
    with Archive(ea.settings).db.session() as s:
        episode = store.get_episode(s, ea.ids["ep-1"])
        store.save_audio(
            s,
            episode,
            path=mp3.name,
            content_type="audio/mpeg",
            size=mp3.stat().st_size,
            sha256=hashlib.sha256(mp3.read_bytes()).hexdigest(),
            duration=15.0,
        )
    index_episodes(Archive(ea.settings))
    for site in serve_site(ea.settings):
        yield ea, site


def _search_titles(page, base, query):
    page.goto(f"{base}/search?q={query}")
    return [t.strip() for t in page.locator(".hit-title").all_inner_texts()]


def _publish_and_index(page, ea):
    page.locator("#publish").click()
    page.wait_for_selector(".flash")
    # Issue 19: the publication is applied to the search index at once, so the index stage
    # that cron runs every few minutes finds nothing left to do.
    assert "now searchable" in page.locator(".flash").inner_text()
    assert index_episodes(Archive(ea.settings)).done == 0


def test_log_in_correct_rename_publish_search_revert(editor_site, page, artifacts):
    ea, site = editor_site
    title = "Entrevue avec Gilles Vignault"
    assert title in _search_titles(page, site.url, "Natashquan")  # machine text is public by default

    page.goto(site.url + "/editor/")
    assert "/editor/login" in page.url
    page.fill("#email", ea.email)
    page.fill("#password", ea.password)
    page.get_by_role("button", name=re.compile("Log in|Connexion|Se connecter")).click()
    page.wait_for_selector("table.queue")
    page.screenshot(path=str(artifacts / "editor-queue.png"), full_page=True)
    # The riskiest transcript (unsure words) comes first.
    assert page.locator("table.queue tbody tr").first.inner_text().find(title) >= 0
    page.get_by_role("link", name=title).click()
    page.wait_for_selector("ol.passages")
    assert page.locator("mark.low").count() == 2

    # Play exactly one passage: it starts at the passage and stops at its end.
    page.locator("#p-1 a.play").click()
    page.wait_for_function("() => !document.getElementById('editor-audio').paused")
    page.wait_for_function("() => document.getElementById('editor-audio').paused", timeout=20_000)
    t = page.evaluate("document.getElementById('editor-audio').currentTime")
    assert 9.5 <= t <= 11.0, t

    # Correct a passage with the keyboard: Ctrl+Enter saves the form.
    box = page.locator("#t-2")
    box.fill("Parlons de Kamouraska et de Vigneault")
    box.press("Control+Enter")
    page.wait_for_url(re.compile(r"added=2"))
    assert page.locator("#p-2 p.said").inner_text().strip() == "Parlons de Kamouraska et de Vigneault"
    assert page.locator("#term-2").input_value() == "Kamouraska Vigneault"

    # Alt+J goes to the next passage and plays it; Alt+K pauses.
    page.locator("#t-0").focus()
    page.keyboard.press("Alt+KeyJ")
    page.wait_for_function("() => document.activeElement.id === 't-1'")
    page.wait_for_function("() => !document.getElementById('editor-audio').paused")
    page.keyboard.press("Alt+KeyK")
    page.wait_for_function("() => document.getElementById('editor-audio').paused")
    # Alt+R goes back 5 seconds and plays on.
    page.evaluate("document.getElementById('editor-audio').currentTime = 12")
    page.keyboard.press("Alt+KeyR")
    page.wait_for_function("() => !document.getElementById('editor-audio').paused")
    t = page.evaluate("document.getElementById('editor-audio').currentTime")
    assert 7.0 <= t < 9.5, t
    page.keyboard.press("Alt+KeyK")
    # Every form control has a name a screen reader can say.
    unnamed = page.evaluate(
        """() => [...document.querySelectorAll('input:not([type=hidden]), button, audio, select, textarea')]
             .filter(el => !el.hidden && !(el.labels && el.labels.length) && !el.getAttribute('aria-label')
                     && !el.textContent.trim()).map(el => el.outerHTML)"""
    )
    assert unnamed == []

    # Every passage of SPEAKER_2 gets the guest's name.
    page.select_option("#rename-old", label="SPEAKER_2 (1)")
    page.fill("#rename-new", "Gilles Vigneault")
    page.get_by_role("button", name="Rename").click()
    page.wait_for_selector(".flash")
    assert page.locator("#p-1 .speaker").text_content() == "Gilles Vigneault"
    page.screenshot(path=str(artifacts / "editor-episode.png"), full_page=True)

    _publish_and_index(page, ea)
    assert page.locator("#state").inner_text() == "published"
    assert title in _search_titles(page, site.url, "Kamouraska")
    assert title not in _search_titles(page, site.url, "Natashquan")
    page.screenshot(path=str(artifacts / "editor-search-after-publish.png"), full_page=True)

    # History shows the changes; revert to the machine text and publish again.
    page.goto(f"{site.url}/editor/episodes/{ea.ids['ep-1']}/history")
    assert page.locator("ins", has_text="Kamouraska").count() == 1
    page.screenshot(path=str(artifacts / "editor-history.png"), full_page=True)
    page.get_by_role("button", name="Revert to the machine transcript").click()
    page.wait_for_selector(".flash")
    page.goto(f"{site.url}/editor/episodes/{ea.ids['ep-1']}")
    assert page.locator("#p-2 p.said").inner_text().strip() == "Parlons de Natashquan et de Vignault"
    _publish_and_index(page, ea)
    assert title in _search_titles(page, site.url, "Natashquan")
    assert title not in _search_titles(page, site.url, "Kamouraska")

    # Logging out ends the session: the editor area asks for a log-in again.
    page.goto(site.url + "/editor/")
    page.get_by_role("button", name="Log out").click()
    page.goto(site.url + "/editor/")
    assert "/editor/login" in page.url
