"""Jinja filters for times, feed-provided HTML and links."""

from __future__ import annotations

import nh3
from flask import Flask
from markupsafe import Markup

from web import art


def clock(seconds: float | None) -> str:
    """Seconds as M:SS or H:MM:SS.

    >>> clock(75.4)
    '1:15'
    >>> clock(3725)
    '1:02:05'
    """
    if seconds is None:
        return ""
    total = int(seconds)
    h, rest = divmod(total, 3600)
    m, s = divmod(rest, 60)
    return f"{h}:{m:02d}:{s:02d}" if h else f"{m}:{s:02d}"


def seconds(value: float) -> str:
    """A time for URLs and data attributes.

    >>> seconds(12.3456)
    '12.35'
    """
    return f"{value:.2f}"


def clean(fragment: str | None) -> Markup:
    """Feed HTML cleaned again at render time: rows stored by older code get the same guard.

    An image keeps its source only when it is on one of the page's art hosts (web.art): a
    tracking pixel elsewhere in the notes is never requested by readers' browsers.

    >>> str(clean('<p>Hi<img src="https://pixel.example/t.gif" alt="x"></p>'))
    '<p>Hi<img alt="x"></p>'
    """
    allowed = art.allowed_origins()

    def keep(tag: str, attribute: str, value: str) -> str | None:
        if tag == "img" and attribute == "src" and art.origin(value) not in allowed:
            return None
        return value

    return Markup(nh3.clean(fragment or "", link_rel="noopener noreferrer", attribute_filter=keep))


def web_url(value: str | None) -> str | None:
    """The link when it is http(s), else None (no javascript: or data: links from feeds).

    >>> web_url(" JavaScript:alert(1)"), web_url("https://x.org/a")
    (None, 'https://x.org/a')
    """
    if value and value.strip().lower().startswith(("http://", "https://")):
        return value.strip()
    return None


def register(app: Flask) -> None:
    """Install the filters."""
    app.jinja_env.filters["clock"] = clock
    app.jinja_env.filters["seconds"] = seconds
    app.jinja_env.filters["clean"] = clean
    app.jinja_env.filters["web_url"] = web_url
