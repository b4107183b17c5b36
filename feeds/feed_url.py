"""Feed URLs an operator gives: refused when the fetcher could never use them, else normalised."""

from __future__ import annotations

import re
from urllib.parse import urlunsplit

from .errors import BlockedURL
from .guard import url_parts

# The feeds table's column; a longer URL is no feed anyone publishes.
MAX_LENGTH = 2048
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
_DEFAULT_PORTS = {"http": 80, "https": 443}


def normalise_feed_url(url: str) -> str:
    """The one spelling of a feed URL, for storing and the duplicate check; raises BlockedURL.

    Scheme and host in lower case, the scheme's default port and any #fragment dropped,
    an empty path made "/"; path and query are kept as given (servers may tell case apart).

    >>> normalise_feed_url(" HTTPS://Example.ORG:443/Feed.xml#new ")
    'https://example.org/Feed.xml'
    """
    url = url.strip()
    if not url:
        raise BlockedURL("empty URL")
    # Before urlsplit, which silently deletes tabs and line breaks: two pasted URLs
    # would otherwise become one that nobody typed.
    if "\n" in url or "\r" in url:
        raise BlockedURL(f"URL with a line break: {url!r} (one URL at a time)")
    if _CONTROL.search(url):
        raise BlockedURL(f"URL with a control character: {url!r}")
    if any(c.isspace() for c in url):
        raise BlockedURL(f"URL with a space inside: {url!r} (percent-encode it as %20)")
    if len(url) > MAX_LENGTH:
        raise BlockedURL(f"URL longer than {MAX_LENGTH} characters")
    if "://" not in url and ":" not in url.split("/", 1)[0]:
        raise BlockedURL(f"not an absolute URL: {url!r}; give it with http:// or https://")
    parts = url_parts(url)  # the fetcher's own rules: http(s), a host, no credentials
    scheme = parts.scheme.lower()
    host = parts.hostname or ""
    if ":" in host:
        host = f"[{host}]"
    if parts.port is not None and parts.port != _DEFAULT_PORTS[scheme]:
        host = f"{host}:{parts.port}"
    return urlunsplit((scheme, host, parts.path or "/", parts.query, ""))
