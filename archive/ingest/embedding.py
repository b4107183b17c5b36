"""The embed stage: vectors for the passages readers may see, computed once per text and model, kept in the database.

It runs between transcribe and index. The work is derived, not queued: every episode
whose public text has no vector state for it and the current model (a new transcript, a
published edit, another model) is looked at, so nothing can be lost. Vectors already
kept for a text are reused, the missing ones are embedded in batches and committed batch
by batch; when new vectors are kept, index work is queued in the same transaction, so the
index stage (through the outbox) puts them into Meilisearch, now or after an outage. A
model that is missing or fails leaves the passages counted as waiting, with the error,
and the index keeps serving them by their words.
"""

from __future__ import annotations

import logging

import numpy as np

from archive import public, store
from archive.context import Archive
from archive.ingest.stage import StageReport
from archive.search import Embedder, EmbedderUnavailable
from archive.search.embedder import BATCH

log = logging.getLogger("podarchive.embedding")


def embed_passages(archive: Archive, limit: int | None = None) -> StageReport:
    """Embed the public passages that have no vector for the current model; returns what was done."""
    report = StageReport("embed")
    embedder = archive.embedder
    if embedder is None:
        report.skipped = "search by meaning is off (PODARCHIVE_EMBEDDER=none)"
        return report
    model_id = embedder.model_id
    with archive.db.session() as s:
        work = store.episodes_needing_vectors(s, public.visible_texts(), model_id, store.now(), limit)
    # Set once the model cannot load: the rest of the run only counts what waits.
    unavailable: str | None = None
    embedded = 0
    for item in work:
        if archive.out_of_time():
            report.notes.append("time limit reached")
            break
        with archive.db.session() as s:
            keys = public.vector_keys(public.public_passages(s, item.episode_id), model_id)
            kept = store.stored_vectors(s, [key for key, _ in keys])
        missing = list(dict.fromkeys((key, text) for key, text in keys if key not in kept))
        if missing and unavailable is None:
            try:
                embedder.load()
            except EmbedderUnavailable as exc:
                unavailable = str(exc)
                report.notes.append(f"model unavailable: {exc}")
                log.warning("embed: model unavailable: %s", exc)
        if missing and unavailable is not None:
            _record(archive, item, model_id, len(keys), len(missing), unavailable)
            report.failed += 1
            continue
        try:
            embedded += _embed(archive, embedder, item, missing)
        except EmbedderUnavailable as exc:
            # This episode's text made the engine fail: the others go on.
            log.warning("embed failed episode=%s error=%s", item.episode_id, exc)
            with archive.db.session() as s:
                left = len(set(k for k, _ in keys) - set(store.stored_vectors(s, [k for k, _ in keys])))
            _record(archive, item, model_id, len(keys), left, str(exc))
            report.failed += 1
            continue
        _record(archive, item, model_id, len(keys), 0, None)
        report.done += 1
    if embedded:
        report.notes.append(f"{embedded} passages embedded")
    return report


def _embed(archive: Archive, embedder: Embedder, item: store.VectorWork, missing: list[tuple[str, str]]) -> int:
    """Embed and keep the missing vectors batch by batch, each batch committed with index work
    for the episode in its first and last transaction (an index run in between then sees some)."""
    starts = range(0, len(missing), BATCH)
    for i in starts:
        batch = missing[i : i + BATCH]
        rows = embedder.embed_passages([text for _, text in batch])
        vectors = {key: np.asarray(row, dtype="<f4").tobytes() for (key, _), row in zip(batch, rows, strict=True)}
        with archive.db.session() as s:
            # Committed per batch: an interrupted run keeps what it computed.
            store.save_vectors(s, embedder.model_id, embedder.dimensions, vectors)
            if i in (starts[0], starts[-1]):
                store.queue_episode(s, item.episode_id)
    return len(missing)


def _record(
    archive: Archive, item: store.VectorWork, model_id: str, passages: int, missing: int, error: str | None
) -> None:
    with archive.db.session() as s:
        store.record_episode_vectors(s, item, model_id, passages, missing, error, store.now())
