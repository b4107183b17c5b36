"""The MCP server through the SDK's own client, over stdio (`python -m archive.cli mcp`) and over HTTP (/mcp)."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import anyio
import httpx2
import pytest
from mcp import Client, MCPError, StdioServerParameters

from archive.context import Archive
from archive.editorial import tokens
from tests.assistant_corpus import DRAFT_WORD, EDITOR, HIDDEN_WORD, PUBLIC_URL, Corpus, build, http, site, text_of
from tests.conftest import settings_env
from tests.loopback import free_port, wait_healthy

ROOT = Path(__file__).parent.parent
READS = {"search", "get_episode", "get_transcript", "list_shows", "recent_episodes", "list_speakers"}
WRITES = {"add_feed", "queue_episode", "correct_passage"}


@pytest.fixture
def corpus(make_settings: Callable[..., Any]) -> Corpus:
    return build(make_settings(public_url=PUBLIC_URL))


def run(check: Callable[[], Awaitable[None]]) -> None:
    anyio.run(check)


def stdio(corpus: Corpus, token: str | None = None) -> StdioServerParameters:
    env = settings_env(corpus.settings)
    if token is not None:
        env["PODARCHIVE_MCP_TOKEN"] = token
    return StdioServerParameters(command=sys.executable, args=["-m", "archive.cli", "mcp"], env=env, cwd=str(ROOT))


async def reader_checks(client: Client, corpus: Corpus) -> None:
    """What every connection without a token sees: read tools only, readers' text only, moments linked."""
    assert {t.name for t in (await client.list_tools()).tools} == READS

    found = await client.call_tool("search", {"query": "rugissement du tigre"})
    assert not found.is_error, text_of(found)
    answer = found.structured_content
    # By words and meaning, as the site searches; the exact words make it found by both.
    assert answer["mode"] == "hybrid" and answer["note"] is None and answer["meaning"] == "on"
    hit = answer["passages"][0]
    assert hit["found"] == "both"
    assert hit["episode"]["id"] == corpus.tiger and hit["episode"]["show"] == "Le balado du magazine"
    assert (hit["start"], hit["end"], hit["position"]) == (5.0, 10.0, 1)
    assert hit["speaker"] == "Gilles Vigneault" and hit["language"] == "fr"
    assert hit["text"] == "Le rugissement du tigre résonne dans la forêt"
    assert hit["link"] == f"{PUBLIC_URL}/episodes/{corpus.tiger}?t=5.00#p-1"
    # Typed without accents, with a filter, by words only.
    found = await client.call_tool("search", {"query": "foret", "speaker": "Gilles Vigneault", "mode": "words"})
    answer = found.structured_content
    assert [p["position"] for p in answer["passages"]] == [1]
    assert answer["mode"] == "words" and answer["note"] is None and answer["meaning"] == "off"
    assert {p["found"] for p in answer["passages"]} == {"words"}
    # One letter has nothing to mean: answered by words, and said so.
    found = await client.call_tool("search", {"query": "a", "mode": "meaning"})
    answer = found.structured_content
    assert answer["mode"] == "words" and "nothing to search by meaning" in answer["note"]
    found = await client.call_tool("search", {"query": "foret", "language": "en"})
    assert found.structured_content["passages"] == []

    # Never a draft, never an unpublished show's machine text.
    for word in (DRAFT_WORD, HIDDEN_WORD):
        found = await client.call_tool("search", {"query": word})
        assert found.structured_content["total"] == 0 and found.structured_content["passages"] == [], word
    drafted = await client.call_tool("get_transcript", {"episode_id": corpus.drafted})
    said = json.dumps(drafted.structured_content, ensure_ascii=False)
    assert "baleines" in said and DRAFT_WORD not in said
    hidden = await client.call_tool("get_transcript", {"episode_id": corpus.hidden})
    assert hidden.is_error and HIDDEN_WORD not in text_of(hidden)
    episode = await client.call_tool("get_episode", {"episode_id": corpus.hidden})
    assert episode.structured_content["transcript"] is None and not episode.structured_content["has_transcript"]

    # A time range, with speakers and moment links.
    ranged = await client.call_tool("get_transcript", {"episode_id": corpus.tiger, "start": 4, "end": 9})
    part = ranged.structured_content
    assert [(p["position"], p["speaker"]) for p in part["passages"]] == [(0, "Animatrice"), (1, "Gilles Vigneault")]
    assert part["passages"][0]["link"] == f"{PUBLIC_URL}/episodes/{corpus.tiger}?t=0.00#p-0"

    shows = (await client.call_tool("list_shows", {})).structured_content["shows"]
    assert {s["title"] for s in shows} == {"Le balado du magazine", "Coulisses"}
    recent = (await client.call_tool("recent_episodes", {"transcribed": True})).structured_content["episodes"]
    assert {e["id"] for e in recent} == {corpus.tiger, corpus.drafted}
    speakers = (await client.call_tool("list_speakers", {})).structured_content["speakers"]
    assert {"name": "Gilles Vigneault", "episodes": 1, "link": f"{PUBLIC_URL}/speakers/Gilles%20Vigneault"} in speakers

    templates = {t.uri_template for t in (await client.list_resource_templates()).resource_templates}
    assert {"podarchive://shows/{show_id}", "podarchive://episodes/{episode_id}"} <= templates
    read = await client.read_resource(f"podarchive://episodes/{corpus.tiger}/transcript")
    assert "rugissement" in read.contents[0].text  # type: ignore[union-attr]
    read = await client.read_resource(f"podarchive://shows/{corpus.hidden_show}")
    shown = json.loads(read.contents[0].text)  # type: ignore[union-attr]
    assert shown["show"]["title"] == "Coulisses" and [e["has_transcript"] for e in shown["episodes"]] == [False]

    refused = await client.call_tool("correct_passage", {"episode_id": corpus.tiger, "position": 1, "text": "x"})
    assert refused.is_error

    # Ids past the INTEGER columns (PostgreSQL refuses them) or below 1: the call's own error.
    for tool, bad in (("get_episode", 2**31), ("get_transcript", 2**63), ("get_episode", 0)):
        answer = await client.call_tool(tool, {"episode_id": bad})
        assert answer.is_error and "episode_id" in text_of(answer), (tool, bad, text_of(answer))
    answer = await client.call_tool("recent_episodes", {"show_id": 2**31})
    assert answer.is_error and "show_id" in text_of(answer), text_of(answer)
    for uri in (f"podarchive://episodes/{2**40}", f"podarchive://shows/{2**31}", "podarchive://episodes/0/transcript"):
        with pytest.raises(MCPError, match="no episode|no show|has no transcript"):
            await client.read_resource(uri)


