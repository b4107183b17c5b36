"""The editor area without JavaScript: forms for every action, history, vocabulary, reader suggestions."""

from __future__ import annotations

import re

import pytest

from archive.context import Archive
from archive.editorial import suggestions, vocabulary
from archive.editorial import workflow as editing
from tests.editor_site import csrf_of, login, make_archive
from web import create_app


@pytest.fixture
def site(make_settings):
    ea = make_archive(make_settings(secret_key="k"))
    app = create_app(ea.settings)
    client = app.test_client()
    login(client)
    return ea, app, client


def _page(client, path):
    response = client.get(path, headers={"Accept-Language": "en"})
    assert response.status_code == 200, path
    return response.get_data(as_text=True)


def test_editor_page_marks_unsure_words_and_plays_each_passage(site):
    ea, app, client = site
    eid = ea.ids["ep-1"]
    html = _page(client, f"/editor/episodes/{eid}")
    assert html.count('<li id="p-') == 3
    assert re.search(r'<mark class="low" title="confidence 20%">Vignault</mark>', html)
    # No audio stored here: the passage shows its time instead of a play link.
    assert 'class="play"' not in html and 'class="time"' in html
    assert "Gilles Vigneault" in html  # podcast:person offered as a speaker name
    assert html.count('name="csrf_token"') >= 5


def test_save_from_the_form_then_add_the_new_word_to_the_vocabulary(site):
    ea, app, client = site
    eid = ea.ids["ep-1"]
    html = _page(client, f"/editor/episodes/{eid}")
    token = csrf_of(html)
    saved = client.post(
        f"/editor/episodes/{eid}/passages/2",
        data={
            "csrf_token": token,
            "base": "0",
            "text": "Parlons de Natashquan et de Vigneault.",
            "speaker": "SPEAKER_1",
        },
    )
    assert saved.status_code == 302 and "terms=Vigneault" in saved.headers["Location"]
    html = _page(client, saved.headers["Location"].split("#")[0])
    assert 'name="add" value="Vigneault"' in html
    added = client.post("/editor/shows/1/vocabulary", data={"csrf_token": token, "add": "Vigneault", "back": str(eid)})
    assert added.status_code == 302
    with Archive(ea.settings).db.session() as s:
        assert vocabulary.feed_terms(s, 1) == ["Vigneault"]
    assert "Vigneault." in _page(client, "/editor/shows/1/vocabulary")  # the model's prompt
    client.post("/editor/shows/1/vocabulary", data={"csrf_token": token, "remove": "Vigneault"})
    with Archive(ea.settings).db.session() as s:
        assert vocabulary.feed_terms(s, 1) == []


def test_history_shows_who_what_and_reverts(site):
    ea, app, client = site
    eid = ea.ids["ep-1"]
    token = csrf_of(_page(client, f"/editor/episodes/{eid}"))
    client.post(
        f"/editor/episodes/{eid}/passages/1", data={"csrf_token": token, "base": "0", "text": "Merci mille fois"}
    )
    client.post(
        f"/editor/episodes/{eid}/speakers",
        data={"csrf_token": token, "base": "1", "old": "SPEAKER_2", "new": "Gilles Vigneault"},
    )
    html = _page(client, f"/editor/episodes/{eid}/history")
    assert "ed@example.org" in html and "Revision 2" in html
    assert "<del>beaucoup c&#39;est un plaisir</del> <ins>mille fois</ins>" in html
    assert "<del>SPEAKER_2</del> → <ins>Gilles Vigneault</ins>" in html
    assert client.post(f"/editor/episodes/{eid}/revert/1", data={"csrf_token": token}).status_code == 302
    with Archive(ea.settings).db.session() as s:
        copy = editing.working_copy(s, eid)
    assert copy.number == 3 and copy.snapshot[1].speaker == "SPEAKER_2" and copy.snapshot[1].text == "Merci mille fois"
    # A form made on an old revision is a conflict, not a silent overwrite.
    stale = client.post(f"/editor/episodes/{eid}/passages/0", data={"csrf_token": token, "base": "1", "text": "x"})
    assert stale.status_code == 409


def test_only_admins_change_the_show_publishing_setting(site):
    ea, app, client = site
    token = csrf_of(_page(client, "/editor/shows/1/vocabulary"))
    assert client.post("/editor/shows/1/publishing", data={"csrf_token": token, "publish": "0"}).status_code == 403
    boss = app.test_client()
    login(boss, email="boss@example.org")
    html = _page(boss, "/editor/shows/1/vocabulary")
    assert (
        boss.post("/editor/shows/1/publishing", data={"csrf_token": csrf_of(html), "publish": "0"}).status_code == 302
    )
    assert "Only reviewed transcripts" in _page(boss, "/editor/shows/1/vocabulary")


def test_people_directory_uses_podcast_person_credits(site):
    ea, app, client = site
    html = _page(client, "/editor/people")
    assert "Gilles Vigneault" in html and "https://example.org/gv" in html and "Entrevue avec Gilles Vignault" in html


