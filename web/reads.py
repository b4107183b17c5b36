"""What the read API and the MCP tools answer: archive.public read models and the search index, as payloads.

Both call these with an Archive and the site's Links; neither reads rows or decides
visibility. Search failures arrive as archive.search.SearchUnavailable.
"""

from __future__ import annotations

from archive import public
from archive.context import Archive
from archive.search import MAX_OFFSET
from web import payloads
from web.payloads import Links
from web.search import EPISODE_MATCHES, SearchRequest

MAX_LIMIT = 50
# A two-hour interview has over a thousand passages: an answer holds this many, then says where to go on.
MAX_PASSAGES = 300


def search(
    archive: Archive, req: SearchRequest, limit: int, links: Links, *, words: bool = True
) -> payloads.SearchResult:
    """One page of passages for a query with its filters, by words and meaning (`req.mode` "words":
    words only; `words=False`: meaning only); on page 1 the matching episodes too."""
    limit = max(1, min(limit, MAX_LIMIT))
    # Deeper pages than the index's offset cap would silently repeat the last one.
    page_no = min(req.page_no, MAX_OFFSET // limit + 1)
    page = archive.search.search(
        req.query,
        limit=limit,
        offset=(page_no - 1) * limit,
        filters=req.filters,
        facets=True,
        meaning=req.meaning,
        words=words,
    )
    episodes = []
    if page_no == 1 and req.filters.episode_id is None:
        episodes = archive.search.search_episodes(req.query, limit=EPISODE_MATCHES, filters=req.filters)
    return payloads.SearchResult(
        query=req.query,
        page=page_no,
        limit=limit,
        total=page.total,
        passages=[payloads.search_passage(links, h) for h in page.hits],
        facets=page.facets,
        episodes=[payloads.search_episode(links, e) for e in episodes],
        meaning=page.meaning,
        shortened=req.shortened,
        nothing_to_search=page.nothing_to_search,
    )


def shows(archive: Archive, links: Links) -> payloads.ShowList:
    """Every show."""
    with archive.db.session() as s:
        cards = public.shows(s)
    return payloads.ShowList(shows=[payloads.show(links, c) for c in cards])


def show(archive: Archive, feed_id: int, links: Links, limit: int = 200) -> payloads.ShowDetail | None:
    """One show and its newest episodes; None when there is no such show."""
    with archive.db.session() as s:
        card = next((c for c in public.shows(s) if c.id == feed_id), None)
        if card is None:
            return None
        episodes = public.show_episodes(s, feed_id, limit=max(1, min(limit, 500)))
    return payloads.ShowDetail(
        show=payloads.show(links, card), episodes=[payloads.episode_summary(links, e) for e in episodes]
    )


def recent_episodes(
    archive: Archive, links: Links, limit: int = 20, feed_id: int | None = None, transcribed: bool = False
) -> payloads.EpisodeList:
    """The newest episodes, of one show or all; `transcribed`: only those readers can read."""
    with archive.db.session() as s:
        cards = public.recent_episodes(s, max(1, min(limit, 100)), feed_id, readable_only=transcribed)
    return payloads.EpisodeList(episodes=[payloads.episode_summary(links, c) for c in cards])


def episode(archive: Archive, episode_id: int, links: Links) -> payloads.Episode | None:
    """One episode as its page shows it; None when there is no such episode."""
    with archive.db.session() as s:
        ep = public.episode(s, episode_id)
        if ep is None:
            return None
        feed = public.show(s, ep.feed_id)
        transcript = public.transcript_view(s, episode_id)
        people = public.episode_people(s, episode_id)
        chapters = public.episode_chapters(s, episode_id)
    info = None
    if transcript is not None:
        info = payloads.TranscriptInfo(
            kind=transcript.kind,
            language=transcript.language,
            duration=round(transcript.duration, 2),
            downloads={
                fmt: links.absolute(f"{links.episode_path(episode_id)}/transcript.{fmt}") for fmt in public.FORMATS
            },
        )
    ref = payloads.episode_ref(links, ep, feed.title_text if feed else "")
    return payloads.Episode(
        id=ep.id,
        title=ref["title"],
        show_id=ep.feed_id,
        show=ref["show"],
        published=ref["published"],
        published_at=ref["published_at"],
        duration=ep.duration,
        has_transcript=transcript is not None,
        link=ref["link"],
        description=ep.description_text,
        people=[payloads.Person(name=n, role=r) for n, r in people],
        chapters=[
            payloads.Chapter(start=c.start, title=c.title, link=links.moment(episode_id, c.start)) for c in chapters
        ],
        transcript=info,
    )


def transcript(
    archive: Archive, episode_id: int, links: Links, start: float | None = None, end: float | None = None
) -> payloads.Transcript | None:
    """The passages readers may see between start and end (seconds; whole when omitted); None when none."""
    with archive.db.session() as s:
        ep = public.episode(s, episode_id)
        view = public.transcript_view(s, episode_id) if ep is not None else None
        if ep is None or view is None:
            return None
        feed = public.show(s, ep.feed_id)
        passages = public.transcript_passages(s, view)
    lo = max(0.0, start or 0.0)
    hi = end if end is not None else float("inf")
    chosen = [p for p in passages if p.end > lo and p.start < hi]
    rest = chosen[MAX_PASSAGES:]
    chosen = chosen[:MAX_PASSAGES]
    ref = payloads.episode_ref(links, ep, feed.title_text if feed else "")
    answered_end = rest[0].start if rest else min(hi, max((p.end for p in passages), default=lo))
    return payloads.Transcript(
        episode=ref,
        kind=view.kind,
        language=view.language,
        start=round(lo, 2),
        end=round(answered_end, 2),
        passages=[payloads.transcript_passage(links, ref, p) for p in chosen],
        next_start=round(rest[0].start, 2) if rest else None,
    )


def speakers(archive: Archive, links: Links, limit: int = 100) -> payloads.SpeakerList:
    """Named voices and credits readers can see."""
    with archive.db.session() as s:
        named = public.speakers(s, limit=max(1, min(limit, 500)))
    return payloads.SpeakerList(speakers=[payloads.speaker(links, n, c) for n, c in named])
