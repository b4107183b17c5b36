"""Stable episode identity, for feeds whose guids are missing or unreliable."""

from __future__ import annotations

import hashlib
import re
from datetime import datetime
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

# Analytics services that prefix the real media URL with their own host and
# path ("https://dts.podtrac.com/redirect.mp3/feeds.soundcloud.com/...").
# Publishers add, drop and reorder them, so they are not part of the identity.
_TRACKING_PREFIXES = re.compile(
    r"""^(?:
        (?:www\.)?dts\.podtrac\.com/redirect\.[a-z0-9]+/
      | (?:www\.)?podtrac\.com/pts/redirect\.[a-z0-9]+/
      | chtbl\.com/track/[^/]+/
      | op3\.dev/e(?:,[^/]*)?/
      | pdst\.fm/e/
      | (?:verifi\.)?podscribe\.com/rss/p/
      | pfx\.vpixl\.com/[^/]+/
      | mgln\.ai/e/[^/]+/
      | arttrk\.com/p/[^/]+/
      | claritaspod\.com/measure/
      | clrtpod\.com/m/
      | traffic\.megaphone\.fm/(?=[^/]+\.mp3)
    )""",
    re.VERBOSE | re.IGNORECASE,
)
MAX_IDENTITY = 1024  # longer identities are replaced by their digest (episodes.guid is String(2048))
_VOLATILE_PARAM = re.compile(r"^(?:utm_.*|fbclid|gclid|awcollectionid|awepisodeid|source|from|ref)$", re.I)


def normalise_enclosure_url(url: str) -> str:
    """The enclosure URL without tracking prefixes, volatile params or the scheme's case.

    >>> normalise_enclosure_url("https://dts.podtrac.com/redirect.mp3/feeds.soundcloud.com/stream/1.mp3")
    'https://feeds.soundcloud.com/stream/1.mp3'
    >>> normalise_enclosure_url("https://chtbl.com/track/ABC12/op3.dev/e/pdst.fm/e/cdn.example.com/a.mp3?utm_source=x&v=2")
    'https://cdn.example.com/a.mp3?v=2'
    >>> normalise_enclosure_url("HTTP://Example.COM/Ep%201.mp3#t=10")
    'http://example.com/Ep%201.mp3'
    >>> normalise_enclosure_url("  not a url ")
    'not a url'
    """
    url = url.strip()
    try:
        parts = urlsplit(url)
    except ValueError:
        return url
    if not parts.netloc:
        return url
    scheme = parts.scheme.lower()
    rest = parts.netloc + parts.path
    # Prefixes stack (podtrac -> chartable -> op3 ...); strip until none is left.
    while True:
        stripped = _TRACKING_PREFIXES.sub("", rest, count=1)
        if stripped == rest:
            break
        rest = stripped
        if rest.lower().startswith(("http://", "https://")):
            scheme, _, rest = rest.partition("://")
            scheme = scheme.lower()
    netloc, slash, path = rest.partition("/")
    query = urlencode(
        [(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True) if not _VOLATILE_PARAM.match(k)]
    )
    return urlunsplit((scheme, netloc.lower(), slash + path, query, ""))


def entry_identity(
    guid: str | None,
    enclosure_url: str | None,
    link: str | None,
    title: str | None,
    published: datetime | None,
) -> str:
    """The guid if present, else the normalised enclosure URL, link, or title and date.

    >>> entry_identity("  abc ", "https://x/a.mp3", None, "T", None)
    'abc'
    >>> entry_identity("", "https://dts.podtrac.com/redirect.mp3/x.org/a.mp3", None, "T", None)
    'https://x.org/a.mp3'
    >>> entry_identity(None, None, None, "Ep 1", datetime(2020, 1, 2))
    'title:Ep 1|2020-01-02T00:00:00'
    >>> entry_identity("A" * 5000, None, None, "T", None)[:7], len(entry_identity("A" * 5000, None, None, "T", None))
    ('sha256:', 71)
    """
    if guid and guid.strip():
        identity = guid.strip()
    elif enclosure_url and enclosure_url.strip():
        identity = normalise_enclosure_url(enclosure_url)
    elif link and link.strip():
        identity = link.strip()
    else:
        identity = f"title:{(title or '').strip()}|{published.isoformat() if published else ''}"
    # A hostile 10,000-character guid must not fail the whole feed's insert (the column
    # holds 2048 on PostgreSQL); a digest stays stable and distinct, a prefix might not.
    if len(identity) > MAX_IDENTITY:
        identity = "sha256:" + hashlib.sha256(identity.encode("utf-8", "surrogatepass")).hexdigest()
    return identity
