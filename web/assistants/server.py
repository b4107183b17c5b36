"""The MCP server: read tools and resources built on web.reads (archive.public underneath), writes on request.

One builder for both transports; a `Calls` says what differs between them: where links
point, whether this caller may go on (the rate limit), and the caller's token.
"""

from __future__ import annotations

import json
import math
from typing import Annotated, Literal, Protocol

from mcp.server.mcpserver import Context, MCPServer
from mcp.server.mcpserver.exceptions import ResourceNotFoundError, ToolError
from mcp.types import ToolAnnotations
from pydantic import Field

from archive.context import Archive
from archive.search import Filters, SearchUnavailable
from web import payloads, reads
from web.converters import MAX_ID
from web.payloads import Links
from web.search import MAX_PAGE, MAX_QUERY, SearchRequest

Mode = Literal["hybrid", "words", "meaning"]
# Ids and positions are INTEGER columns: beyond 2^31-1 PostgreSQL refuses the query, so the
# call is refused first, as a validation error the assistant can read (web/converters.py).
EpisodeId = Annotated[int, Field(ge=1, le=MAX_ID, description="An episode's id, as search or recent_episodes give it.")]
ShowId = Annotated[int, Field(ge=1, le=MAX_ID, description="A show's id, as list_shows gives it.")]
READ = ToolAnnotations(read_only_hint=True, open_world_hint=False)
INSTRUCTIONS = """\
podarchive is an archive of podcast interviews (mostly French, some English) whose transcripts can be searched.
Find what was said with `search`, then read around a hit with `get_transcript` (start and end in seconds).
Every passage carries a `link` that opens the episode page with the player at that moment: cite it.
Only what the archive's readers may see is here: published shows' transcripts and editors' published text."""


class Calls(Protocol):
    """What a transport tells the tools about the call in hand."""

    def links(self, ctx: Context) -> Links:
        """Where absolute links point."""
        ...

    def wait(self, ctx: Context) -> float:
        """Spend one call from this caller's budget: 0.0 to go ahead, else seconds to wait."""
        ...

    def token(self, ctx: Context) -> str:
        """The API token this call came with ("" for none)."""
        ...


def allow(calls: Calls, ctx: Context) -> None:
    """Refuse the call, as a tool error the assistant can read, when its caller is over the rate limit."""
    wait = calls.wait(ctx)
    if wait > 0:
        raise ToolError(f"too many requests: try again in {max(1, math.ceil(wait))} s")


def build_server(archive: Archive, calls: Calls, *, writes: bool = False) -> MCPServer:
    """The podarchive MCP server; with `writes`, also the editors' tools (each checks the token again)."""
    server: MCPServer = MCPServer("podarchive", title="podarchive interview archive", instructions=INSTRUCTIONS)
    _read_tools(server, archive, calls)
    _resources(server, archive, calls)
    if writes:
        from web.assistants import writes as write_tools

        write_tools.register(server, archive, calls)
    return server


# Why meaning could not take part (archive.search.SearchPage.meaning).
_NO_MEANING = {
    "skipped": "the query has nothing to search by meaning (too short, or no letter or digit)",
    "unavailable": "search by meaning is unavailable right now (the model is missing or failed)",
    "disabled": "this archive has no search by meaning",
}


def _answered(asked: Mode, meaning: str) -> tuple[str, str | None]:
    """(the mode answered, a note when it is not the one asked or needs saying)."""
    if asked == "words" or meaning == "on":
        note = "total: the passages found by meaning among the nearest asked for" if asked == "meaning" else None
        return asked, note
    return "words", f"{_NO_MEANING.get(meaning, 'no search by meaning')}: answered by words"


