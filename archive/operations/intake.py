"""New work for ingest from editors and their assistants: a feed to watch, an episode to try again now."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from archive import store
from archive.context import Archive
from archive.operations import shows
from archive.operations.shows import _LANGUAGE
from archive.store.schema import Transcript


class IntakeError(Exception):
    """A feed address or language that cannot be watched, or no such episode."""


@dataclass(frozen=True)
class Queued:
    """What the next `podarchive ingest` will do with an episode: "download", "transcribe" or nothing."""

    episode_id: int
    stage: str | None
    note: str


def watch_feed(archive: Archive, session: Session, url: str, language: str | None = None) -> tuple[int, bool]:
    """Watch a feed from the next poll on: (its feed id, whether it was new). Known feeds are left as they are.

    The address gets the checks of `podarchive feeds add` (archive.operations.shows).
    """
    lang = (language or "").strip().lower() or None
    if lang is not None and not _LANGUAGE.fullmatch(lang):
        raise IntakeError(f"not a language code such as fr or en: {lang!r}")
    try:
        return shows.watch_show(archive, session, url, lang)
    except shows.FeedURLError as exc:
        raise IntakeError(str(exc)) from exc


def queue_episode(session: Session, episode_id: int) -> Queued:
    """Forget an episode's failures and backoff so the next ingest run downloads or transcribes it."""
    episode = store.get_episode(session, episode_id)
    if episode is None:
        raise IntakeError(f"no episode {episode_id}")
    if session.scalar(select(Transcript.id).where(Transcript.episode_id == episode_id).limit(1)) is not None:
        return Queued(episode_id, None, "already transcribed; editors correct it in the editor area")
    if episode.audio is None and not episode.enclosure_url:
        return Queued(episode_id, None, "the feed gives this episode no audio file")
    store.clear_episode_error(episode)
    session.flush()
    stage = "transcribe" if episode.audio is not None else "download"
    return Queued(episode_id, stage, f"queued: the next ingest run will {stage} it")
