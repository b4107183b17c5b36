"""French-aware passage index, checked against the real Meilisearch 1.21."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

import pytest

from archive.search import Filters, Passage, SearchIndex
from archive.search.server import Endpoint

TEXTS = [
    "l'accident a eu lieu en terrain montagneux",
    "nous sommes d’accord avec la déclaration de l’usoc comité olympique des états-unis",
    "au sein de notre organisation qu'à la révocation d'accréditation",
    "c'est-à-dire qu’il faudra peut-être revoir le cœur du problème",
    "un avion de ligne a heurté un mur tuant ainsi dix-sept personnes",
    "j'aime la ville, s'il vous plaît n'importe quand, 42 personnes",
    "l'usine de Laval ferme ses portes",
    "il a pris son char pour aller au dépanneur",
]


@pytest.fixture(scope="module")
def index(meili: Endpoint) -> SearchIndex:
    idx = SearchIndex(meili, f"fr{uuid.uuid4().hex[:10]}")
    when = datetime(2024, 5, 1, tzinfo=UTC)
    for n, text in enumerate(TEXTS):
        passage = Passage(
            episode_id=n + 1,
            feed_id=1,
            position=0,
            start=0.0,
            end=5.0,
            text=text,
            speaker=None,
            language="fr",
            published=when,
            episode_title=f"Épisode {n}",
            feed_title="Le Magazine",
        )
        idx.replace_episode(n + 1, [passage])
    return idx


def top(index: SearchIndex, query: str, n: int = 1) -> list[str]:
    return [TEXTS[h.episode_id - 1] for h in index.search(query, limit=n).hits]


@pytest.mark.parametrize(
    "query, expected",
    [
        ("accident", 0),
        ("l'accident", 0),
        ("l’accident", 0),
        ("L’ACCIDENT", 0),
        ("accord", 1),
        ("d'accord", 1),
        ("usoc", 1),
        ("etats unis", 1),
        ("etats-unis", 1),
        ("états-unis", 1),
        ("etats", 1),
        ("revocation", 2),
        ("accreditation", 2),
        ("qu’à la révocation", 2),
        ("peut-etre", 3),
        ("peut etre", 3),
        ("c'est-à-dire", 3),
        ("c’est a dire", 3),
        ("coeur", 3),
        ("cœur", 3),
        ("dix-sept", 4),
        ("17 personnes", 4),
        ("dix sept personnes", 4),
        ("quarante-deux", 5),
        ("42", 5),
        ("n’importe", 5),
        ("s'il vous plait", 5),
        ("j’aime", 5),
        ("montagenux", 0),
        ("montagnuex", 0),
        ("organisatoin", 2),
        ("declaraton", 1),
        ("accreditaton", 2),
        ("voiture", 7),
        ("depanneur", 7),
    ],
)
def test_french_query_finds_passage_first(index: SearchIndex, query: str, expected: int) -> None:
    assert top(index, query) == [TEXTS[expected]]


def test_elided_article_alone_does_not_widen_results(index: SearchIndex) -> None:
    # Without "l" as a stop word, "l'accident" also matched every passage with "l'".
    assert top(index, "l'accident", 10) == [TEXTS[0]]
    assert top(index, "l’usine", 10) == [TEXTS[6]]


def test_highlight_marks_word_after_elision(index: SearchIndex) -> None:
    hit = index.search("l’accident").hits[0]
    assert "l&#x27;<mark>accident</mark>" in hit.html


def test_filters_facets_and_distinct(index: SearchIndex) -> None:
    page = index.search("personnes", filters=Filters(year=2024, language="fr", show="Le Magazine"), facets=True)
    assert page.total == 2
    assert page.facets["show"] == {"Le Magazine": 2}
    assert page.facets["year"] == {"2024": 2}
    assert index.search("personnes", filters=Filters(year=2023)).total == 0
    assert index.search("personnes", filters=Filters(show='x" OR year = 2024')).total == 0
    assert index.search("personnes", filters=Filters(episode_id=5)).hits[0].episode_id == 5