def test_reader_suggestion_is_stored_not_published_and_rate_limited(site):
    ea, app, client = site
    eid = ea.ids["ep-1"]
    app.config["SUGGEST_RATE"] = (2, 0.001)
    reader = app.test_client()
    form = _page(reader, f"/episodes/{eid}/suggest?p=2")
    assert "Parlons de Natashquan et de Vignault" in form
    token = csrf_of(form)
    assert reader.post(f"/episodes/{eid}/suggest", data={"p": "2", "text": "x"}).status_code == 400  # no CSRF token
    done = reader.post(
        f"/episodes/{eid}/suggest",
        data={"csrf_token": token, "p": "2", "text": "Parlons de Natashquan et de Vigneault", "note": "nom"},
    )
    assert done.status_code == 200
    same = reader.post(
        f"/episodes/{eid}/suggest", data={"csrf_token": token, "p": "2", "text": "Parlons de Natashquan et de Vignault"}
    )
    assert same.status_code == 400  # unchanged text is not a suggestion
    limited = reader.post(f"/episodes/{eid}/suggest", data={"csrf_token": token, "p": "2", "text": "autre"})
    assert limited.status_code == 429
    # A bot filling the hidden field is thanked and ignored.
    with Archive(ea.settings).db.session() as s:
        rows = suggestions.open_suggestions(s)
        assert [(r.position, r.text, r.note) for r in rows] == [(2, "Parlons de Natashquan et de Vigneault", "nom")]
        assert editing.working_copy(s, eid).number == 0  # never published by itself
    assert "Vigneault" in _page(client, "/editor/suggestions")
    token = csrf_of(_page(client, "/editor/suggestions"))
    assert (
        client.post(f"/editor/suggestions/{rows[0].id}", data={"csrf_token": token, "action": "apply"}).status_code
        == 302
    )
    with Archive(ea.settings).db.session() as s:
        copy = editing.working_copy(s, eid)
        assert copy.snapshot[2].text == "Parlons de Natashquan et de Vigneault" and copy.state == "in_review"
        assert suggestions.open_suggestions(s) == []


def test_honeypot_and_unknown_passages(site):
    ea, app, client = site
    eid = ea.ids["ep-1"]
    reader = app.test_client()
    token = csrf_of(_page(reader, f"/episodes/{eid}/suggest?p=0"))
    bot = reader.post(
        f"/episodes/{eid}/suggest", data={"csrf_token": token, "p": "0", "text": "spam", "website": "http://spam"}
    )
    assert bot.status_code == 200
    assert (
        reader.post(f"/episodes/{eid}/suggest", data={"csrf_token": token, "p": "99", "text": "x"}).status_code == 404
    )
    assert reader.get("/episodes/999/suggest?p=0").status_code == 404
    assert "0:05" in _page(reader, f"/episodes/{eid}/suggest")  # pick a passage
    with Archive(ea.settings).db.session() as s:
        assert suggestions.open_suggestions(s) == []


def test_publishing_what_the_editor_did_not_see_is_a_conflict(site):
    ea, app, client = site
    eid = ea.ids["ep-1"]
    html = _page(client, f"/editor/episodes/{eid}")
    token = csrf_of(html)
    assert 'name="base" value="0"' in html
    with Archive(ea.settings).db.session() as s:
        editing.edit_passage(s, eid, 0, 0, None, text="Changé par quelqu'un d'autre")
    assert client.post(f"/editor/episodes/{eid}/publish", data={"csrf_token": token, "base": "0"}).status_code == 409
    assert client.post(f"/editor/episodes/{eid}/publish", data={"csrf_token": token, "base": "1"}).status_code == 302
    with Archive(ea.settings).db.session() as s:
        assert editing.working_copy(s, eid).published_number == 1


def test_editor_is_told_when_a_newer_machine_transcript_arrives_after_revisions(site):
    from archive import store
    from tests.web_corpus import transcript

    ea, app, client = site
    eid = ea.ids["ep-2"]
    html = _page(client, f"/editor/episodes/{eid}")
    assert "newer-machine-text" not in html  # machine text only, no revision
    saved = client.post(
        f"/editor/episodes/{eid}/passages/0",
        data={
            "csrf_token": csrf_of(html),
            "base": "0",
            "text": "Une autre entrevue avec Vigneault à Québec",
            "speaker": "",
        },
    )
    assert saved.status_code == 302
    assert "newer-machine-text" not in _page(client, f"/editor/episodes/{eid}")  # revision over the newest
    with Archive(ea.settings).db.session() as s:
        store.save_transcript(
            s, store.get_episode(s, eid), transcript([(None, "Une autre entrevue, refaite")]), seconds_taken=1.0
        )

    html = _page(client, f"/editor/episodes/{eid}")
    assert 'id="newer-machine-text"' in html
    assert "(version 2)" in html and "over version 1" in html
    fr = client.get(f"/editor/episodes/{eid}", headers={"Accept-Language": "fr-CA"}).get_data(as_text=True)
    assert "Une transcription automatique plus récente (version 2)" in fr


