"""Shows (watched feeds) as readers see them: the home page's cards and one show's page."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from archive.store.schema import Episode, Feed
from feeds.text import plain_text


@dataclass(frozen=True)
class ShowCard:
    """A show as listed on the home page."""

    id: int
    title: str
    description_html: str
    image: str | None
    language: str | None
    episodes: int
    latest: datetime | None

    @property
    def description_text(self) -> str:
        """The show's description as plain text."""
        return plain_text(self.description_html)


@dataclass(frozen=True)
class ShowView:
    """One show as its page and its outgoing feed show it."""

    id: int
    url: str
    title: str
    link: str | None
    description_html: str
    image: str | None
    language: str | None
    # Whether the show lets readers see machine transcripts (editors' published text always shows).
    publishes_transcripts: bool

    @property
    def title_text(self) -> str:
        """The title as plain text (feeds put markup in titles too)."""
        return plain_text(self.title)

    @property
    def description_text(self) -> str:
        """The show's description as plain text."""
        return plain_text(self.description_html)


def shows(session: Session) -> list[ShowCard]:
    """Every show with its episode count and newest date, newest first."""
    rows = session.execute(
        select(Feed, func.count(Episode.id), func.max(Episode.published_at))
        .outerjoin(Episode, Episode.feed_id == Feed.id)
        .group_by(Feed.id)
        .order_by(func.max(Episode.published_at).desc().nulls_last(), Feed.id)
    )
    return [
        ShowCard(f.id, f.title or f.url, f.description_html, f.image, f.language or f.language_hint, n, latest)
        for f, n, latest in rows
    ]


def show(session: Session, feed_id: int) -> ShowView | None:
    """One show; None when there is no such feed."""
    f = session.get(Feed, feed_id)
    if f is None:
        return None
    return ShowView(
        f.id, f.url, f.title, f.link, f.description_html, f.image, f.language or f.language_hint, f.publish_transcripts
    )
