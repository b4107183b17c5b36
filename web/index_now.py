"""Editors' changes applied to the search index at once, and the words that tell them what happened."""

from __future__ import annotations

# The stage module, not the archive.ingest facade: that one also names the transcription executor.
from archive.ingest.indexing import IndexedNow, index_now
from web.context import archive


def apply(episode_ids: list[int], done_words: str) -> str:
    """Index these episodes now (their outbox rows are committed); a sentence saying what happened.

    `done_words` says what readers get when it worked ("now searchable").
    """
    return describe(index_now(archive(), episode_ids), done_words)


def describe(outcome: IndexedNow, done_words: str) -> str:
    """What the editor is told; only what actually happened.

    >>> describe(IndexedNow(1, 0), "now searchable")
    'now searchable'
    >>> describe(IndexedNow(0, 1, "unavailable"), "now searchable")
    'queued: the search index is unavailable, it will catch up'
    >>> describe(IndexedNow(20, 5, "many"), "now searchable")
    '20 episodes now searchable; 5 queued for the next index run'
    """
    if outcome.queued == 0:
        return done_words
    if outcome.reason == "busy":
        return "queued: the search index is busy with another index run, it will catch up"
    if outcome.reason == "many":
        return f"{outcome.done} episodes {done_words}; {outcome.queued} queued for the next index run"
    return "queued: the search index is unavailable, it will catch up"
