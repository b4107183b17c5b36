"""Access to the archive opened by the app factory, and to the site's links for this request."""

from __future__ import annotations

from flask import current_app, request

from archive.context import Archive
from web.payloads import Links


def archive() -> Archive:
    """The Archive of the running app."""
    return current_app.extensions["podarchive"]  # type: ignore[no-any-return]


def links() -> Links:
    """Absolute links under PODARCHIVE_PUBLIC_URL, else under the address this request came to."""
    return Links(archive().settings.public_url or request.url_root)
