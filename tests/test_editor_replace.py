"""Archive-wide find and replace: the preview is exactly what is applied, one revision per episode."""

from __future__ import annotations

import re

import pytest
from hypothesis import HealthCheck, given
from hypothesis import settings as hsettings
from hypothesis import strategies as st

from archive.context import Archive
from archive.editorial import find_replace, revisions
from archive.editorial import workflow as editing
from archive.editorial.revisions import PassageSnap, WordSnap
from archive.editorial.workflow import EditConflict
from tests.editor_site import csrf_of, login, make_archive
from web import create_app


@pytest.fixture
def ea(make_settings):
    return make_archive(make_settings(secret_key="k"))


def _snapshots(archive, ids):
    with archive.db.session() as s:
        return {eid: editing.working_copy(s, eid) for eid in ids}


def test_preview_is_what_apply_saves(ea):
    archive = Archive(ea.settings)
    ids = sorted(ea.ids.values())
    query = find_replace.Query("Vignault", "Vigneault")
    with archive.db.session() as s:
        editing.edit_passage(s, ids[0], 1, 0, None, text="Merci Vignault, c'est un plaisir")
    with archive.db.session() as s:
        plans = find_replace.preview(s, query)
    before = _snapshots(archive, ids)
    assert {p.episode_id: p.base for p in plans} == {ids[0]: 1, ids[1]: 0}
    assert sum(len(p.changes) for p in plans) == 4  # passages 0, 1, 2 of the first, 0 of the second
    with archive.db.session() as s:
        saved = find_replace.apply(s, query, {p.episode_id: p.base for p in plans}, None)
    assert sorted(r.episode_id for r in saved) == ids  # one revision per episode
    after = _snapshots(archive, ids)
    for plan in plans:
        assert after[plan.episode_id].snapshot == plan.snapshot
        assert revisions.diff(before[plan.episode_id].snapshot, after[plan.episode_id].snapshot) == plan.changes
        assert after[plan.episode_id].number == plan.base + 1
    # Nothing matches any more; the new name is not touched by a second run.
    with archive.db.session() as s:
        assert find_replace.preview(s, query) == []


def test_apply_refuses_when_the_archive_moved_since_the_preview(ea):
    archive, eid = Archive(ea.settings), ea.ids["ep-1"]
    query = find_replace.Query("Vignault", "Vigneault")
    with archive.db.session() as s:
        expected = {p.episode_id: p.base for p in find_replace.preview(s, query)}
    with archive.db.session() as s:
        editing.edit_passage(s, eid, 1, 0, None, text="Merci beaucoup")
    with archive.db.session() as s, pytest.raises(EditConflict):
        find_replace.apply(s, query, expected, None)
    with archive.db.session() as s:
        assert editing.working_copy(s, ea.ids["ep-2"]).number == 0  # all or nothing


def test_whole_words_and_case(ea):
    snap = (PassageSnap(0, 0, 1, "Gilles Vignault, vignault et Vignaultisme", None),)

    def run(**kw):
        return find_replace.replace_in(snap, find_replace.Query("Vignault", "Vigneault", **kw))[0].text

    assert run() == "Gilles Vigneault, vignault et Vignaultisme"
    assert run(case_sensitive=False) == "Gilles Vigneault, Vigneault et Vignaultisme"
    assert run(whole_word=False) == "Gilles Vigneault, vignault et Vigneaultisme"
    # The find text is literal and the replacement is not a template.
    odd = (PassageSnap(0, 0, 1, "a.b a+b", None),)
    assert find_replace.replace_in(odd, find_replace.Query("a.b", r"\1 $0", whole_word=False))[0].text == r"\1 $0 a+b"


words = st.sampled_from(["le", "chat", "Vignault", "vignault", "noir", "Québec", "é", "x"])


@hsettings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    texts=st.lists(st.lists(words, min_size=1, max_size=8), min_size=1, max_size=4),
    find=words,
    replacement=st.sampled_from(["Vigneault", "", "deux mots", "chat"]),
    whole=st.booleans(),
    case=st.booleans(),
)
def test_replacement_matches_a_plain_regex_and_keeps_unchanged_word_times(texts, find, replacement, whole, case):
    snap = tuple(
        PassageSnap(
            i,
            i * 10.0,
            i * 10.0 + 10,
            " ".join(t),
            None,
            tuple(WordSnap(i * 10.0 + j, i * 10.0 + j + 1, w, 0.9) for j, w in enumerate(t)),
        )
        for i, t in enumerate(texts)
    )
    query = find_replace.Query(find, replacement, whole_word=whole, case_sensitive=case)
    out = find_replace.replace_in(snap, query)
    for old, new in zip(snap, out, strict=False):
        body = re.escape(find) if not whole else rf"(?<!\w){re.escape(find)}(?!\w)"
        expected = " ".join(re.sub(body, lambda m: replacement, old.text, flags=0 if case else re.I).split())
        assert new.text == expected
        assert [w.text for w in new.words] == new.text.split()
        assert all(old.start <= w.start <= w.end <= old.end for w in new.words)
        if new.text == old.text:
            assert new.words == old.words


def test_replace_pages_preview_then_apply(ea):
    app = create_app(ea.settings)
    client = app.test_client()
    login(client)
    page = client.get("/editor/replace?find=Vignault&replacement=Vigneault&whole_word=1&case_sensitive=1")
    html = page.get_data(as_text=True)
    assert "2 episodes would change" in html.replace("\n", " ") or html.count('class="plan"') == 2
    expects = re.findall(r'name="expect" value="([^"]+)"', html)
    data = {
        "csrf_token": csrf_of(html),
        "find": "Vignault",
        "replacement": "Vigneault",
        "whole_word": "1",
        "case_sensitive": "1",
        "expect": expects,
    }
    assert client.post("/editor/replace", data=data).status_code == 302
    with Archive(ea.settings).db.session() as s:
        assert all(editing.working_copy(s, eid).number == 1 for eid in ea.ids.values())
    # The same form again is stale: nothing more is saved.
    again = client.post("/editor/replace", data=data)
    assert again.status_code == 302 and "/editor/replace" in again.headers["Location"]
    with Archive(ea.settings).db.session() as s:
        assert all(editing.working_copy(s, eid).number == 1 for eid in ea.ids.values())
