"""Public pages: home, shows, episodes (player + transcript + quotes), speakers, about, audio."""

from __future__ import annotations

import os
import time

from flask import Blueprint, abort, current_app, redirect, render_template, request, send_file
from flask_babel import get_locale, lazy_gettext
from werkzeug.security import safe_join

from archive import public
from archive.search import EpisodeHit, SearchUnavailable
from web import art, transcript_html
from web.context import archive
from web.quote import Quote, parse_moment, pick_quote

bp = Blueprint("public", __name__)
SUMMARY_CHARS = 200


@bp.app_context_processor
def site() -> dict[str, object]:
    """The site's name and the current path (the language switch comes back to it)."""
    here = request.full_path.rstrip("?") if request else "/"
    return {"site_title": archive().settings.site_title, "here": here}


@bp.app_template_global()
def role_label(role: str) -> str:
    """A podcast:person role in the page's language (the namespace's roles are English words)."""
    known = {"host": lazy_gettext("host"), "guest": lazy_gettext("guest"), "co-host": lazy_gettext("co-host")}
    return str(known.get(role.strip().lower(), role))


@bp.get("/")
def home():  # type: ignore[no-untyped-def]
    """Latest interviews and the shows."""
    with archive().db.session() as s:
        episodes = public.latest_interviews(s, limit=12)
        shows = public.shows(s)
        speakers = _recent_speakers(s)
    return render_template("home.html", episodes=episodes, shows=shows, speakers=speakers)


SPEAKERS_TTL_S = 60.0


def _recent_speakers(session) -> list[tuple[str, int]]:  # type: ignore[no-untyped-def]
    """The home page's voices, recomputed at most once a minute: it scans every named passage."""
    memo: dict[str, object] = current_app.extensions.setdefault("podarchive.speakers", {})
    now = time.monotonic()
    if "value" in memo and now - float(memo["at"]) < SPEAKERS_TTL_S:  # type: ignore[arg-type]
        return memo["value"]  # type: ignore[return-value]
    value = public.speakers(session, limit=20)
    memo.update(at=now, value=value)
    return value


RELATED = 5
RELATED_TTL_S = 300.0
RELATED_MEMO = 2048


def _related(episode_id: int) -> list[EpisodeHit]:
    """Related interviews (nearest in meaning), remembered a few minutes per episode: a page view
    costs no search then, and a slow or stopped Meilisearch costs the page nothing but the list."""
    memo: dict[int, tuple[float, list[EpisodeHit]]] = current_app.extensions.setdefault("podarchive.related", {})
    now = time.monotonic()
    cached = memo.get(episode_id)
    if cached is not None and now - cached[0] < RELATED_TTL_S:
        return cached[1]
    try:
        value = archive().search.related_episodes(episode_id, limit=RELATED)
    except SearchUnavailable:
        value = []
    if len(memo) >= RELATED_MEMO:
        memo.clear()
    memo[episode_id] = (now, value)
    return value


@bp.get("/shows/<int:feed_id>")
def show(feed_id: int):  # type: ignore[no-untyped-def]
    """A show: its notes and every episode."""
    with archive().db.session() as s:
        feed = public.show(s, feed_id)
        if feed is None:
            abort(404)
        episodes = public.show_episodes(s, feed_id)
    return render_template("show.html", show=feed, episodes=episodes, art=art.page_art(feed.image))


@bp.get("/speakers/<name:name>")
def speaker(name: str):  # type: ignore[no-untyped-def]
    """Every interview with a speaker."""
    with archive().db.session() as s:
        episodes = public.speaker_episodes(s, name)
    if not episodes:
        abort(404)
    return render_template("speaker.html", name=name, episodes=episodes)


@bp.get("/about")
def about():  # type: ignore[no-untyped-def]
    """What this archive is and how transcripts are made."""
    return render_template("about.html")


@bp.get("/episodes/<int:episode_id>")
def episode(episode_id: int):  # type: ignore[no-untyped-def]
    """An episode: player and transcript; ?t= starts there, ?start=&end= opens a quote."""
    with archive().db.session() as s:
        ep = public.episode(s, episode_id)
        if ep is None:
            abort(404)
        feed = public.show(s, ep.feed_id)
        transcript = public.transcript_view(s, episode_id)
        people = public.episode_people(s, episode_id)
        chapters = public.episode_chapters(s, episode_id)
    loaded: list[tuple[public.PassageView, ...]] = []

    def passages() -> tuple[public.PassageView, ...]:
        # Only a quote or a cold cache needs the passages: a 2-hour interview is ~20k rows.
        if not loaded and transcript is not None:
            with archive().db.session() as s:
                loaded.append(public.transcript_passages(s, transcript))
        return loaded[0] if loaded else ()

    start = parse_moment(request.args.get("t"))
    quote: Quote | None = None
    if transcript is not None and "start" in request.args and "end" in request.args:
        quote = pick_quote(passages(), request.args.get("start"), request.args.get("end"))
    if quote is not None:
        start = quote.start
    passages_html = None
    if transcript is not None:
        # Known voices are part of the key: a confirmation, rejection or forgotten print changes the names.
        key = (transcript.id, transcript.revision_id, transcript.voices, str(get_locale()), request.script_root)
        passages_html = transcript_html.render(key, passages, quote.positions if quote else frozenset())
    summary = quote.text if quote else ep.description_text[:SUMMARY_CHARS]
    return render_template(
        "episode.html",
        # The episode's own art, else the show's; notes may show images from either host.
        art=art.page_art(ep.image, feed.image if feed else None),
        episode=ep,
        show=feed,
        transcript=transcript,
        has_audio=ep.has_audio,
        duration=ep.duration,
        start=start,
        quote=quote,
        summary=summary,
        passages_html=passages_html,
        people=people,
        chapters=chapters,
        related=_related(episode_id) if transcript is not None else [],
    )


@bp.get("/episodes/<int:episode_id>/audio")
def audio(episode_id: int):  # type: ignore[no-untyped-def]
    """The stored audio, with Range support for seeking."""
    a = archive()
    with a.db.session() as s:
        stored = public.episode_audio(s, episode_id)
    if stored is None:
        abort(404)
    name, ctype = stored.path, stored.content_type
    if stored.pruned:
        # The retention policy deleted our copy: the player falls back to the show's own file.
        if stored.enclosure_url and stored.enclosure_url.startswith(("https://", "http://")):
            return redirect(stored.enclosure_url, 302)
        abort(404)
    path = safe_join(str(a.settings.audio_dir), name)
    # A row whose file was removed by hand (or a restore without audio) is a 404, not a 500.
    if path is None or not os.path.isfile(path):
        abort(404)
    return send_file(path, mimetype=ctype, conditional=True, max_age=3600)
