"""The podarchive site: Flask app factory."""

from __future__ import annotations

from flask import Flask, render_template
from werkzeug.exceptions import HTTPException

from archive.config import Settings, load_settings
from archive.context import Archive
from web import (
    admin,
    api,
    api_reads,
    art,
    assistants,
    auth,
    converters,
    editor,
    editor_tools,
    feeds_out,
    filters,
    health,
    i18n,
    openapi,
    proxies,
    public,
    search,
    suggest,
    transcripts,
)


def create_app(settings: Settings | None = None) -> Flask:
    """Build the site for these settings (read from the environment when omitted)."""
    settings = settings or load_settings()
    app = Flask(__name__)
    app.config["SECRET_KEY"] = settings.secret_key or None
    app.config["MAX_CONTENT_LENGTH"] = 1024 * 1024
    app.extensions["podarchive"] = Archive(settings)
    # Before any blueprint: rules are parsed with the converters present when they are added.
    converters.register(app)

    app.register_blueprint(public.bp)
    app.register_blueprint(search.bp)
    app.register_blueprint(api.bp)
    app.register_blueprint(api_reads.bp)
    app.register_blueprint(openapi.bp)
    app.register_blueprint(health.bp)
    app.register_blueprint(transcripts.bp)
    app.register_blueprint(feeds_out.bp)
    filters.register(app)
    i18n.init(app, settings.cache_dir)
    # Editors (issue 7): CSRF on every POST of the app, log-in, the editor area, reader suggestions.
    auth.init(app, settings)
    app.register_blueprint(editor.bp)
    app.register_blueprint(editor_tools.bp)
    app.register_blueprint(suggest.bp)
    app.register_blueprint(admin.bp)
    # Assistants (issue 18): the MCP server over streamable HTTP at /mcp, in front of the site.
    assistants.mount(app)
    # Behind nginx every request comes from the proxy: rate limits need the client's address.
    # Last, so that it wraps the outermost WSGI app and /mcp sees the client's address too.
    proxies.install(app, settings)

    @app.after_request
    def security_headers(response):  # type: ignore[no-untyped-def]
        # Every response, errors included: no inline script, no framing, no sniffing.
        # Images only from the site and the page's own show art hosts (web.art), never any https: host.
        response.headers.setdefault(
            "Content-Security-Policy",
            f"default-src 'self'; script-src 'self'; style-src 'self'; img-src {art.img_src()}; "
            "media-src 'self' https:; object-src 'none'; base-uri 'none'; form-action 'self'; "
            "frame-ancestors 'none'",
        )
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("Referrer-Policy", "strict-origin-when-cross-origin")
        response.headers.setdefault("X-Frame-Options", "DENY")
        return response

    @app.errorhandler(HTTPException)
    def http_error(exc: HTTPException):  # type: ignore[no-untyped-def]
        # The template words the common codes in the reader's language.
        return render_template("error.html", code=exc.code, message=exc.description), exc.code

    @app.errorhandler(Exception)
    def server_error(exc: Exception):  # type: ignore[no-untyped-def]
        app.logger.exception("unhandled error")
        return render_template("error.html", code=500, message=None), 500

    return app
