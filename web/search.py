"""Search page: the best passage of each interview, by words and meaning; facets as links, pages; no JavaScript."""

from __future__ import annotations

import math
from dataclasses import dataclass

from flask import Blueprint, Response, abort, current_app, render_template, request
from flask_babel import lazy_gettext

from archive.search import EpisodeHit, Filters, SearchUnavailable
from web.context import archive
from web.ratelimit import TokenBucket

bp = Blueprint("search", __name__)
PAGE_SIZE = 20
MAX_PAGE = 50
MAX_QUERY = 200
EPISODE_MATCHES = 5
SIMILAR_PASSAGES = 10
# Per client: a burst of 30, then 2 a second (the config's SEARCH_RATE_BURST / SEARCH_RATE_PER_S).
RATE_BURST, RATE_PER_S = 30, 2.0


@dataclass(frozen=True)
class SearchRequest:
    """A search as the reader asked for it, bounded."""

    query: str
    filters: Filters
    page_no: int
    # "words": the reader turned search by meaning off (?mode=words); "" otherwise.
    mode: str = ""
    # The query as typed was longer than MAX_QUERY and was cut.
    shortened: bool = False

    @property
    def meaning(self) -> bool:
        """Whether to search by meaning as well as by words."""
        return self.mode != "words"

    def args(self, **changes: object) -> dict[str, object]:
        """Query-string arguments for a link to this search with some changed (None drops one)."""
        f = self.filters
        current: dict[str, object] = {
            "q": self.query,
            "show": f.show,
            "year": f.year,
            "speaker": f.speaker,
            "language": f.language,
            "episode": f.episode_id,
            "mode": self.mode or None,
            "page": None,
        }
        current.update(changes)
        return {k: v for k, v in current.items() if v not in (None, "")}


@bp.context_processor
def limits() -> dict[str, object]:
    """What the search templates say about the query's bounds."""
    return {"max_query": MAX_QUERY}


@bp.app_template_global()
def found_label(found: str) -> str:
    """How a hit was found, in the page's language: by its words, by its meaning, or both."""
    labels = {
        "words": lazy_gettext("By its words"),
        "meaning": lazy_gettext("By its meaning"),
        "both": lazy_gettext("By its words and meaning"),
    }
    return str(labels.get(found, found))


def parse_request() -> SearchRequest:
    """Read q, show, year, speaker, language, episode, mode and page from the query string."""
    a = request.args

    def text(name: str) -> str | None:
        value = a.get(name, "").strip()[:200]
        return value or None

    filters = Filters(
        show=text("show"),
        year=a.get("year", type=int),
        speaker=text("speaker"),
        language=text("language"),
        episode_id=a.get("episode", type=int),
    )
    page_no = max(1, min(a.get("page", 1, type=int) or 1, MAX_PAGE))
    query = " ".join(a.get("q", "").split())
    mode = "words" if a.get("mode") == "words" else ""
    return SearchRequest(query[:MAX_QUERY].strip(), filters, page_no, mode, len(query) > MAX_QUERY)


def episode_matches(req: SearchRequest) -> list[EpisodeHit]:
    """Episodes whose title, guests or notes match, for the first page of a search over every interview."""
    if req.page_no > 1 or req.filters.episode_id is not None:
        return []
    return archive().search.search_episodes(req.query, limit=EPISODE_MATCHES, filters=req.filters)


def search_bucket() -> TokenBucket:
    """The app's per-client budget for searches, API reads and MCP tool calls."""
    config = current_app.config
    bucket: TokenBucket = current_app.extensions.setdefault(
        "podarchive_search_bucket",
        TokenBucket(config.get("SEARCH_RATE_BURST", RATE_BURST), config.get("SEARCH_RATE_PER_S", RATE_PER_S)),
    )
    return bucket


def rate_limited() -> Response | None:
    """A 429 with Retry-After when this client searched too often, else None."""
    wait = search_bucket().take(request.remote_addr or "-")
    if wait == 0.0:
        return None
    response = Response("Too many searches; please wait a moment.\n", status=429, mimetype="text/plain")
    response.headers["Retry-After"] = str(max(1, math.ceil(wait)))
    return response


@bp.get("/search")
def search():  # type: ignore[no-untyped-def]
    """Full-text search over published transcripts, grouped by interview."""
    req = parse_request()
    if not req.query:
        return render_template("search.html", req=req, query=req.query, page=None)
    limited = rate_limited()
    if limited is not None:
        return limited
    # One episode asked for: all its passages; otherwise the best passage per episode.
    grouped = req.filters.episode_id is None
    try:
        page = archive().search.search(
            req.query,
            limit=PAGE_SIZE,
            offset=(req.page_no - 1) * PAGE_SIZE,
            filters=req.filters,
            distinct=grouped,
            facets=True,
            meaning=req.meaning,
        )
        episodes = episode_matches(req)
    except SearchUnavailable:
        return render_template("search.html", req=req, query=req.query, page=None, unavailable=True), 503
    if req.page_no > 1 and not page.hits and page.total:
        abort(404)
    return render_template(
        "search.html", req=req, query=req.query, page=page, grouped=grouped, page_size=PAGE_SIZE, episodes=episodes
    )


@bp.get("/episodes/<int:episode_id>/like/<int:position>")
def similar(episode_id: int, position: int):  # type: ignore[no-untyped-def]
    """More like this: passages of other interviews closest in meaning to one passage readers may see."""
    limited = rate_limited()
    if limited is not None:
        return limited
    try:
        source, hits = archive().search.similar_passages(episode_id, position, limit=SIMILAR_PASSAGES)
    except SearchUnavailable:
        return render_template("similar.html", source=None, hits=[], unavailable=True), 503
    if source is None:
        abort(404)
    return render_template("similar.html", source=source, hits=hits, unavailable=False)
