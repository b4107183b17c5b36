"""Relevance on real French and English text: each query's expected passage in the top 10.

Corpus: FLEURS reference sentences (tests/data/audio) and show-note sentences of a
French serial and an English interview podcast (tests/data/feeds). Prints recall@1
and recall@10 (`pytest -s` to see them).
"""

from __future__ import annotations

import uuid

import pytest

from archive.search import Passage, SearchIndex
from archive.search.server import Endpoint
from tests.search_corpus import english_corpus, french_corpus

# (kind, query, a substring only the expected passage(s) contain)
QUERIES = [
    # missing accents
    ("accents", "etats unis", "états-unis selon"),
    ("accents", "revocation d'accreditation", "révocation d'accréditation"),
    ("accents", "reconfigurateur moleculaire", "reconfigurateur moléculaire"),
    ("accents", "autodestruction du batiment", "autodestruction du bâtiment"),
    ("accents", "episodes glaciaires mediterranee", "épisodes glaciaires"),
    ("accents", "developpement responsabilite", "développement leur responsabilité"),
    ("accents", "hotesse de l'air", "Hôtesse de l’air"),
    ("accents", "comite olympique", "comité olympique"),
    ("accents", "hospitalite du milliardaire", "hospitalité"),
    # one typo, two typos
    ("typos", "rugissment du tigre", "le rugissement du tigre"),
    ("typos", "grondemnets", "grondements"),
    ("typos", "mashad", "mashhad"),
    ("typos", "incendie malveilant", "malveillant"),
    ("typos", "intelligance artificielle", "intelligence artificielle"),
    ("typos", "tranquilite bureaucratique", "tranquillité bureaucratique"),
    ("typos", "effet placbo", "effet placebo"),
    ("typos", "recnofiguratuer", "reconfigurateur"),
    ("typos", "acreditaton", "accréditation"),
    # elisions, both apostrophes
    ("elisions", "l'accident", "l'accident a eu lieu"),
    ("elisions", "l’accident", "l'accident a eu lieu"),
    ("elisions", "s'evader", "s'évader"),
    ("elisions", "s’évader", "s'évader"),
    ("elisions", "qu’ils etaient victimes", "victimes d'un effet placebo"),
    ("elisions", "d’assumer des obligations", "d’assumer des obligations"),
    ("elisions", "qu'on ne devrait", "on ne devrait cependant"),
    ("elisions", "n’ont aucun moyen", "n'ont aucun moyen"),
    # hyphens
    ("hyphens", "seront ils a la hauteur", "Seront-ils à la hauteur"),
    ("hyphens", "serait-il a l'origine", "ne serait-il pas"),
    ("hyphens", "sound design", "sound-design"),
    ("hyphens", "jean gabriel", "Jean-Gabriel"),
    # numbers
    ("numbers", "17 personnes", "dix-sept personnes"),
    ("numbers", "dix sept personnes", "dix-sept personnes"),
    ("numbers", "couchera 2 fois", "couchera deux fois"),
    # two-word phrases
    ("phrases", "accident montagneux", "l'accident a eu lieu"),
    ("phrases", "faisceaux quantiques", "faisceaux quantiques"),
    ("phrases", "jumeaux russes", "jumeaux à la botte"),
    ("phrases", "base Kourou", "Kourou"),
    ("phrases", "coeur net", "cœur net"),
    # English
    ("english", "communication channels", "slow communication channels"),
    ("english", "capital leter", "capital letter"),
    ("english", "sintra byron", "town of sintra"),
    ("english", "resilient systms", "how to build resilient systems"),
    ("english", "thirty year", "25 to 30 year"),
    ("english", "transcontinental railroad", "Transcontinental Railroad"),
    ("english", "building green software", "chapter one in Building Green Software"),
    ("english", "six month release cadence", "six-month release cadence"),
    ("english", "software’s interaction", "software’s interaction with itself"),
    ("english", "generative ai architects", "software architects will not be replaced"),
]


@pytest.fixture(scope="module")
def corpus(meili: Endpoint) -> tuple[SearchIndex, list[str]]:
    texts = french_corpus() + english_corpus()
    index = SearchIndex(meili, f"rel{uuid.uuid4().hex[:10]}")
    n_fr = len(french_corpus())
    passages = [
        Passage(i + 1, 1, 0, 0.0, 5.0, t, None, "fr" if i < n_fr else "en", None, f"e{i}", "show")
        for i, t in enumerate(texts)
    ]
    index.rebuild(([p], None) for p in passages)
    return index, texts


def test_every_expected_passage_in_top_10(corpus: tuple[SearchIndex, list[str]]) -> None:
    index, texts = corpus
    ranks: dict[str, int | None] = {}
    for _, query, expected in QUERIES:
        assert any(expected in t for t in texts), expected  # the query set matches the corpus
        hits = index.search(query, limit=10).hits
        found = [n for n, h in enumerate(hits) if expected in texts[h.episode_id - 1]]
        ranks[query] = found[0] + 1 if found else None
    r1 = sum(1 for r in ranks.values() if r == 1) / len(ranks)
    r10 = sum(1 for r in ranks.values() if r is not None) / len(ranks)
    print(f"\nrelevance: {len(ranks)} queries over {len(texts)} passages: recall@1={r1:.3f} recall@10={r10:.3f}")
    for kind in dict.fromkeys(k for k, _, _ in QUERIES):
        qs = [q for k, q, _ in QUERIES if k == kind]
        print(f"  {kind:9} recall@1={sum(ranks[q] == 1 for q in qs) / len(qs):.2f} ({len(qs)} queries)")
    print("  not first:", {q: r for q, r in ranks.items() if r != 1})
    assert [q for q, r in ranks.items() if r is None] == []
    assert r1 >= 0.8
