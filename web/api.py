"""JSON API: search passages; the Meilisearch key never leaves the server."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, jsonify, request, url_for

from archive.search import MAX_OFFSET, EpisodeHit, Hit, SearchUnavailable
from web.context import archive
from web.search import SIMILAR_PASSAGES, episode_matches, parse_request, rate_limited

bp = Blueprint("api", __name__, url_prefix="/api")
MAX_LIMIT = 50


def _passage(hit: Hit) -> dict[str, Any]:
    return {
        "episode": {
            "id": hit.episode_id,
            "title": hit.episode_title,
            "show": hit.feed_title,
            "published": hit.published,
            "url": url_for("public.episode", episode_id=hit.episode_id, _external=False),
        },
        "position": hit.position,
        "start": hit.start,
        "end": hit.end,
        "speaker": hit.speaker,
        "language": hit.language,
        "html": hit.html,
        # Found by its words, by its meaning, or both; next_html: the next passage's first
        # words, highlighted, when the match runs on into them.
        "found": hit.found,
        "next_html": hit.next_html,
        "url": url_for("public.episode", episode_id=hit.episode_id, t=f"{hit.start:.2f}") + f"#p-{hit.position}",
    }


def _episode(hit: EpisodeHit) -> dict[str, Any]:
    return {
        "id": hit.episode_id,
        "title": hit.title,
        "show": hit.show,
        "published": hit.published,
        "guests": list(hit.guests),
        "html": {"title": hit.title_html, "guests": list(hit.guests_html), "description": hit.description_html},
        "url": url_for("public.episode", episode_id=hit.episode_id, _external=False),
    }


@bp.get("/search")
def search():  # type: ignore[no-untyped-def]
    """Passages matching q by words and meaning (show, year, speaker, language, episode filters;
    mode=words for words only), facet counts, one page.

    Episodes are included on page 1. `meaning` says whether meaning took part: on, off,
    skipped (nothing in q to mean), unavailable (the model is missing or failed), disabled.
    """
    req = parse_request()
    if not req.query:
        return jsonify(error="missing q"), 400
    limited = rate_limited()
    if limited is not None:
        return limited
    limit = max(1, min(request.args.get("limit", 20, type=int) or 20, MAX_LIMIT))
    # Deeper pages than the index's offset cap would silently repeat the last one.
    page_no = min(req.page_no, MAX_OFFSET // limit + 1)
    try:
        page = archive().search.search(
            req.query, limit=limit, offset=(page_no - 1) * limit, filters=req.filters, facets=True, meaning=req.meaning
        )
        episodes = episode_matches(req)
    except SearchUnavailable:
        return jsonify(error="search unavailable"), 503
    return jsonify(
        query=req.query,
        shortened=req.shortened,
        meaning=page.meaning,
        nothing_to_search=page.nothing_to_search,
        page=page_no,
        limit=limit,
        total=page.total,
        passages=[_passage(h) for h in page.hits],
        facets=page.facets,
        episodes=[_episode(e) for e in episodes],
    )


@bp.get("/episodes/<int:episode_id>/related")
def related(episode_id: int):  # type: ignore[no-untyped-def]
    """Interviews whose passages are closest in meaning to this one's (only what readers may see)."""
    limited = rate_limited()
    if limited is not None:
        return limited
    try:
        hits = archive().search.related_episodes(episode_id, limit=10)
    except SearchUnavailable:
        return jsonify(error="search unavailable"), 503
    return jsonify(episode=episode_id, related=[_episode(e) for e in hits])


@bp.get("/episodes/<int:episode_id>/passages/<int:position>/similar")
def similar(episode_id: int, position: int):  # type: ignore[no-untyped-def]
    """More like this: passages of other interviews closest in meaning to one public passage."""
    limited = rate_limited()
    if limited is not None:
        return limited
    try:
        source, hits = archive().search.similar_passages(episode_id, position, limit=SIMILAR_PASSAGES)
    except SearchUnavailable:
        return jsonify(error="search unavailable"), 503
    if source is None:
        return jsonify(error="no such public passage"), 404
    return jsonify(passage=_passage(source), similar=[_passage(h) for h in hits])
