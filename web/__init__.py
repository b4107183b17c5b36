"""The podarchive site: Flask app factory."""

from __future__ import annotations

from flask import Flask, render_template
from werkzeug.exceptions import HTTPException

from archive.config import Settings, load_settings
from archive.context import Archive
from web import filters, public, search


def create_app(settings: Settings | None = None) -> Flask:
    """Build the site for these settings (read from the environment when omitted)."""
    settings = settings or load_settings()
    app = Flask(__name__)
    app.config["SECRET_KEY"] = settings.secret_key or None
    app.config["MAX_CONTENT_LENGTH"] = 1024 * 1024
    app.extensions["podarchive"] = Archive(settings)

    app.register_blueprint(public.bp)
    app.register_blueprint(search.bp)
    filters.register(app)

    @app.after_request
    def security_headers(response):  # type: ignore[no-untyped-def]
        # Every response, errors included: no inline script, no framing, no sniffing.
        response.headers.setdefault(
            "Content-Security-Policy",
            "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' https: data:; "
            "media-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; "
            "frame-ancestors 'none'",
        )
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("Referrer-Policy", "strict-origin-when-cross-origin")
        response.headers.setdefault("X-Frame-Options", "DENY")
        return response

    @app.errorhandler(HTTPException)
    def http_error(exc: HTTPException):  # type: ignore[no-untyped-def]
        return render_template("error.html", code=exc.code, message=exc.description), exc.code

    @app.errorhandler(Exception)
    def server_error(exc: Exception):  # type: ignore[no-untyped-def]
        app.logger.exception("unhandled error")
        return render_template("error.html", code=500, message="Something went wrong on our side."), 500

    return app