async def editor_checks(client: Client, corpus: Corpus) -> None:
    """With an editor's token: the write tools too; a correction is a draft, which readers still never get."""
    assert {t.name for t in (await client.list_tools()).tools} == READS | WRITES
    done = await client.call_tool(
        "correct_passage", {"episode_id": corpus.tiger, "position": 1, "text": f"Le {DRAFT_WORD} du tigre"}
    )
    assert not done.is_error, text_of(done)
    assert done.structured_content["revision"] == 1 and "draft" in done.structured_content["note"]
    assert (await client.call_tool("search", {"query": DRAFT_WORD})).structured_content["total"] == 0
    said = (await client.call_tool("get_transcript", {"episode_id": corpus.tiger})).structured_content
    assert DRAFT_WORD not in json.dumps(said) and "rugissement" in json.dumps(said, ensure_ascii=False)

    added = await client.call_tool("add_feed", {"url": "https://new.example/feed.xml", "language": "fr"})
    assert added.structured_content["added"] is True
    bad = await client.call_tool("add_feed", {"url": "file:///etc/passwd"})
    assert bad.is_error
    beyond = await client.call_tool("correct_passage", {"episode_id": corpus.tiger, "position": 2**31, "text": "x"})
    assert beyond.is_error and "position" in text_of(beyond), text_of(beyond)
    queued = await client.call_tool("queue_episode", {"episode_id": corpus.tiger})
    assert queued.structured_content["stage"] is None  # transcribed already


