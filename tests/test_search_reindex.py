"""`podarchive reindex` and `podarchive search`: a fresh index swapped in while searches go on."""

from __future__ import annotations

import threading

from archive import store
from archive.context import Archive
from archive.ingest import index_episodes, reindex_all
from tests.conftest import run_cli
from tests.search_corpus import add_show, french_corpus


def test_reindex_swaps_while_searches_keep_answering(make_settings):
    settings = make_settings()
    archive = Archive(settings)
    corpus = french_corpus()
    # Many small episodes so the rebuild takes a while and the searcher overlaps it.
    ids = add_show(archive, "Le Magazine", {f"Épisode {i}": corpus[i::40] for i in range(40)})
    assert index_episodes(archive).done == 40
    before = archive.search.document_count()
    assert before == sum(len(corpus[i::40]) for i in range(40))
    # The index drifts from the database (lost documents): reindex must repair it.
    archive.search.client.index(archive.search.passages_uid).delete_document(f"e{ids['Épisode 0']}-0")

    totals: list[int] = []
    errors: list[Exception] = []
    stop = threading.Event()

    def searcher() -> None:
        reader = Archive(settings).search
        while not stop.is_set() and len(totals) < 10_000:
            try:
                totals.append(reader.search("tigre rugissement").total)
            except Exception as exc:  # any failure while swapping is the bug we look for
                errors.append(exc)

    thread = threading.Thread(target=searcher)
    thread.start()
    try:
        added = reindex_all(archive)
    finally:
        stop.set()
        thread.join(timeout=30)

    assert not errors
    assert totals and all(t >= 1 for t in totals)
    assert added == before == archive.search.document_count()
    with archive.db.session() as s:
        assert store.outbox_size(s) == 0
    # The temporary indexes are gone after the swap.
    uids = {i.uid for i in archive.search.client.get_indexes({"limit": 1000})["results"]}
    assert f"{archive.search.passages_uid}-next" not in uids
    assert archive.search.search_episodes("episode 7")[0].title == "Épisode 7"


def test_cli_search_and_reindex(make_settings):
    settings = make_settings()
    archive = Archive(settings)
    add_show(archive, "Le Magazine", {"Tigres": ["le rugissement du tigre <b>&</b> du lion"]}, year=2023)
    add_show(archive, "Other Show", {"Lions": ["le lion rugit"]}, language="en", year=2025)

    result = run_cli(settings, "reindex")
    assert result.returncode == 0, result.stderr
    assert "reindexed 2 passages" in result.stdout

    result = run_cli(settings, "search", "rugissement tigre")
    assert result.returncode == 0, result.stderr
    # Unescaped for the terminal, matched words in brackets.
    assert "[rugissement] du [tigre] <b>&</b>" in result.stdout
    assert "&lt;" not in result.stdout and "&amp;" not in result.stdout

    assert "1 passages" in run_cli(settings, "search", "lion", "--year", "2025").stdout
    assert "1 passages" in run_cli(settings, "search", "lion", "--show", "Le Magazine").stdout
    assert "0 passages" in run_cli(settings, "search", "lion", "--speaker", "Nobody").stdout
