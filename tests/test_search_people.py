"""Guests in the episode index: a name credited by the feed or named on the public text finds the episode."""

from __future__ import annotations

import os
from datetime import timedelta
from pathlib import Path

import pytest
from alembic import command
from sqlalchemy import select

from archive import public, store
from archive.context import Archive
from archive.editorial import workflow as editing
from archive.ingest import index_episodes, poll_feeds
from archive.search import Filters
from archive.store.database import _alembic_config
from tests.web_corpus import feed_xml, transcript
from web import create_app

GUESTS = {
    "g1": '<podcast:person role="host">Marie Tremblay</podcast:person>'
    '<podcast:person role="guest" href="https://example.org/dany">Dany Laferrière</podcast:person>'
    '<podcast:person role="guest">Zoé &lt;img src=x onerror=alert(1)&gt;</podcast:person>',
    "g2": '<podcast:person role="guest">Kim Thúy</podcast:person>',
}


def _items(guests: dict[str, str]) -> list[dict[str, str]]:
    return [
        {
            "guid": "g1",
            "title": "Écrire en exil",
            "description": "Une conversation sur le roman.",
            "extra": guests["g1"],
        },
        {"guid": "g2", "title": "La mémoire des lieux", "description": "Sur la ville.", "extra": guests["g2"]},
        {"guid": "g3", "title": "Bande-annonce", "description": "Bientôt."},
    ]


def _publish_feed(path: Path, guests: dict[str, str]) -> None:
    before = path.stat().st_mtime if path.exists() else 0.0
    path.write_bytes(feed_xml(_items(guests)))
    # The loopback server answers If-Modified-Since by mtime in whole seconds: move it a minute on.
    later = max(before, path.stat().st_mtime) + 60
    os.utime(path, (later, later))


def _queued(archive: Archive) -> dict[int, list[str]]:
    with archive.db.session() as s:
        return {eid: [r.op for r in rows] for eid, rows in store.pending_index_work(s, store.now()).items()}


def _found(archive: Archive, query: str, **filters: str) -> list[str]:
    return [h.title for h in archive.search.search_episodes(query, filters=Filters(**filters) if filters else None)]


@pytest.fixture
def show(make_settings, http_root):
    """The feed polled over HTTP, machine transcripts that never say the guests' names, the index stage run."""
    root, base = http_root
    archive = Archive(make_settings())
    _publish_feed(root / "feed.xml", GUESTS)
    with archive.db.session() as s:
        store.add_feed(s, f"{base}/feed.xml", "fr")
    assert poll_feeds(archive).done == 1
    ids: dict[str, int] = {}
    with archive.db.session() as s:
        for episode in s.scalars(select(store.Episode)):
            ids[episode.guid] = episode.id
            if episode.guid != "g3":
                texts = [("Marie Tremblay", "bonjour et bienvenue"), (None, "on parle de littérature et d'exil")]
                store.save_transcript(s, episode, transcript(texts), seconds_taken=1.0)
    assert index_episodes(archive).done == 2
    return archive, ids, root / "feed.xml"


def test_guest_found_by_name_with_a_typo_and_without_accents(show):
    archive, ids, _ = show
    with archive.db.session() as s:
        entry = public.episode_entry(s, ids["g1"])
    # Credits in feed order, then speakers of the public text; the host named twice appears once.
    assert entry is not None and entry.guests == (
        "Marie Tremblay",
        "Dany Laferrière",
        "Zoé <img src=x onerror=alert(1)>",
    )
    for query in ("Dany Laferrière", "dany laferriere", "dany lafferiere", "laferiere", "DANY LAFERRIÈRE"):
        assert _found(archive, query) == ["Écrire en exil"], query
    assert _found(archive, "kim thuy") == ["La mémoire des lieux"]
    # The name was never said: passages do not have it, the episode index does.
    assert archive.search.search("laferriere").hits == []
    # A speaker filter narrows the episode list to the episodes with that person.
    assert _found(archive, "exil", speaker="Dany Laferrière") == ["Écrire en exil"]
    assert _found(archive, "exil", speaker="Kim Thúy") == []
    hit = archive.search.search_episodes("zoe")[0]
    assert hit.guests_html[2] == "<mark>Zoé</mark> &lt;img src=x onerror=alert(1)&gt;"