def test_stdio_reader_sees_what_readers_see_and_no_write_tool(corpus: Corpus) -> None:
    async def check() -> None:
        async with Client(stdio(corpus)) as client:
            await reader_checks(client, corpus)

    run(check)


def test_stdio_write_tools_need_a_valid_token(corpus: Corpus) -> None:
    async def check() -> None:
        async with Client(stdio(corpus, corpus.token)) as client:
            await editor_checks(client, corpus)

    run(check)
    with Archive(corpus.settings).db.session() as s:
        assert [t.email for t in tokens.list_tokens(s)] == [EDITOR]


@pytest.mark.parametrize("mode", ["auto", "legacy"])
def test_http_reader_and_editor(corpus: Corpus, mode: str) -> None:
    with site(corpus, SEARCH_RATE_BURST=1000) as (_, url):

        async def check() -> None:
            # Legacy: the initialize handshake of clients before the 2026-07-28 protocol.
            era = "2025-11-25" if mode == "legacy" else "2026-07-28"
            async with http(url, mode=mode) as client:
                assert client.protocol_version == era
                await reader_checks(client, corpus)
            async with http(url, corpus.token, mode=mode) as client:
                await editor_checks(client, corpus)

        run(check)


def test_http_wrong_token_is_refused_before_any_tool(corpus: Corpus) -> None:
    with site(corpus) as (_, url):
        wrong = httpx2.post(
            url,
            json={"jsonrpc": "2.0", "id": 1, "method": "tools/list"},
            headers={"Authorization": "Bearer pa_not-a-token", "Accept": "application/json, text/event-stream"},
        )
        assert wrong.status_code == 401 and "Bearer" in wrong.headers["www-authenticate"]

        async def check() -> None:
            with pytest.raises(ExceptionGroup) as refused:
                async with http(url, "pa_not-a-token") as client:
                    await client.list_tools()
            assert refused.group_contains(MCPError, depth=None)

        run(check)


def test_http_tools_share_the_api_rate_limit(corpus: Corpus) -> None:
    with site(corpus, SEARCH_RATE_BURST=3, SEARCH_RATE_PER_S=0.01) as (_, url):

        async def check() -> None:
            async with http(url) as client:
                answers = [await client.call_tool("list_shows", {}) for _ in range(3)]
                assert not any(a.is_error for a in answers)
                limited = await client.call_tool("search", {"query": "tigre"})
                assert limited.is_error and "too many requests" in text_of(limited)

        run(check)
        # The same budget as /api/search: this client has spent it.
        base = url.removesuffix("/mcp")
        assert httpx2.get(f"{base}/api/search", params={"q": "tigre"}).status_code == 429


@pytest.mark.slow
def test_http_under_gunicorn_any_worker_answers_any_request(corpus: Corpus) -> None:
    """Stateless: a client's requests land on whichever of three workers, and every one is answered."""
    port = free_port()
    gunicorn = Path(sys.executable).with_name("gunicorn")
    proc = subprocess.Popen(
        [str(gunicorn), "--workers", "3", "--bind", f"127.0.0.1:{port}", "web:create_app()"],
        env=settings_env(corpus.settings),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        cwd=ROOT,
    )
    try:
        wait_healthy(f"http://127.0.0.1:{port}")
        url = f"http://127.0.0.1:{port}/mcp"

        async def session(mode: str) -> list[int]:
            async with http(url, corpus.token, mode=mode) as client:
                found = []
                for _ in range(4):
                    answer = await client.call_tool("search", {"query": "rugissement"})
                    found.append(answer.structured_content["passages"][0]["position"])
                return found

        async def check() -> None:
            results: list[list[int]] = []

            async def one(mode: str) -> None:
                results.append(await session(mode))

            async with anyio.create_task_group() as tg:
                for mode in ("legacy", "auto") * 3:
                    tg.start_soon(one, mode)
            assert results == [[1, 1, 1, 1]] * 6

        run(check)
    finally:
        proc.terminate()
        output = proc.communicate(timeout=30)[0]
    assert output.count("Booting worker") >= 3, output
    assert "Traceback" not in output, output


