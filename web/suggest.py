"""Readers suggest a correction of one passage: no account, rate limited, stored for editors only."""

from __future__ import annotations

import math

from flask import Blueprint, Response, abort, current_app, render_template, request

from archive import public
from archive.editorial import suggestions
from web.context import archive
from web.ratelimit import TokenBucket

bp = Blueprint("suggest", __name__)
# Five suggestions at once, then one every two minutes, per client address.
SUGGEST_RATE = (5, 1 / 120)


def _passages(episode_id: int):  # type: ignore[no-untyped-def]
    # Only what the public can read may be corrected: the same text the search index holds.
    with archive().db.session() as s:
        episode = public.episode(s, episode_id)
        if episode is None:
            abort(404)
        view = public.transcript_view(s, episode_id)
        passages = public.transcript_passages(s, view) if view is not None else ()
        return episode.title, [p for p in passages if p.text.strip()]


@bp.route("/episodes/<int:episode_id>/suggest", methods=["GET", "POST"])
def suggest(episode_id: int):  # type: ignore[no-untyped-def]
    """The form (GET ?p=position) and its submission."""
    title, passages = _passages(episode_id)
    position = request.values.get("p", type=int)
    passage = next((p for p in passages if p.position == position), None)
    if passage is None:
        if request.method == "POST" or not passages:
            abort(404)
        return render_template("editor/suggest_pick.html", episode_id=episode_id, title=title, passages=passages)
    error = None
    if request.method == "POST":
        # A field people never see: whatever fills it is a bot; answer as if it worked.
        if request.form.get("website"):
            return render_template("editor/suggest_done.html", episode_id=episode_id, position=position)
        burst, rate = current_app.config.get("SUGGEST_RATE", SUGGEST_RATE)
        bucket: TokenBucket = current_app.extensions.setdefault("podarchive.suggest", TokenBucket(burst, rate))
        wait = bucket.take(request.remote_addr or "-")
        if wait > 0:
            response = Response("Too many suggestions; please wait a few minutes.\n", status=429, mimetype="text/plain")
            response.headers["Retry-After"] = str(max(1, math.ceil(wait)))
            return response
        try:
            with archive().db.session() as s:
                suggestions.add(
                    s,
                    episode_id,
                    passage.position,
                    passage.text,
                    request.form.get("text", ""),
                    request.form.get("note", ""),
                )
        except suggestions.SuggestionError as exc:
            error = str(exc)
        else:
            return render_template("editor/suggest_done.html", episode_id=episode_id, position=position)
    return render_template("editor/suggest.html", episode_id=episode_id, title=title, passage=passage, error=error), (
        400 if error else 200
    )