def test_search_page_and_api_list_matching_episodes(show):
    archive, ids, _ = show
    app = create_app(archive.settings)
    app.config["SEARCH_RATE_BURST"] = 1000
    client = app.test_client()

    html = client.get("/search?q=dany+laferiere").get_data(as_text=True)
    assert html.count('class="episode-hit"') == 1
    assert f'href="/episodes/{ids["g1"]}"' in html
    # Meilisearch marks as much of a word as the (typed) query matched.
    assert "<mark>Dany</mark> <mark>Laferrièr</mark>e" in html
    assert "No passage of a transcript matches" in html and "Nothing found" not in html
    html = client.get("/search?q=zoe").get_data(as_text=True)
    assert "<mark>Zoé</mark> &lt;img src=x onerror=alert(1)&gt;" in html and "<img" not in html
    # Passages and episodes side by side; the passage results, facets and counts are as before.
    html = client.get("/search?q=litterature").get_data(as_text=True)
    assert html.count('class="hit"') == 2 and "2 interviews" in html and 'class="episode-hit"' not in html
    html = client.get("/search?q=exil").get_data(as_text=True)
    assert html.count('class="episode-hit"') == 1 and html.count('class="hit"') == 2
    # Only for the first page of results over every interview.
    assert 'class="episode-hit"' not in client.get(f"/search?q=exil&episode={ids['g1']}").get_data(as_text=True)
    assert 'class="episode-hit"' not in client.get("/search?q=exil&page=2").get_data(as_text=True)
    assert "Épisodes" in client.get("/search?q=exil", headers={"Accept-Language": "fr-CA"}).get_data(as_text=True)

    body = client.get("/api/search?q=dany+laferiere").get_json()
    assert body["passages"] == [] and body["total"] == 0
    [episode] = body["episodes"]
    assert episode["id"] == ids["g1"] and episode["url"] == f"/episodes/{ids['g1']}"
    assert episode["guests"] == ["Marie Tremblay", "Dany Laferrière", "Zoé <img src=x onerror=alert(1)>"]
    assert "<mark>Dany</mark>" in episode["html"]["guests"][1] and episode["show"] == "Le balado du magazine"
    assert client.get("/api/search?q=exil&page=2").get_json()["episodes"] == []


def test_changed_credit_requeues_and_updates_the_document(show):
    archive, ids, feed_file = show
    assert _queued(archive) == {}
    _publish_feed(feed_file, {**GUESTS, "g2": '<podcast:person role="guest">Michel Rabagliati</podcast:person>'})
    with archive.db.session() as s:
        store.poll_soon(s)
    assert poll_feeds(archive).done == 1
    assert _queued(archive) == {ids["g2"]: ["upsert"]}
    assert index_episodes(archive).done == 1
    assert _found(archive, "rabagliati") == ["La mémoire des lieux"]
    assert _found(archive, "kim thuy") == []


def test_speaker_named_by_an_editor_is_a_guest_once_published_only(show):
    archive, ids, _ = show
    eid = ids["g2"]
    with archive.db.session() as s:
        editing.edit_passage(s, eid, 1, 0, None, speaker="Gabrielle Roy")
    # A draft: nothing queued, nothing public.
    assert _queued(archive) == {}
    index_episodes(archive)
    assert _found(archive, "gabrielle roy") == []

    with archive.db.session() as s:
        editing.publish(s, eid, None)
    assert _queued(archive) == {eid: ["upsert"]}
    assert index_episodes(archive).done == 1
    assert _found(archive, "gabrielle roy") == ["La mémoire des lieux"]

    with archive.db.session() as s:
        editing.unpublish(s, eid, None)
    index_episodes(archive)
    assert _found(archive, "gabrielle roy") == []
    assert _found(archive, "kim thuy") == ["La mémoire des lieux"]  # the feed's credit stays


def test_show_not_publishing_keeps_machine_speakers_out(show):
    archive, ids, _ = show
    with archive.db.session() as s:
        episode = s.get(store.Episode, ids["g1"])
        feed = episode.feed
        episode.people = []  # only the transcript's speaker is left to name anyone
        store.set_feed_publishing(s, feed.id, False)
        assert public.episode_entry(s, ids["g1"]).guests == ()
        store.set_feed_publishing(s, feed.id, True)
        assert public.episode_entry(s, ids["g1"]).guests == ("Marie Tremblay",)


def test_migration_queues_indexed_episodes_for_their_guests(show):
    archive, ids, _ = show
    with archive.db.engine.begin() as conn:
        cfg = _alembic_config()
        cfg.attributes["connection"] = conn
        command.downgrade(cfg, "0008")
        command.upgrade(cfg, "head")
    with archive.db.session() as s:
        due = store.pending_index_work(s, store.now() + timedelta(seconds=1))
    # g3 has neither a transcript nor credits: it was never indexed.
    assert {eid: [r.op for r in rows] for eid, rows in due.items()} == {ids["g1"]: ["upsert"], ids["g2"]: ["upsert"]}
    assert index_episodes(archive).done == 2
