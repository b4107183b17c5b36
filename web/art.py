"""Cover art: a page loads images only from its own show's image hosts, and says so in its CSP."""

from __future__ import annotations

import re
from urllib.parse import urlsplit

from flask import g, has_request_context

# A DNS name (IDNs in their xn-- form) or an IPv4 address: nothing else can go into a CSP header
# (a feed's "https://x;script-src *" must not become a policy of its own).
_HOST = re.compile(r"(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)*[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?")


def origin(url: str | None) -> str | None:
    """scheme://host[:port] of an http(s) image URL, or None when it is anything else.

    >>> origin("https://Img.Example/cover.jpg"), origin("http://cdn.example:8080/a.png")
    ('https://img.example', 'http://cdn.example:8080')
    >>> [origin(u) for u in ("data:image/png;base64,AA", "https://x.example;script-src *", "//x.example/a",
    ...     "https://u:p@x.example/a", "https://x.example:99999/a", "javascript:alert(1)", None)]
    [None, None, None, None, None, None, None]
    """
    if not url:
        return None
    try:
        parts = urlsplit(url.strip())
        port = parts.port
    except ValueError:
        return None
    host = parts.hostname or ""
    if parts.scheme not in ("http", "https") or "@" in parts.netloc or not _HOST.fullmatch(host):
        return None
    return f"{parts.scheme}://{host}" + (f":{port}" if port else "")


def page_art(*urls: str | None) -> str | None:
    """Allow this page the hosts of these images (the episode's, the show's); returns the first usable one."""
    usable = [u.strip() for u in urls if u and origin(u)]
    allowed: set[str] = g.setdefault("podarchive_art_origins", set())
    allowed.update(o for o in map(origin, usable) if o)
    return usable[0] if usable else None


def allowed_origins() -> frozenset[str]:
    """The image hosts this page may load from (none outside a page that called page_art)."""
    if not has_request_context():
        return frozenset()
    return frozenset(g.get("podarchive_art_origins", ()))


def img_src() -> str:
    """The CSP img-src of this response: the site itself, data: URLs, and the page's art hosts."""
    return " ".join(["'self'", "data:", *sorted(allowed_origins())])
