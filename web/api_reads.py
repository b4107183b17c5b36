"""JSON API for shows, episodes, transcripts and speakers: the MCP tools' answers, over plain HTTP.

Every endpoint is described in /api/openapi.json and rate-limited per client like /api/search.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, jsonify, request

from web import reads
from web.context import archive, links
from web.search import rate_limited

bp = Blueprint("api_reads", __name__, url_prefix="/api")


def _not_found(what: str) -> tuple[Any, int]:
    return jsonify(error=f"no {what}"), 404


def _seconds(name: str) -> float | None:
    """A time argument in seconds; anything unreadable counts as absent."""
    value = request.args.get(name, type=float)
    return value if value is not None and value >= 0 else None


@bp.before_request
def _limit():  # type: ignore[no-untyped-def]
    # The same per-client budget as /api/search and the MCP tools.
    return rate_limited()


@bp.get("/shows")
def shows():  # type: ignore[no-untyped-def]
    """Every show."""
    return jsonify(reads.shows(archive(), links()))


@bp.get("/shows/<int:feed_id>")
def show(feed_id: int):  # type: ignore[no-untyped-def]
    """One show and its episodes."""
    found = reads.show(archive(), feed_id, links(), limit=request.args.get("limit", 200, type=int) or 200)
    return jsonify(found) if found is not None else _not_found("such show")


@bp.get("/episodes")
def episodes():  # type: ignore[no-untyped-def]
    """The newest episodes (?show=ID for one show, ?transcribed=1 for those readers can read)."""
    return jsonify(
        reads.recent_episodes(
            archive(),
            links(),
            limit=request.args.get("limit", 20, type=int) or 20,
            feed_id=request.args.get("show", type=int),
            transcribed=request.args.get("transcribed", "").lower() in ("1", "true", "yes"),
        )
    )


@bp.get("/episodes/<int:episode_id>")
def episode(episode_id: int):  # type: ignore[no-untyped-def]
    """One episode: notes, credits, chapters and what readers are told of its transcript."""
    found = reads.episode(archive(), episode_id, links())
    return jsonify(found) if found is not None else _not_found("such episode")


@bp.get("/episodes/<int:episode_id>/transcript")
def transcript(episode_id: int):  # type: ignore[no-untyped-def]
    """The passages readers may see, whole or between ?start= and ?end= (seconds)."""
    found = reads.transcript(archive(), episode_id, links(), _seconds("start"), _seconds("end"))
    return jsonify(found) if found is not None else _not_found("transcript readers may see")


@bp.get("/speakers")
def speakers():  # type: ignore[no-untyped-def]
    """Named voices and credited people, most frequent first."""
    return jsonify(reads.speakers(archive(), links(), limit=request.args.get("limit", 100, type=int) or 100))
