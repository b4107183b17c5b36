"""Jinja filters for times and dates."""

from __future__ import annotations

from datetime import datetime

from flask import Flask


def clock(seconds: float | None) -> str:
    """Seconds as M:SS or H:MM:SS.

    >>> clock(75.4)
    '1:15'
    >>> clock(3725)
    '1:02:05'
    """
    if seconds is None:
        return ""
    total = int(seconds)
    h, rest = divmod(total, 3600)
    m, s = divmod(rest, 60)
    return f"{h}:{m:02d}:{s:02d}" if h else f"{m}:{s:02d}"


def day(value: datetime | int | None) -> str:
    """A date as YYYY-MM-DD."""
    if value is None:
        return ""
    if isinstance(value, int):
        value = datetime.fromtimestamp(value)
    return value.strftime("%Y-%m-%d")


def register(app: Flask) -> None:
    """Install the filters."""
    app.jinja_env.filters["clock"] = clock
    app.jinja_env.filters["day"] = day