def _suggest(app, eid: int, position: int, text: str) -> int:  # type: ignore[no-untyped-def]
    """A reader suggests `text` for a passage through the public form; returns the suggestion's id."""
    reader = app.test_client()
    token = csrf_of(_page(reader, f"/episodes/{eid}/suggest?p={position}"))
    done = reader.post(f"/episodes/{eid}/suggest", data={"csrf_token": token, "p": str(position), "text": text})
    assert done.status_code == 200
    with Archive(app.extensions["podarchive"].settings).db.session() as s:
        return max(r.id for r in suggestions.open_suggestions(s, eid))


def test_a_suggestion_made_before_an_editors_correction_never_overwrites_it(site):
    ea, app, client = site
    eid = ea.ids["ep-1"]
    # A reader suggests against the machine text (revision 0)...
    sid = _suggest(app, eid, 2, "Parlons de Natashquan et de Vigneaux")
    # ...then an editor corrects the same passage, three revisions later.
    with Archive(ea.settings).db.session() as s:
        editing.edit_passage(s, eid, 0, 0, None, text="Bonjour Gilles Vigneault merci d'être là")
        editing.edit_passage(s, eid, 2, 1, None, text="Parlons de Natashquan et de Gilles Vigneault")
        editing.edit_passage(s, eid, 1, 2, None, text="Merci beaucoup, c'est un plaisir")
    token = csrf_of(_page(client, "/editor/suggestions"))
    answer = client.post(f"/editor/suggestions/{sid}", data={"csrf_token": token, "action": "apply"})
    # Both texts go back to the editor, and nothing changed.
    assert answer.status_code == 409
    page = answer.get_data(as_text=True)
    for text in ("Parlons de Natashquan et de Vignault", "Vigneaux", "Parlons de Natashquan et de Gilles Vigneault"):
        assert text in page, text
    assert "revision 3" in page
    with Archive(ea.settings).db.session() as s:
        copy = editing.working_copy(s, eid)
        assert copy.number == 3 and copy.snapshot[2].text == "Parlons de Natashquan et de Gilles Vigneault"
        assert [r.id for r in suggestions.open_suggestions(s, eid)] == [sid]
    # Keeping the editor's text dismisses the suggestion; the passage stays.
    keep = client.post(f"/editor/suggestions/{sid}", data={"csrf_token": token, "action": "dismiss", "over": "3"})
    assert keep.status_code == 302
    with Archive(ea.settings).db.session() as s:
        assert editing.working_copy(s, eid).number == 3 and suggestions.open_suggestions(s, eid) == []


def test_choosing_the_readers_text_over_a_correction_applies_it_only_over_that_revision(site):
    ea, app, client = site
    eid = ea.ids["ep-1"]
    sid = _suggest(app, eid, 2, "Parlons de Natashquan et de Vigneaux")
    with Archive(ea.settings).db.session() as s:
        editing.edit_passage(s, eid, 2, 0, None, text="Parlons de Natashquan et de Gilles Vigneault")
    token = csrf_of(_page(client, "/editor/suggestions"))
    assert client.post(f"/editor/suggestions/{sid}", data={"csrf_token": token, "action": "apply"}).status_code == 409
    # Another correction comes in while the editor reads the conflict: choosing over revision 1 is refused again.
    with Archive(ea.settings).db.session() as s:
        editing.edit_passage(s, eid, 2, 1, None, text="Parlons de Natashquan et de Vigneault")
    stale = client.post(f"/editor/suggestions/{sid}", data={"csrf_token": token, "action": "apply", "over": "1"})
    assert stale.status_code == 409 and "revision 2" in stale.get_data(as_text=True)
    with Archive(ea.settings).db.session() as s:
        assert editing.working_copy(s, eid).snapshot[2].text == "Parlons de Natashquan et de Vigneault"
    chosen = client.post(
        f"/editor/suggestions/{sid}", data={"csrf_token": token, "action": "apply", "over": "2"}, follow_redirects=True
    )
    assert chosen.status_code == 200 and "applied as revision 3" in chosen.get_data(as_text=True)
    with Archive(ea.settings).db.session() as s:
        copy = editing.working_copy(s, eid)
        assert copy.number == 3 and copy.snapshot[2].text == "Parlons de Natashquan et de Vigneaux"
        assert suggestions.open_suggestions(s, eid) == []


def test_a_suggestion_on_a_passage_nobody_touched_applies_over_other_corrections(site):
    ea, app, client = site
    eid = ea.ids["ep-1"]
    sid = _suggest(app, eid, 2, "Parlons de Natashquan et de Vigneault")
    with Archive(ea.settings).db.session() as s:
        editing.edit_passage(s, eid, 0, 0, None, text="Bonjour Gilles Vigneault merci d'être là")
    token = csrf_of(_page(client, "/editor/suggestions"))
    done = client.post(f"/editor/suggestions/{sid}", data={"csrf_token": token, "action": "apply"})
    assert done.status_code == 302
    with Archive(ea.settings).db.session() as s:
        copy = editing.working_copy(s, eid)
        assert copy.number == 2
        assert copy.snapshot[0].text == "Bonjour Gilles Vigneault merci d'être là"  # the editor's correction kept
        assert copy.snapshot[2].text == "Parlons de Natashquan et de Vigneault"
