"""Operator tasks on the watched feeds: OPML import/export and readable health lines."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy.orm import Session

import feeds
from archive import store
from archive.context import Archive
from archive.store.schema import Feed
from feeds.opml import Subscription, parse_opml, render_opml
from transcribe.labels import MAX_SPEAKERS

# Whisper's language codes: two letters, three for a few (haw, yue).
_LANGUAGE = re.compile(r"[a-z]{2,3}")


class FeedSettingsError(Exception):
    """No such feed, or a setting value it cannot take."""


class FeedURLError(Exception):
    """A feed URL that cannot be watched: unusable, or already watched under another spelling."""


@dataclass
class OpmlImport:
    """What an OPML import did: feeds added, already watched, and those skipped with the reason."""

    added: int = 0
    already: int = 0
    refused: list[tuple[str, str]] = field(default_factory=list)
    over_limit: list[str] = field(default_factory=list)


def add_show(archive: Archive, url: str, language: str | None = None) -> Feed:
    """Watch the feed at url, checked and normalised first; raises FeedURLError."""
    try:
        with archive.db.session() as s:
            feed = _add(archive, s, url, language, _known(s))
            if isinstance(feed, str):
                raise FeedURLError(feed)
            return feed
    except store.StoreError as exc:  # added by another process meanwhile
        raise FeedURLError(str(exc)) from exc


def watch_show(archive: Archive, session: Session, url: str, language: str | None = None) -> tuple[int, bool]:
    """(feed id, whether it is new) for the feed at url, checked and normalised as add_show does.

    A feed already watched under any spelling is found, not refused. Raises FeedURLError.
    """
    known = _known(session)
    try:
        normal = feeds.normalise_feed_url(url)
    except feeds.BlockedURL as exc:
        raise FeedURLError(str(exc)) from exc
    if normal in known:
        return known[normal], False
    feed = _add(archive, session, url, language, known)
    if isinstance(feed, str):
        raise FeedURLError(feed)
    return feed.id, True


def import_opml(archive: Archive, content: bytes, language: str | None = None) -> OpmlImport:
    """Add the feeds of an OPML document, at most max_opml_feeds new ones. Raises ParseError (StoreError in a race)."""
    subscriptions = parse_opml(content)
    result = OpmlImport()
    limit = archive.settings.max_opml_feeds
    with archive.db.session() as s:
        known = _known(s)
        for sub in subscriptions:
            try:
                if feeds.normalise_feed_url(sub.url) in known:
                    result.already += 1
                    continue
            except feeds.BlockedURL:
                pass  # _add says why
            if result.added >= limit:
                result.over_limit.append(sub.url)
                continue
            added = _add(archive, s, sub.url, sub.language or language, known)
            if isinstance(added, str):
                result.refused.append((sub.url, added))
            else:
                result.added += 1
    return result


def _known(session: Session) -> dict[str, int]:
    """Watched feeds by normalised URL (rows from before normalisation included)."""
    known = {}
    for f in store.list_feeds(session):
        try:
            known[feeds.normalise_feed_url(f.url)] = f.id
        except feeds.BlockedURL:
            known[f.url] = f.id
    return known


def _add(archive: Archive, session: Session, url: str, language: str | None, known: dict[str, int]) -> Feed | str:
    """The new feed, or why it cannot be added; known gains it."""
    try:
        normal = feeds.normalise_feed_url(url)
        # A literal private address the allow-list does not open would fail every poll.
        feeds.check_url(normal, archive.fetch_policy)
    except feeds.BlockedURL as exc:
        return str(exc)
    if normal in known:
        return f"already watched as feed {known[normal]}: {normal}"
    feed = store.add_feed(session, normal, language)
    known[normal] = feed.id
    return feed


def export_opml(archive: Archive) -> bytes:
    """Every watched feed as OPML 2.0 (gone feeds included: the list is the subscription record)."""
    with archive.db.session() as s:
        subs = [Subscription(f.url, f.title or None, f.language) for f in store.list_feeds(s)]
    return render_opml(subs)


def change_feed_settings(
    session: Session,
    feed_id: int,
    *,
    language: str | None = None,
    publish_transcripts: bool | None = None,
    prefer_asr: bool | None = None,
    speakers: str | None = None,
) -> list[str]:
    """Apply the per-show settings given (None: leave; language or speakers "auto": detect); one line per change."""
    feed = session.get(Feed, feed_id)
    if feed is None:
        raise FeedSettingsError(f"no feed {feed_id} (see `podarchive feeds list`)")
    changes = []
    if language is not None:
        wanted = language.strip().lower()
        if wanted != "auto" and not _LANGUAGE.fullmatch(wanted):
            raise FeedSettingsError(f"language {language!r}: give a code such as fr or en, or auto to detect")
        new = None if wanted == "auto" else wanted
        if new != feed.language:
            old, feed.language = feed.language, new
            # The episode index shows the show's language for episodes without their own.
            queued = store.queue_feed_episodes(session, feed.id)
            changes.append(
                f"language: {old or 'auto'} -> {new or 'auto'} "
                f"(for episodes transcribed from now on; {queued} queued for the search index)"
            )
    if publish_transcripts is not None and publish_transcripts != feed.publish_transcripts:
        queued = store.set_feed_publishing(session, feed.id, publish_transcripts)
        changes.append(
            f"publish_transcripts: {_yes(not publish_transcripts)} -> {_yes(publish_transcripts)} "
            f"({queued} episodes queued for the search index)"
        )
    if prefer_asr is not None and prefer_asr != feed.prefer_asr:
        feed.prefer_asr = prefer_asr
        changes.append(
            f"prefer_asr: {_yes(not prefer_asr)} -> {_yes(prefer_asr)} (for episodes transcribed from now on)"
        )
    if speakers is not None:
        count = _speaker_count(speakers)
        if count != feed.speakers:
            before, feed.speakers = feed.speakers, count
            changes.append(f"speakers: {before or 'auto'} -> {count or 'auto'} (for episodes transcribed from now on)")
    session.flush()
    return changes


def _speaker_count(value: str) -> int | None:
    """A show's speaker hint: "auto" (None) or 1 to MAX_SPEAKERS; FeedSettingsError otherwise."""
    wanted = value.strip().lower()
    if wanted == "auto":
        return None
    if not wanted.isdigit() or not 1 <= int(wanted) <= MAX_SPEAKERS:
        raise FeedSettingsError(f"speakers {value!r}: give a number from 1 to {MAX_SPEAKERS}, or auto to estimate")
    return int(wanted)


def _yes(value: bool) -> str:
    return "yes" if value else "no"


def describe_health(row: store.FeedHealth, now: datetime) -> str:
    """One or two readable lines about a feed's health for `podarchive feeds list`."""
    language = row.language or "auto"
    if row.language_hint and row.language_hint != row.language:
        # The channel's <language> is a hint only; show it so a wrong setting stands out.
        language += f" (feed says {row.language_hint})"
    head = f"{row.id:>4}  {row.title or '(no title yet)'}  <{row.url}>  language {language}"
    if row.status == store.FEED_GONE:
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
        label = "last error" if row.error_count or row.status == store.FEED_GONE else "warnings"
        text += f"\n      {label}: {row.last_error[:300]}"
    return text


def _next_poll(row: store.FeedHealth, now: datetime) -> str:
    if row.status == store.FEED_GONE:
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
