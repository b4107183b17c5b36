"""Transcript downloads (VTT, SRT, Podcast Index JSON, text), also what outgoing feeds link to."""

from __future__ import annotations

from flask import Blueprint, Response, abort

from archive import pages
from transcribe import formats
from web.context import archive

bp = Blueprint("transcripts", __name__)

FORMATS = {
    "vtt": (formats.to_vtt, "text/vtt; charset=utf-8"),
    "srt": (formats.to_srt, "application/x-subrip; charset=utf-8"),
    "json": (formats.to_podcast_json, "application/json; charset=utf-8"),
    "txt": (formats.to_text, "text/plain; charset=utf-8"),
}


@bp.get("/episodes/<int:episode_id>/transcript.<fmt>")
def download(episode_id: int, fmt: str):  # type: ignore[no-untyped-def]
    """The current transcript of an episode in one of FORMATS."""
    if fmt not in FORMATS:
        abort(404)
    with archive().db.session() as s:
        transcript = pages.transcript_result(s, episode_id)
    if transcript is None:
        abort(404)
    render, mimetype = FORMATS[fmt]
    response = Response(render(transcript), headers={"Content-Type": mimetype})
    # Podcast apps and players on other origins fetch these files from the outgoing feed.
    response.headers["Access-Control-Allow-Origin"] = "*"
    response.headers["Cache-Control"] = "public, max-age=300"
    return response
