"""What readers see follows the editors: published text on the page, in downloads and guest pages."""

from __future__ import annotations

import pytest

from archive import store
from archive.context import Archive
from archive.editorial import workflow as editing
from tests.editor_site import make_archive
from web import create_app


@pytest.fixture
def site(make_settings):
    ea = make_archive(make_settings(secret_key="k"))
    return ea, create_app(ea.settings).test_client()


def _get(client, path):
    return client.get(path, headers={"Accept-Language": "en"})


def test_published_revision_is_what_readers_read(site):
    ea, client = site
    eid = ea.ids["ep-1"]
    page = _get(client, f"/episodes/{eid}").get_data(as_text=True)
    assert "Natashquan" in page and "Machine transcript." in page
    assert f'href="/episodes/{eid}/suggest" rel="nofollow"' in page
    with Archive(ea.settings).db.session() as s:
        editing.edit_passage(s, eid, 2, 0, None, text="Parlons de Kamouraska et de Vigneault", speaker="Marie Tremblay")
        editing.rename_speaker(s, eid, "SPEAKER_2", "Gilles Vigneault", 1, None)
    assert "Natashquan" in _get(client, f"/episodes/{eid}").get_data(as_text=True)  # not public before publishing
    with Archive(ea.settings).db.session() as s:
        editing.publish(s, eid, None)
    page = _get(client, f"/episodes/{eid}").get_data(as_text=True)
    assert "Kamouraska" in page and "Natashquan" not in page and "Reviewed transcript." in page
    text = _get(client, f"/episodes/{eid}/transcript.txt").get_data(as_text=True)
    assert "Kamouraska" in text and "Natashquan" not in text
    guest = _get(client, "/speakers/Marie%20Tremblay")
    assert guest.status_code == 200 and "Entrevue avec Gilles Vignault" in guest.get_data(as_text=True)
    # The machine's labels of a published episode no longer make guest pages.
    assert _get(client, "/speakers/SPEAKER_2").status_code == 404
    assert _get(client, "/speakers/SPEAKER_1").status_code == 200  # still named so in the published text
    # Unpublished: no transcript at all, not even the machine one.
    with Archive(ea.settings).db.session() as s:
        editing.unpublish(s, eid, None)
    page = _get(client, f"/episodes/{eid}").get_data(as_text=True)
    assert "Kamouraska" not in page and "Natashquan" not in page
    assert _get(client, f"/episodes/{eid}/transcript.txt").status_code == 404
    assert _get(client, "/speakers/Marie%20Tremblay").status_code == 404


def test_show_setting_keeps_machine_text_off_the_pages(site):
    ea, client = site
    eid, other = ea.ids["ep-1"], ea.ids["ep-2"]
    with Archive(ea.settings).db.session() as s:
        store.set_feed_publishing(s, store.get_episode(s, eid).feed_id, False)
        editing.publish(s, eid, None)
    assert "Natashquan" in _get(client, f"/episodes/{eid}").get_data(as_text=True)  # approved as is
    assert "Québec" not in _get(client, f"/episodes/{other}").get_data(as_text=True)
    assert _get(client, f"/episodes/{other}/transcript.vtt").status_code == 404


def test_outgoing_feed_offers_only_transcripts_readers_may_see(site):
    ea, client = site
    eid, other = ea.ids["ep-1"], ea.ids["ep-2"]

    def linked():
        xml = _get(client, "/shows/1/feed.xml").get_data(as_text=True)
        return {e for e in (eid, other) if f"/episodes/{e}/transcript." in xml}

    assert linked() == {eid, other}
    with Archive(ea.settings).db.session() as s:
        editing.unpublish(s, eid, None)
    assert linked() == {other}
    with Archive(ea.settings).db.session() as s:
        store.set_feed_publishing(s, store.get_episode(s, eid).feed_id, False)
        editing.publish(s, eid, None)
    assert linked() == {eid}
