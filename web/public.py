"""Public pages: home, episode, audio."""

from __future__ import annotations

from flask import Blueprint, abort, render_template, request, send_file
from werkzeug.utils import safe_join

from archive import store
from web.context import archive

bp = Blueprint("public", __name__)


@bp.get("/")
def home():  # type: ignore[no-untyped-def]
    """Latest episodes."""
    with archive().db.session() as s:
        episodes = store.latest_episodes(s, limit=50)
    return render_template("home.html", episodes=episodes)


@bp.get("/episodes/<int:episode_id>")
def episode(episode_id: int):  # type: ignore[no-untyped-def]
    """An episode: player and transcript; ?t=SECONDS starts the player there."""
    with archive().db.session() as s:
        ep = store.get_episode(s, episode_id)
        if ep is None:
            abort(404)
        transcript = store.current_transcript(s, episode_id)
        segments = list(transcript.segments) if transcript else []
        feed_title = ep.feed.title
        has_audio = ep.audio is not None
    start = request.args.get("t", type=float)
    if start is not None and not (0 <= start < 10 * 24 * 3600):
        start = None
    return render_template(
        "episode.html", episode=ep, feed_title=feed_title, transcript=transcript,
        segments=segments, has_audio=has_audio, start=start,
    )


@bp.get("/episodes/<int:episode_id>/audio")
def audio(episode_id: int):  # type: ignore[no-untyped-def]
    """The stored audio, with Range support for seeking."""
    a = archive()
    with a.db.session() as s:
        ep = store.get_episode(s, episode_id)
        if ep is None or ep.audio is None:
            abort(404)
        name, ctype = ep.audio.path, ep.audio.content_type
    path = safe_join(str(a.settings.audio_dir), name)
    if path is None:
        abort(404)
    return send_file(path, mimetype=ctype, conditional=True, max_age=3600)
