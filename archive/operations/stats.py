"""Figures for the admin page: audio per month, transcription speed, backlog, failures per feed."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from archive.store.schema import AudioFile, Episode, Feed, Transcript


@dataclass(frozen=True)
class Series:
    """Labelled values for one chart."""

    labels: list[str]
    values: list[float]


def episodes_per_month(session: Session) -> tuple[Series, Series]:
    """Episodes and hours of audio per month of publication."""
    counts: dict[str, int] = defaultdict(int)
    hours: dict[str, float] = defaultdict(float)
    rows = session.execute(
        select(Episode.published_at, func.coalesce(AudioFile.duration, Episode.declared_duration))
        .outerjoin(AudioFile)
        .where(Episode.published_at.is_not(None))
    )
    for published, duration in rows:
        month = f"{published:%Y-%m}"
        counts[month] += 1
        hours[month] += (duration or 0) / 3600
    months = sorted(counts)
    return Series(months, [counts[m] for m in months]), Series(months, [round(hours[m], 2) for m in months])


def transcription_speed(session: Session) -> Series:
    """Average speed (x real time) of transcriptions made each day."""
    audio: dict[str, float] = defaultdict(float)
    taken: dict[str, float] = defaultdict(float)
    rows = session.execute(
        select(Transcript.created_at, Transcript.duration, Transcript.seconds_taken).where(Transcript.seconds_taken > 0)
    )
    for created, duration, seconds in rows:
        day = f"{created:%Y-%m-%d}"
        audio[day] += duration
        taken[day] += seconds or 0.0
    days = sorted(audio)
    return Series(days, [round(audio[d] / taken[d], 1) for d in days])


def failures_per_feed(session: Session) -> Series:
    """Episodes with a stored error, per feed (feeds with none left out)."""
    rows = session.execute(
        select(Feed.title, Feed.url, func.count(Episode.id))
        .join(Episode)
        .where(Episode.last_error.is_not(None))
        .group_by(Feed.id, Feed.title, Feed.url)
        .order_by(func.count(Episode.id).desc())
    )
    labels, values = [], []
    for title, url, n in rows:
        labels.append(title or url)
        values.append(float(n))
    return Series(labels, values)
