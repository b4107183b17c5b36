"""Access to the archive opened by the app factory."""

from __future__ import annotations

from flask import current_app

from archive.context import Archive


def archive() -> Archive:
    """The Archive of the running app."""
    return current_app.extensions["podarchive"]  # type: ignore[no-any-return]
