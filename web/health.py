"""/healthz for load balancers: the database and Meilisearch answer."""

from __future__ import annotations

from flask import Blueprint, jsonify

from archive.search import SearchUnavailable
from web.context import archive

bp = Blueprint("health", __name__)


@bp.get("/healthz")
def healthz():  # type: ignore[no-untyped-def]
    """200 when both answer, 503 naming what does not."""
    checks: dict[str, str] = {}
    a = archive()
    try:
        a.db.ping()
        checks["database"] = "ok"
    except Exception as exc:  # any driver error means unhealthy
        checks["database"] = f"error: {type(exc).__name__}"
    try:
        a.search.ping()
        checks["search"] = "ok"
    except SearchUnavailable as exc:
        checks["search"] = f"error: {type(exc).__name__}"
    healthy = all(v == "ok" for v in checks.values())
    response = jsonify(status="ok" if healthy else "unavailable", checks=checks)
    response.status_code = 200 if healthy else 503
    response.headers["Cache-Control"] = "no-store"
    return response
