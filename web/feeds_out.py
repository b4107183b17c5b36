"""Outgoing RSS per show: the episodes mirrored with <podcast:transcript> links to our files."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from email.utils import format_datetime

import nh3
from flask import Blueprint, Response, abort, url_for

from archive import public
from web.context import archive

bp = Blueprint("feeds_out", __name__)

PODCAST_NS = "https://podcastindex.org/namespace/1.0"
ITUNES_NS = "http://www.itunes.com/dtds/podcast-1.0.dtd"
ET.register_namespace("podcast", PODCAST_NS)
ET.register_namespace("itunes", ITUNES_NS)


def _web_url(value: str | None) -> str | None:
    """Only http(s) links leave through our feed; javascript: and friends stay out."""
    if value and value.strip().lower().startswith(("http://", "https://")):
        return value.strip()
    return None


def _text(parent: ET.Element, tag: str, value: str | None, **attrs: str) -> ET.Element:
    el = ET.SubElement(parent, tag, attrs)
    if value is not None:
        el.text = value
    return el


@bp.get("/shows/<int:feed_id>/feed.xml")
def show_feed(feed_id: int):  # type: ignore[no-untyped-def]
    """RSS 2.0 for one show, carrying our transcripts (VTT and Podcast Index JSON)."""
    with archive().db.session() as s:
        feed = public.show(s, feed_id)
        if feed is None:
            abort(404)
        items = public.feed_items(s, feed_id)
        rss = ET.Element("rss", {"version": "2.0"})
        channel = ET.SubElement(rss, "channel")
        _text(channel, "title", feed.title_text or feed.url)
        _text(channel, "link", url_for("public.show", feed_id=feed_id, _external=True))
        _text(channel, "description", feed.description_text)
        if feed.language:
            _text(channel, "language", feed.language)
        if _web_url(feed.image):
            _text(channel, f"{{{ITUNES_NS}}}image", None, href=_web_url(feed.image) or "")
        for entry in items:
            ep, language = entry.episode, entry.transcript_language
            item = ET.SubElement(channel, "item")
            _text(item, "title", ep.title_text)
            _text(item, "guid", ep.guid, isPermaLink="false")
            _text(item, "link", url_for("public.episode", episode_id=ep.id, _external=True))
            _text(item, "description", nh3.clean(ep.description_html or "", link_rel="noopener noreferrer"))
            if ep.published_at:
                _text(item, "pubDate", format_datetime(ep.published_at))
            enclosure = _web_url(ep.enclosure_url)
            if enclosure:
                _text(
                    item,
                    "enclosure",
                    None,
                    url=enclosure,
                    type=ep.enclosure_type or "audio/mpeg",
                    length=str(ep.enclosure_length or 0),
                )
            if ep.duration:
                _text(item, f"{{{ITUNES_NS}}}duration", str(int(ep.duration)))
            # The show's own chapters file, mirrored as the feed gave it (http(s) only).
            if _web_url(ep.chapters_url):
                _text(
                    item,
                    f"{{{PODCAST_NS}}}chapters",
                    None,
                    url=_web_url(ep.chapters_url) or "",
                    type="application/json+chapters",
                )
            # Only transcripts readers may see (public.feed_items asked the visibility rule).
            if language is None:
                continue
            for fmt, mime, rel in (("vtt", "text/vtt", "captions"), ("json", "application/json", None)):
                attrs = {
                    "url": url_for("transcripts.download", episode_id=ep.id, fmt=fmt, _external=True),
                    "type": mime,
                    "language": language,
                }
                if rel:
                    attrs["rel"] = rel
                _text(item, f"{{{PODCAST_NS}}}transcript", None, **attrs)
    body = ET.tostring(rss, encoding="utf-8", xml_declaration=True)
    response = Response(body, headers={"Content-Type": "application/rss+xml; charset=utf-8"})
    response.headers["Access-Control-Allow-Origin"] = "*"
    response.headers["Cache-Control"] = "public, max-age=300"
    return response
