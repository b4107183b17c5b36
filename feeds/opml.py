"""OPML subscription lists in and out; pure, and no DTDs (so no entity bombs)."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from dataclasses import dataclass
from xml.parsers import expat

from .errors import ParseError


@dataclass(frozen=True)
class Subscription:
    """One feed of an OPML file."""

    url: str
    title: str | None = None
    language: str | None = None


class _Refused(Exception):
    pass


def parse_opml(content: bytes) -> list[Subscription]:
    """Every outline with an xmlUrl, in document order, duplicates dropped. Raises ParseError.

    Any DOCTYPE is refused outright: OPML needs none, and a DTD is how entity
    expansion ("billion laughs") and external entities get in.

    >>> parse_opml(b'<opml version="2.0"><body><outline text="A" xmlUrl="https://a/f.rss"/></body></opml>')
    [Subscription(url='https://a/f.rss', title='A', language=None)]
    >>> parse_opml(b'<!DOCTYPE x [<!ENTITY a "b">]><opml/>')
    Traceback (most recent call last):
    ...
    feeds.errors.ParseError: OPML with a DOCTYPE is refused
    """
    found: dict[str, Subscription] = {}
    seen_root: list[str] = []

    def start(name: str, attrs: dict[str, str]) -> None:
        if not seen_root:
            seen_root.append(name)
        if name.lower() != "outline":
            return
        url = (attrs.get("xmlUrl") or attrs.get("xmlurl") or "").strip()
        if url and url not in found:
            title = (attrs.get("title") or attrs.get("text") or "").strip() or None
            language = (attrs.get("language") or "").strip().lower() or None
            found[url] = Subscription(url, title, language)

    def refuse(*_: object) -> None:
        raise _Refused("OPML with a DOCTYPE is refused")

    def refuse_external(context: str, base: str | None, system_id: str | None, public_id: str | None) -> int:
        raise _Refused(f"OPML with an external entity ({system_id}) is refused")

    parser = expat.ParserCreate()
    parser.StartElementHandler = start
    parser.StartDoctypeDeclHandler = refuse
    parser.EntityDeclHandler = refuse
    # External entities are never fetched: expat only calls this handler, which refuses.
    parser.ExternalEntityRefHandler = refuse_external
    try:
        parser.Parse(content, True)
    except _Refused as exc:
        raise ParseError(str(exc)) from None
    except expat.ExpatError as exc:
        raise ParseError(f"not well-formed OPML: {exc}") from None
    if seen_root and seen_root[0].lower() != "opml":
        raise ParseError(f"not OPML: root element <{seen_root[0]}>")
    return list(found.values())


def render_opml(subscriptions: list[Subscription], title: str = "podarchive feeds") -> bytes:
    """An OPML 2.0 document listing the subscriptions (language kept as an extra attribute)."""
    root = ET.Element("opml", version="2.0")
    head = ET.SubElement(root, "head")
    ET.SubElement(head, "title").text = title
    body = ET.SubElement(root, "body")
    for sub in subscriptions:
        attrs = {"type": "rss", "text": sub.title or sub.url, "xmlUrl": sub.url}
        if sub.title:
            attrs["title"] = sub.title
        if sub.language:
            attrs["language"] = sub.language
        ET.SubElement(body, "outline", attrs)
    ET.indent(root)
    # typeshed types tostring with a named encoding as Any; "utf-8" gives bytes.
    document: bytes = ET.tostring(root, encoding="utf-8", xml_declaration=True)
    return document + b"\n"
