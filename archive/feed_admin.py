"""Operator tasks on the watched feeds: OPML import/export and readable health lines."""

from __future__ import annotations

from datetime import datetime

from archive import feed_store
from archive.context import Archive
from feeds.opml import Subscription, parse_opml, render_opml


def import_opml(archive: Archive, content: bytes, language: str | None = None) -> tuple[int, int]:
    """Add every feed of an OPML document; returns (added, already watched). Raises ParseError."""
    subscriptions = parse_opml(content)
    added = skipped = 0
    with archive.db.session() as s:
        known = {f.url for f in feed_store.list_feeds(s)}
        for sub in subscriptions:
            if sub.url in known:
                skipped += 1
                continue
            if not sub.url.lower().startswith(("http://", "https://")):
                # The fetch guard would refuse it on every poll; better said now.
                skipped += 1
                continue
            feed_store.add_feed(s, sub.url, sub.language or language)
            known.add(sub.url)
            added += 1
    return added, skipped


def export_opml(archive: Archive) -> bytes:
    """Every watched feed as OPML 2.0 (gone feeds included: the list is the subscription record)."""
    with archive.db.session() as s:
        subs = [Subscription(f.url, f.title or None, f.language) for f in feed_store.list_feeds(s)]
    return render_opml(subs)


def describe_health(row: feed_store.FeedHealth, now: datetime) -> str:
    """One or two readable lines about a feed's health for `podarchive feeds list`."""
    language = row.language or "auto"
    if row.language_hint and row.language_hint != row.language:
        # The channel's <language> is a hint only; show it so a wrong setting stands out.
        language += f" (feed says {row.language_hint})"
    head = f"{row.id:>4}  {row.title or '(no title yet)'}  <{row.url}>  language {language}"
    if row.status == feed_store.FEED_GONE:
        state = "GONE (HTTP 410): no longer polled"
    elif row.error_count:
        state = f"FAILING x{row.error_count}"
    else:
        state = "ok"
    parts = [
        state,
        f"last success {_when(row.last_success_at, now)}",
        f"next poll {_next_poll(row, now)}",
        f"{row.episodes} episodes" + (f", {row.flagged} flagged" if row.flagged else ""),
    ]
    text = f"{head}\n      " + " | ".join(parts)
    if row.last_error:
        # After a success the text holds parse warnings (bozo feed, page limit), not a failure.
        label = "last error" if row.error_count or row.status == feed_store.FEED_GONE else "warnings"
        text += f"\n      {label}: {row.last_error[:300]}"
    return text


def _next_poll(row: feed_store.FeedHealth, now: datetime) -> str:
    if row.status == feed_store.FEED_GONE:
        return "never"
    if row.next_poll_at is None or row.next_poll_at <= now:
        return "due now"
    return _when(row.next_poll_at, now)


def _when(moment: datetime | None, now: datetime) -> str:
    """A UTC time with a rough 'ago'/'in' for people reading a terminal."""
    if moment is None:
        return "never"
    seconds = (moment - now).total_seconds()
    span = abs(seconds)
    if span < 90:
        rough = f"{span:.0f} s"
    elif span < 5400:
        rough = f"{span / 60:.0f} min"
    elif span < 172800:
        rough = f"{span / 3600:.1f} h"
    else:
        rough = f"{span / 86400:.0f} d"
    relative = f"in {rough}" if seconds > 0 else f"{rough} ago"
    return f"{moment:%Y-%m-%d %H:%M} UTC ({relative})"
