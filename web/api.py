"""JSON API: search passages (the other read endpoints are in api_reads); the Meilisearch key never leaves."""

from __future__ import annotations

from flask import Blueprint, jsonify, request

from archive.search import SearchUnavailable
from web import reads
from web.context import archive, links
from web.search import parse_request, rate_limited

bp = Blueprint("api", __name__, url_prefix="/api")


@bp.get("/search")
def search():  # type: ignore[no-untyped-def]
    """Passages matching q (show, year, speaker, language, episode filters), facet counts, one page.

    Episodes are included on page 1.
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
