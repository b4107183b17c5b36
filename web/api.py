"""JSON API: search passages by words and meaning, related interviews, more like this (the other read
endpoints are in api_reads); the Meilisearch key never leaves."""

from __future__ import annotations

from flask import Blueprint, jsonify, request

from archive.search import SearchUnavailable
from web import payloads, reads
from web.context import archive, links
from web.search import SIMILAR_PASSAGES, parse_request, rate_limited

bp = Blueprint("api", __name__, url_prefix="/api")


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
    try:
        result = reads.search(archive(), req, request.args.get("limit", 20, type=int) or 20, links())
    except SearchUnavailable:
        return jsonify(error="search unavailable"), 503
    return jsonify(result)


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
    return jsonify(
        payloads.RelatedEpisodes(episode=episode_id, related=[payloads.search_episode(links(), e) for e in hits])
    )


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
    to = links()
    return jsonify(
        payloads.SimilarPassages(
            passage=payloads.search_passage(to, source), similar=[payloads.search_passage(to, h) for h in hits]
        )
    )
