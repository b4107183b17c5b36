"""Turn feed text into safe plain text or cleaned HTML."""

from __future__ import annotations

import html
import re

import nh3

_SPACE = re.compile(r"\s+")


def plain_text(value: str | None) -> str:
    """Text with tags stripped, entities unescaped and whitespace collapsed.

    >>> plain_text("<b>Tom &amp; Jerry</b> <script>alert(1)</script>&#233;t&eacute;")
    'Tom & Jerry été'
    >>> plain_text(None)
    ''
    """
    if not value:
        return ""
    # nh3 with no tags allowed drops scripts with their content and keeps text,
    # escaped; unescape once to get plain text (feedparser leaves text/plain raw).
    stripped = nh3.clean(value, tags=set(), clean_content_tags={"script", "style"})
    return _SPACE.sub(" ", html.unescape(stripped)).strip()


def clean_html(value: str | None) -> str:
    """Show notes as HTML safe to embed in our pages (nh3 defaults, safe links).

    >>> clean_html('<p onclick="x()">Hi <a href="javascript:alert(1)">x</a></p>')
    '<p>Hi <a rel="noopener noreferrer">x</a></p>'
    """
    if not value:
        return ""
    return nh3.clean(value, link_rel="noopener noreferrer").strip()
