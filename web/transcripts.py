"""Transcript downloads (VTT, SRT, Podcast Index JSON, text), also what outgoing feeds link to."""

from __future__ import annotations

from flask import Blueprint, Response, abort

from archive import public
from web.context import archive

bp = Blueprint("transcripts", __name__)


@bp.get("/episodes/<int:episode_id>/transcript.<fmt>")
def download(episode_id: int, fmt: str):  # type: ignore[no-untyped-def]
    """What readers may see of an episode's transcript in one of public.FORMATS."""
    with archive().db.session() as s:
        exported = public.export(s, episode_id, fmt)
    if exported is None:
        abort(404)
    body, mimetype = exported
    response = Response(body, headers={"Content-Type": mimetype})
    # Podcast apps and players on other origins fetch these files from the outgoing feed.
    response.headers["Access-Control-Allow-Origin"] = "*"
    response.headers["Cache-Control"] = "public, max-age=300"
    return response
