"""A recognised voice on the episode page in a real Chromium: the name with its discreet mark, in both languages."""

from __future__ import annotations

import re

import pytest

from archive import store
from archive.context import Archive
from archive.editorial import accounts
from archive.editorial import workflow as editing
from archive.store.schema import Episode
from tests.conftest import serve_site
from tests.editor_site import PASSWORD
from tests.voices_corpus import ITEMS, real_prints, voiced
from tests.web_corpus import build

pytestmark = [pytest.mark.browser, pytest.mark.db]


@pytest.fixture
def recognised_site(make_settings):  # type: ignore[no-untyped-def]
    """Episode 1's "Speaker 1" named Marie Tremblay by an editor; episode 2 stored after, Marie recognised in it."""
    prints = real_prints()
    settings = make_settings(secret_key="k")
    ids = build(settings, ITEMS[:2], {"ep-1": voiced(prints["A1"], prints["B1"])})
    archive = Archive(settings)
    with archive.db.session() as s:
        editing.rename_speaker(s, ids["ep-1"], "Speaker 1", "Marie Tremblay", 0, None)
    with archive.db.session() as s:
        episode = s.get(Episode, ids["ep-2"])
        store.save_transcript(s, episode, voiced(prints["C"], prints["A2"]), seconds_taken=1.0)
    for site in serve_site(settings):
        yield site, ids["ep-2"]


def test_the_recognised_name_is_marked_in_both_languages(recognised_site, browser, artifacts) -> None:  # type: ignore[no-untyped-def]
    site, episode = recognised_site
    for locale, mark, title in (
        ("en-US", "(recognised by voice)", "Recognised by voice, not yet reviewed by an editor"),
        ("fr-CA", "(reconnu à la voix)", "Reconnu à la voix, pas encore vérifié par un éditeur"),
    ):
        context = browser.new_context(locale=locale, viewport={"width": 1000, "height": 700})
        page = context.new_page()
        try:
            page.goto(f"{site.url}/episodes/{episode}")
            name = page.locator("li#p-1 a.speaker.recognised")
            assert name.inner_text().replace("\n", " ").strip().lower() == f"marie tremblay {mark}".lower()
            assert name.get_attribute("title") == title
            # The mark is not shouted in capitals like the name.
            assert page.locator("li#p-1 .recognised-mark").evaluate("e => getComputedStyle(e).textTransform") == "none"
            assert page.locator("li#p-0 .speaker").inner_text().strip().lower() == "speaker 1"
            page.locator("ol.transcript").screenshot(path=str(artifacts / f"episode-recognised-{locale}.png"))
        finally:
            context.close()


def test_the_editor_confirms_a_recognition_with_its_button(recognised_site, page, artifacts) -> None:  # type: ignore[no-untyped-def]
    site, episode = recognised_site
    with Archive(site.settings).db.session() as s:
        accounts.add_user(s, "ed@example.org", PASSWORD, role="editor", name="Ed Itor")
    page.goto(f"{site.url}/editor/episodes/{episode}")
    page.fill("#email", "ed@example.org")
    page.fill("#password", PASSWORD)
    page.get_by_role("button", name=re.compile("Log in|Connexion|Se connecter")).click()
    row = page.locator('#voices li[data-label="Speaker 2"]')
    assert re.search(r"Marie Tremblay, recognised, not yet reviewed \(similarity 0\.\d\d\)", row.inner_text())
    assert "recognised, not yet reviewed" in page.locator("#p-1 .head").inner_text()
    page.locator("section[aria-labelledby=speakers-h]").screenshot(path=str(artifacts / "editor-recognised.png"))
    row.get_by_role("button", name="Confirm").click()
    page.wait_for_selector(".flash")
    assert "recognised and confirmed" in page.locator('#voices li[data-label="Speaker 2"]').inner_text()
    public_page = page.context.new_page()
    public_page.goto(f"{site.url}/episodes/{episode}")
    assert public_page.locator("li#p-1 a.speaker").inner_text().strip().lower() == "marie tremblay"
    assert public_page.locator(".recognised-mark").count() == 0
