"""Search page: passages that match, highlighted, linking to the moment."""

from __future__ import annotations

from flask import Blueprint, render_template, request

from archive.meili import MeiliError
from archive.search import SearchUnavailable
from web.context import archive

bp = Blueprint("search", __name__)
PAGE_SIZE = 20


@bp.get("/search")
def search():  # type: ignore[no-untyped-def]
    """Full-text search over published transcripts."""
    query = request.args.get("q", "").strip()[:200]
    page_no = max(1, min(request.args.get("page", 1, type=int), 50))
    if not query:
        return render_template("search.html", query="", page=None, page_no=1)
    try:
        page = archive().search.search(query, limit=PAGE_SIZE, offset=(page_no - 1) * PAGE_SIZE)
    except (SearchUnavailable, MeiliError):
        return render_template("search.html", query=query, page=None, page_no=page_no, unavailable=True), 503
    return render_template("search.html", query=query, page=page, page_no=page_no, page_size=PAGE_SIZE)