def _read_tools(server: MCPServer, archive: Archive, calls: Calls) -> None:
    @server.tool(annotations=READ)
    def search(
        query: Annotated[str, Field(description="Words said in the interviews, e.g. « rugissement du tigre ».")],
        ctx: Context,
        mode: Annotated[
            Mode,
            Field(
                description="hybrid (default, as the site searches): by the words and by what the passage is "
                "about; words: the words themselves only; meaning: passages about it, in any wording "
                "(« accident de voiture » finds « le pilote a perdu le contrôle »). Each passage's `found` "
                "says how it matched: words, meaning or both."
            ),
        ] = "hybrid",
        show: Annotated[str | None, Field(description="Only this show (its title, as list_shows gives it).")] = None,
        year: Annotated[int | None, Field(description="Only episodes published this year.")] = None,
        speaker: Annotated[str | None, Field(description="Only passages by this speaker.")] = None,
        language: Annotated[str | None, Field(description="Only passages in this language (fr, en).")] = None,
        page: Annotated[int, Field(ge=1, le=MAX_PAGE)] = 1,
        limit: Annotated[int, Field(ge=1, le=reads.MAX_LIMIT)] = 10,
    ) -> payloads.SearchAnswer:
        """Find passages of interviews by what was said, with the moment's link, speaker and times."""
        allow(calls, ctx)
        text = query.strip()[:MAX_QUERY]
        if not text:
            raise ToolError("give a query: the words to look for")
        filters = Filters(show=_field(show), year=year, speaker=_field(speaker), language=_field(language))
        # The site's and /api/search's path: SearchIndex.search by words and meaning, merged.
        shortened = len(query.strip()) > MAX_QUERY
        req = SearchRequest(text, filters, page, mode="words" if mode == "words" else "", shortened=shortened)
        try:
            result = reads.search(archive, req, limit, calls.links(ctx), words=mode != "meaning")
        except SearchUnavailable as exc:
            raise ToolError("search is unavailable right now; try again in a minute") from exc
        answered, note = _answered(mode, result["meaning"])
        return payloads.SearchAnswer(**result, mode=answered, note=note)

    @server.tool(annotations=READ)
    def get_episode(episode_id: EpisodeId, ctx: Context) -> payloads.Episode:
        """One episode: title, show, date, notes, credits, chapters (with links) and its transcript's kind."""
        allow(calls, ctx)
        found = reads.episode(archive, episode_id, calls.links(ctx))
        if found is None:
            raise ToolError(f"no episode {episode_id}")
        return found

    @server.tool(annotations=READ)
    def get_transcript(
        episode_id: EpisodeId,
        ctx: Context,
        start: Annotated[float | None, Field(ge=0, description="From this second (default: the start).")] = None,
        end: Annotated[float | None, Field(ge=0, description="Up to this second (default: the end).")] = None,
    ) -> payloads.Transcript:
        """An episode's transcript, whole or between two times: passages with speakers, times and links."""
        allow(calls, ctx)
        found = reads.transcript(archive, episode_id, calls.links(ctx), start, end)
        if found is None:
            raise ToolError(f"episode {episode_id} has no transcript that readers may see")
        return found

    @server.tool(annotations=READ)
    def list_shows(ctx: Context) -> payloads.ShowList:
        """Every show in the archive with its episode count and newest date."""
        allow(calls, ctx)
        return reads.shows(archive, calls.links(ctx))

    @server.tool(annotations=READ)
    def recent_episodes(
        ctx: Context,
        limit: Annotated[int, Field(ge=1, le=100)] = 20,
        show_id: Annotated[
            int | None, Field(ge=1, le=MAX_ID, description="Only this show (an id from list_shows).")
        ] = None,
        transcribed: Annotated[bool, Field(description="Only episodes whose transcript readers can read.")] = False,
    ) -> payloads.EpisodeList:
        """The newest episodes, of every show or one."""
        allow(calls, ctx)
        return reads.recent_episodes(archive, calls.links(ctx), limit, show_id, transcribed)

    @server.tool(annotations=READ)
    def list_speakers(ctx: Context, limit: Annotated[int, Field(ge=1, le=500)] = 100) -> payloads.SpeakerList:
        """Named voices and credited people, with in how many episodes each appears (use with search's speaker)."""
        allow(calls, ctx)
        return reads.speakers(archive, calls.links(ctx), limit)


def _resources(server: MCPServer, archive: Archive, calls: Calls) -> None:
    # Templates only: the SDK gives a static resource no Context, and links need the request.
    @server.resource("podarchive://shows/{show_id}", name="show", mime_type="application/json")
    def one_show(show_id: int, ctx: Context) -> str:
        """A show and its episodes."""
        allow(calls, ctx)
        found = reads.show(archive, show_id, calls.links(ctx)) if _storable(show_id) else None
        if found is None:
            raise ResourceNotFoundError(f"no show {show_id}")
        return _json(found)

    @server.resource("podarchive://episodes/{episode_id}", name="episode", mime_type="application/json")
    def one_episode(episode_id: int, ctx: Context) -> str:
        """An episode: notes, credits, chapters, transcript kind."""
        allow(calls, ctx)
        found = reads.episode(archive, episode_id, calls.links(ctx)) if _storable(episode_id) else None
        if found is None:
            raise ResourceNotFoundError(f"no episode {episode_id}")
        return _json(found)

    @server.resource("podarchive://episodes/{episode_id}/transcript", name="transcript", mime_type="application/json")
    def one_transcript(episode_id: int, ctx: Context) -> str:
        """An episode's transcript as passages (the first part of a long one: get_transcript pages on)."""
        allow(calls, ctx)
        found = reads.transcript(archive, episode_id, calls.links(ctx)) if _storable(episode_id) else None
        if found is None:
            raise ResourceNotFoundError(f"episode {episode_id} has no transcript that readers may see")
        return _json(found)


def _storable(id_: int) -> bool:
    """Whether an id from a resource's address can name a row (checked here: the SDK reports a template
    parameter that fails validation as an unexpected error, not as the caller's)."""
    return 1 <= id_ <= MAX_ID


def _field(value: str | None) -> str | None:
    """A filter value as the search page reads one: trimmed, bounded, empty meaning none."""
    return (value or "").strip()[:200] or None


def _json(payload: object) -> str:
    return json.dumps(payload, ensure_ascii=False)
