"""Publishing reaches readers at once: editors' actions apply to the real search index; the outbox is the fallback."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from archive import store
from archive.context import Archive
from archive.ingest import index_episodes
from archive.store.schema import IndexOutbox
from tests.editor_site import csrf_of, login, make_archive
from tests.loopback import free_port
from web import create_app

CORRECTED = "Parlons de Kamouraska et de Vigneault"


@pytest.fixture
def ea(make_settings):  # type: ignore[no-untyped-def]
    ea = make_archive(make_settings(secret_key="now"))
    # The machine text is in the index, as after an ordinary ingest.
    assert index_episodes(Archive(ea.settings)).done == 2
    return ea


def _editor(settings, email: str = "ed@example.org"):  # type: ignore[no-untyped-def]
    app = create_app(settings)
    app.config["SEARCH_RATE_BURST"] = 1000
    client = app.test_client()
    assert login(client, email=email).status_code == 302
    return client


def _found(client, words: str) -> set[int]:  # type: ignore[no-untyped-def]
    """Episodes the reader's search finds for these words (the JSON API on the real Meilisearch)."""
    body = client.get("/api/search", query_string={"q": words}).get_json()
    return {p["episode"]["id"] for p in body["passages"] if words.split()[-1] in p["html"]}


def _post(client, path: str, data: dict[str, str]) -> str:  # type: ignore[no-untyped-def]
    """Post an editor form with its CSRF token, follow the redirect; returns the page (with its flash)."""
    token = csrf_of(client.get("/editor/").get_data(as_text=True))
    response = client.post(path, data={**data, "csrf_token": token}, follow_redirects=True)
    assert response.status_code == 200, (path, response.status_code)
    return response.get_data(as_text=True)


def _outbox(settings, episode_id: int) -> list[IndexOutbox]:  # type: ignore[no-untyped-def]
    with Archive(settings).db.session() as s:
        return list(s.scalars(select(IndexOutbox).where(IndexOutbox.episode_id == episode_id)))


def test_publish_and_unpublish_reach_the_search_at_once_without_ingest(ea) -> None:  # type: ignore[no-untyped-def]
    eid = ea.ids["ep-1"]
    editor = _editor(ea.settings)
    assert _found(editor, "Natashquan") == {eid} and _found(editor, "Kamouraska") == set()
    _post(editor, f"/editor/episodes/{eid}/passages/2", {"base": "0", "text": CORRECTED})
    # A draft: readers still read (and find) the machine text.
    assert _found(editor, "Kamouraska") == set()
    page = _post(editor, f"/editor/episodes/{eid}/publish", {"base": "1"})
    assert "Published revision 1; now searchable." in page
    assert _found(editor, "Kamouraska") == {eid} and _found(editor, "Natashquan") == set()
    # The outbox row written with the publication was completed, not left for ingest.
    assert _outbox(ea.settings, eid) == []
    page = _post(editor, f"/editor/episodes/{eid}/unpublish", {})
    assert "Unpublished; gone from the search." in page
    assert _found(editor, "Kamouraska") == set() and _found(editor, "Natashquan") == set()
    assert _outbox(ea.settings, eid) == []


def test_the_show_setting_reaches_the_search_at_once(ea) -> None:  # type: ignore[no-untyped-def]
    other = ea.ids["ep-2"]
    admin = _editor(ea.settings, "boss@example.org")
    assert _found(admin, "Québec") == {other}
    page = _post(admin, "/editor/shows/1/publishing", {"publish": "0"})
    assert "Machine transcripts withdrawn; gone from the search." in page
    assert _found(admin, "Québec") == set() and _found(admin, "Natashquan") == set()
    page = _post(admin, "/editor/shows/1/publishing", {"publish": "1"})
    assert "Machine transcripts published; now searchable." in page
    assert _found(admin, "Québec") == {other}


def test_with_meilisearch_down_the_work_stays_queued_and_the_editor_is_told(ea, make_settings) -> None:  # type: ignore[no-untyped-def]
    eid = ea.ids["ep-1"]
    # The same archive, but the site's Meilisearch is a dead port.
    down = make_settings(
        secret_key="now",
        data_dir=ea.settings.data_dir,
        index_prefix=ea.settings.index_prefix,
        meili_url=f"http://127.0.0.1:{free_port()}",
    )
    editor = _editor(down)
    _post(editor, f"/editor/episodes/{eid}/passages/2", {"base": "0", "text": CORRECTED})
    page = _post(editor, f"/editor/episodes/{eid}/publish", {"base": "1"})
    assert "Published revision 1; queued: the search index is unavailable, it will catch up." in page
    assert "now searchable" not in page
    # Published in the database; the index work kept with its error, the index unchanged.
    rows = _outbox(ea.settings, eid)
    assert len(rows) == 1 and rows[0].attempts == 1 and rows[0].last_error
    reader = _editor(ea.settings)
    assert _found(reader, "Kamouraska") == set() and _found(reader, "Natashquan") == {eid}
    # The next index run once the retry is due (the backoff stood in for by clearing it) catches up.
    with Archive(ea.settings).db.session() as s:
        s.get(IndexOutbox, rows[0].id).next_try_at = store.now()
    assert index_episodes(Archive(ea.settings)).done == 1
    assert _found(reader, "Kamouraska") == {eid} and _outbox(ea.settings, eid) == []


def test_find_and_replace_saves_drafts_that_publishing_then_makes_searchable(ea) -> None:  # type: ignore[no-untyped-def]
    eid = ea.ids["ep-1"]
    editor = _editor(ea.settings)
    query = {"find": "Natashquan", "replacement": "Kamouraska", "whole_word": "1", "case_sensitive": "1"}
    preview = editor.get("/editor/replace", query_string=query).get_data(as_text=True)
    assert "Kamouraska" in preview
    page = _post(editor, "/editor/replace", {**query, "expect": f"{eid}:0"})
    # A draft revision: the message says so, and the search still has the published (machine) text.
    assert "Replaced in 1 episodes (one draft revision each); readers and the search see them once" in page
    assert _found(editor, "Kamouraska") == set() and _found(editor, "Natashquan") == {eid}
    assert "now searchable" in _post(editor, f"/editor/episodes/{eid}/publish", {"base": "1"})
    assert _found(editor, "Kamouraska") == {eid} and _found(editor, "Natashquan") == set()


def test_while_an_index_run_holds_the_index_the_publication_waits_in_the_outbox(ea) -> None:  # type: ignore[no-untyped-def]
    from archive.ingest import stage_lock

    eid = ea.ids["ep-1"]
    editor = _editor(ea.settings)
    _post(editor, f"/editor/episodes/{eid}/passages/2", {"base": "0", "text": CORRECTED})
    # A long index run (a reindex, say) holds the stage lock: writing now could be overwritten by it.
    with stage_lock(Archive(ea.settings), "index") as held:
        assert held
        page = _post(editor, f"/editor/episodes/{eid}/publish", {"base": "1"})
    assert "queued: the search index is busy with another index run, it will catch up" in page
    assert len(_outbox(ea.settings, eid)) == 1 and _found(editor, "Kamouraska") == set()
    assert index_episodes(Archive(ea.settings)).done == 1
    assert _found(editor, "Kamouraska") == {eid}
