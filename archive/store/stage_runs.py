"""Stage-run records: when each stage of an ingest started and ended, and what it did."""

from __future__ import annotations

from sqlalchemy.orm import Session

from archive.store.schema import StageRun, utcnow


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