def test_search_by_meaning_finds_a_french_paraphrase_at_its_moment(make_settings: Callable[..., Any]) -> None:
    """Over /mcp with the SDK's client: no word of the query is in the passage, its meaning finds it."""
    from tests.meaning_corpus import build as build_meaning

    settings = make_settings(public_url=PUBLIC_URL)
    ids = build_meaning(Archive(settings))
    with site(Corpus(settings, 0, 0, 0, 0, 0, ""), SEARCH_RATE_BURST=1000) as (_, url):

        async def check() -> None:
            async with http(url) as client:
                query = "adolescents accros aux écrans"
                words = (await client.call_tool("search", {"query": query, "mode": "words"})).structured_content
                assert all(p["episode"]["id"] != ids["Ados"] for p in words["passages"])
                for mode in ("meaning", "hybrid"):
                    found = await client.call_tool("search", {"query": query, "mode": mode})
                    assert not found.is_error, text_of(found)
                    answer = found.structured_content
                    assert answer["mode"] == mode and answer["meaning"] == "on", answer
                    teens = [p for p in answer["passages"] if p["episode"]["id"] == ids["Ados"]]
                    assert teens, (mode, [p["text"] for p in answer["passages"]])
                    first = teens[0]
                    # « des jeunes qui passent six heures par jour sur les médias sociaux »: no word in common.
                    assert first["found"] == "meaning" and first["position"] == 0
                    assert first["link"] == f"{PUBLIC_URL}/episodes/{ids['Ados']}?t=0.00#p-0"
                    if mode == "meaning":
                        assert {p["found"] for p in answer["passages"]} <= {"meaning", "both"}
                        assert answer["passages"][0] == first, answer["passages"][0]

        run(check)


@pytest.mark.parametrize("trusted", ["127.0.0.1", ""])
def test_http_behind_a_proxy_each_client_gets_its_own_budget(make_settings: Callable[..., Any], trusted: str) -> None:
    """/mcp counts the client that PODARCHIVE_TRUSTED_PROXIES lets X-Forwarded-For name, as /api/search does.

    The loopback peer plays nginx. Trusted, two readers behind it are told apart and a reader
    writing an address into the header itself is still counted as itself; not trusted, the
    header is ignored and every made-up address is the one peer.
    """
    corpus = build(make_settings(public_url=PUBLIC_URL, trusted_proxies=trusted))

    async def refused(url: str, forwarded: str) -> bool:
        client_of = http(url)
        client_of.headers["X-Forwarded-For"] = forwarded
        async with client_of as client:
            answer = await client.call_tool("list_shows", {})
            return answer.is_error and "too many requests" in text_of(answer)

    async def calls(url: str, forwarded: list[str]) -> list[bool]:
        return [await refused(url, value) for value in forwarded]

    with site(corpus, SEARCH_RATE_BURST=2, SEARCH_RATE_PER_S=0.0001) as (_, url):
        first = anyio.run(calls, url, ["203.0.113.1"] * 3)
        second = anyio.run(calls, url, ["203.0.113.2"] * 2)
        spoofed = anyio.run(calls, url, ["198.51.100.7, 203.0.113.1", "198.51.100.8, 203.0.113.9"])
    if trusted:
        assert first == [False, False, True]
        assert second == [False, False]
        # nginx appends the address it saw: the first client is still itself; a third one is new.
        assert spoofed == [True, False]
    else:
        assert first == [False, False, True]
        assert second == [True, True] and spoofed == [True, True]
