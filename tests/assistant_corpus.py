"""For the MCP and API tests: a small indexed archive (a French interview, a draft, an unpublished show, a token),
the site on loopback, and MCP clients over HTTP."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import httpx2
from mcp import Client
from mcp.client.streamable_http import streamable_http_client
from werkzeug.serving import make_server

from archive import store
from archive.config import Settings
from archive.context import Archive
from archive.editorial import accounts, tokens
from archive.editorial import workflow as editing
from archive.ingest import embed_passages, index_episodes
from feeds import parse_feed
from tests.web_corpus import feed_xml, transcript
from web import create_app

PUBLIC_URL = "https://archive.example.org"
EDITOR = "ed@example.org"
# Words that exist only where readers must never look: a draft, and an unpublished show's machine text.
DRAFT_WORD = "zorglub"
HIDDEN_WORD = "cachalot"


@dataclass
class Corpus:
    settings: Settings
    tiger: int  # the French interview: "le rugissement du tigre" at 5 s, passage 1
    drafted: int  # machine text public, an editor's draft revision over it
    hidden: int  # a show that does not publish machine transcripts
    show: int
    hidden_show: int
    token: str


def _show(archive: Archive, url: str, title: str, items: list[dict[str, str]]) -> tuple[int, dict[str, int]]:
    with archive.db.session() as s:
        feed = store.add_feed(s, url, "fr")
        store.record_feed_parsed(
            s,
            feed,
            parse_feed(feed_xml(items, title), url),
            etag=None,
            last_modified=None,
            now=store.now(),
            poll_interval=timedelta(hours=1),
        )
        return feed.id, {e.guid: e.id for e in store.feed_episodes(s, feed.id)}


def build(settings: Settings) -> Corpus:
    """Store two shows, their transcripts and an editor with a token, then index what readers may see."""
    archive = Archive(settings)
    show, ids = _show(
        archive,
        "https://magazine.example/balado.xml",
        "Le balado du magazine",
        [
            {
                "title": "Entrevue : le tigre",
                "guid": "tigre",
                "extra": '<podcast:person role="guest">Gilles Vigneault</podcast:person>',
            },
            {"title": "Les baleines du fleuve", "guid": "baleines", "date": "Tue, 10 Nov 2026 09:00:00 -0500"},
        ],
    )
    hidden_show, hidden_ids = _show(
        archive,
        "https://coulisses.example/feed.xml",
        "Coulisses",
        [{"title": "Dans les coulisses", "guid": "coulisses"}],
    )
    texts = {
        ids["tigre"]: [
            ("Animatrice", "Bonjour et bienvenue à l'émission"),
            ("Gilles Vigneault", "Le rugissement du tigre résonne dans la forêt"),
            ("Animatrice", "Merci beaucoup pour ce témoignage"),
        ],
        ids["baleines"]: [(None, "Une entrevue sur les baleines du fleuve")],
        hidden_ids["coulisses"]: [(None, f"Le {HIDDEN_WORD} secret des coulisses")],
    }
    with archive.db.session() as s:
        s.get(store.Feed, hidden_show).publish_transcripts = False  # type: ignore[union-attr]
        for episode_id, lines in texts.items():
            episode = store.get_episode(s, episode_id)
            assert episode is not None
            store.save_transcript(s, episode, transcript(lines), seconds_taken=1.0)
        accounts.add_user(s, EDITOR, "correct horse battery", role="editor", name="Ed Itor")
        token, _ = tokens.create_token(s, EDITOR, "tests")
    with archive.db.session() as s:
        editor = accounts.get_by_email(s, EDITOR)
        editing.edit_passage(s, ids["baleines"], 0, 0, editor, text=f"Une entrevue sur les {DRAFT_WORD} du fleuve")
    embed_passages(archive)  # vectors for search by meaning, as `podarchive ingest` runs it
    assert index_episodes(archive).done == 3
    return Corpus(settings, ids["tigre"], ids["baleines"], hidden_ids["coulisses"], show, hidden_show, token)


@contextmanager
def site(corpus: Corpus, **config: Any) -> Iterator[tuple[Any, str]]:
    """The real site on a loopback port; yields (app, the /mcp URL)."""
    app = create_app(corpus.settings)
    app.config.update(config)
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield app, f"http://127.0.0.1:{server.server_port}/mcp"
    finally:
        server.shutdown()
        server.server_close()
        app.extensions["podarchive.mcp"].close()


class http:  # lower case: it reads as a call, `async with http(url, token) as client`
    """An MCP client session over /mcp (an httpx2 client under the SDK's Client), the token as a bearer header."""

    def __init__(self, url: str, token: str | None = None, mode: str = "auto") -> None:
        self.url, self.mode = url, mode
        self.headers = {"Authorization": f"Bearer {token}"} if token is not None else {}

    async def __aenter__(self) -> Client:
        self.http = httpx2.AsyncClient(headers=self.headers, timeout=httpx2.Timeout(30.0, read=120.0))
        await self.http.__aenter__()
        self.client = Client(streamable_http_client(self.url, http_client=self.http), mode=self.mode)  # type: ignore[arg-type]
        return await self.client.__aenter__()

    async def __aexit__(self, *exc: Any) -> None:
        try:
            await self.client.__aexit__(*exc)
        finally:
            await self.http.__aexit__(*exc)


def text_of(result: Any) -> str:
    return " ".join(getattr(c, "text", "") for c in result.content)
