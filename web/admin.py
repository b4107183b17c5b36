"""Admin page: operating figures as server-side SVG plots (no JavaScript needed)."""

from __future__ import annotations

from flask import Blueprint, render_template

from archive.operations import stats
from archive.operations import status as health
from web.auth import admin_required
from web.charts import bar_chart
from web.context import archive

bp = Blueprint("admin", __name__, url_prefix="/admin")


@bp.get("/")
@admin_required
def overview():  # type: ignore[no-untyped-def]
    """Episodes and hours per month, transcription speed, backlog, failures per feed."""
    with archive().db.session() as s:
        st = health.status(s)
        episodes, hours = stats.episodes_per_month(s)
        speed = stats.transcription_speed(s)
        failures = stats.failures_per_feed(s)
    backlog = stats.Series(
        ["download", "transcribe", "index ops", "failing"],
        [st.awaiting_download, st.awaiting_transcript, st.index_ops_queued, st.episodes_failing],
    )
    charts = [
        ("Episodes per month", bar_chart("Episodes per month", episodes.labels, episodes.values)),
        ("Hours of audio per month", bar_chart("Hours of audio per month", hours.labels, hours.values, " h")),
        ("Transcription speed", bar_chart("Transcription speed (x real time)", speed.labels, speed.values, "x")),
        ("Backlog", bar_chart("Backlog", backlog.labels, backlog.values)),
        ("Failing episodes per feed", bar_chart("Failing episodes per feed", failures.labels, failures.values)),
    ]
    return render_template("admin.html", status=st, charts=charts)
