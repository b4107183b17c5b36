"""/api/openapi.json: the read API described in OpenAPI 3.1, its schemas made from web.payloads' types.

The MCP tools' output schemas come from the same types, so an operation and the tool
named by its `x-mcp-tool` answer the same fields.
"""

from __future__ import annotations

import copy
from functools import cache
from typing import Any

from flask import Blueprint, jsonify
from pydantic import TypeAdapter

from web import payloads
from web.context import links
from web.reads import MAX_LIMIT
from web.search import MAX_PAGE, MAX_QUERY

bp = Blueprint("openapi", __name__, url_prefix="/api")
REF = "#/components/schemas/{model}"


def _schemas(*types: type) -> dict[str, Any]:
    """Component schemas for these types and every type they use; objects list exactly their fields."""
    out: dict[str, Any] = {}
    for t in types:
        schema = TypeAdapter(t).json_schema(ref_template=REF)
        out.update(schema.pop("$defs", {}))
        out[t.__name__] = schema
    for schema in out.values():
        if schema.get("type") == "object" and "properties" in schema:
            schema.setdefault("additionalProperties", False)
    return out


def _ref(name: str) -> dict[str, str]:
    return {"$ref": REF.format(model=name)}


def _query(name: str, schema: dict[str, Any], description: str, required: bool = False) -> dict[str, Any]:
    return {"name": name, "in": "query", "required": required, "schema": schema, "description": description}


def _path_id(name: str, description: str) -> dict[str, Any]:
    return {"name": name, "in": "path", "required": True, "schema": {"type": "integer"}, "description": description}


def _get(summary: str, schema: str, tool: str | None, parameters: list[dict[str, Any]], *errors: int) -> dict[str, Any]:
    """One GET operation answering `schema` as JSON; `tool`: the MCP tool that answers the same fields."""
    responses: dict[str, Any] = {
        "200": {"description": "OK", "content": {"application/json": {"schema": _ref(schema)}}},
        "429": {
            "description": "Too many requests from this client (shared with the MCP tools)",
            "headers": {"Retry-After": {"schema": {"type": "integer"}, "description": "Seconds to wait"}},
            "content": {"text/plain": {"schema": {"type": "string"}}},
        },
    }
    words = {400: "Bad request", 404: "Not found", 503: "Search unavailable"}
    for code in errors:
        responses[str(code)] = {"description": words[code], "content": {"application/json": {"schema": _ref("Error")}}}
    operation: dict[str, Any] = {"summary": summary, "parameters": parameters, "responses": responses}
    if tool is not None:
        operation["x-mcp-tool"] = tool
    return {"get": operation}


@cache
def _paths_and_components() -> tuple[dict[str, Any], dict[str, Any]]:
    text = {"type": "string"}
    limit = {"type": "integer", "minimum": 1, "maximum": MAX_LIMIT, "default": 20}
    paths = {
        "/api/search": _get(
            "Passages matching a query by their words and their meaning (each says how it matched: `found`), "
            "facet counts, and on page 1 the matching episodes",
            "SearchResult",
            "search",
            [
                _query("q", {"type": "string", "maxLength": MAX_QUERY}, "Words said in the interviews", True),
                _query(
                    "mode",
                    {"type": "string", "enum": ["words"]},
                    "words: by the words only (default: by the words and by meaning, as the site searches)",
                ),
                _query("show", text, "Only this show (its title)"),
                _query("year", {"type": "integer"}, "Only episodes published this year"),
                _query("speaker", text, "Only passages by this speaker"),
                _query("language", text, "Only passages in this language (fr, en)"),
                _query("episode", {"type": "integer"}, "Only this episode (all its matching passages)"),
                _query("page", {"type": "integer", "minimum": 1, "maximum": MAX_PAGE, "default": 1}, "Page"),
                _query("limit", limit, "Passages per page"),
            ],
            400,
            503,
        ),
        "/api/shows": _get("Every show", "ShowList", "list_shows", []),
        "/api/shows/{show_id}": _get(
            "A show and its episodes",
            "ShowDetail",
            None,
            [_path_id("show_id", "The show's id"), _query("limit", {"type": "integer", "default": 200}, "Episodes")],
            404,
        ),
        "/api/episodes": _get(
            "The newest episodes",
            "EpisodeList",
            "recent_episodes",
            [
                _query("show", {"type": "integer"}, "Only this show (its id)"),
                _query("transcribed", {"type": "boolean"}, "Only episodes whose transcript readers can read"),
                _query("limit", {"type": "integer", "minimum": 1, "maximum": 100, "default": 20}, "Episodes"),
            ],
        ),
        "/api/episodes/{episode_id}": _get(
            "One episode: notes, credits, chapters, transcript kind and downloads",
            "Episode",
            "get_episode",
            [_path_id("episode_id", "The episode's id")],
            404,
        ),
        "/api/episodes/{episode_id}/transcript": _get(
            "The transcript readers may see, whole or between two times, as passages with speakers",
            "Transcript",
            "get_transcript",
            [
                _path_id("episode_id", "The episode's id"),
                _query("start", {"type": "number", "minimum": 0}, "From this second"),
                _query("end", {"type": "number", "minimum": 0}, "Up to this second"),
            ],
            404,
        ),
        "/api/episodes/{episode_id}/related": _get(
            "Interviews whose passages lie closest in meaning to this one's",
            "RelatedEpisodes",
            None,
            [_path_id("episode_id", "The episode's id")],
            503,
        ),
        "/api/episodes/{episode_id}/passages/{position}/similar": _get(
            "More like this: passages of other interviews closest in meaning to one passage",
            "SimilarPassages",
            None,
            [
                _path_id("episode_id", "The episode's id"),
                _path_id("position", "The passage's number within the transcript"),
            ],
            404,
            503,
        ),
        "/api/speakers": _get(
            "Named voices and credited people, most frequent first",
            "SpeakerList",
            "list_speakers",
            [_query("limit", {"type": "integer", "minimum": 1, "maximum": 500, "default": 100}, "Speakers")],
        ),
    }
    components = _schemas(
        payloads.SearchResult,
        payloads.ShowList,
        payloads.ShowDetail,
        payloads.EpisodeList,
        payloads.Episode,
        payloads.Transcript,
        payloads.SpeakerList,
        payloads.RelatedEpisodes,
        payloads.SimilarPassages,
        payloads.Error,
    )
    return paths, components


def document(server_url: str) -> dict[str, Any]:
    """The OpenAPI 3.1 document, with the site at `server_url`."""
    paths, components = copy.deepcopy(_paths_and_components())
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "podarchive read API",
            "version": "1",
            "description": (
                "What readers of this archive may see, as JSON: search, shows, episodes, transcripts, speakers. "
                "Links are absolute and open the episode page at the moment (?t=seconds). "
                "The same answers come from the MCP server at /mcp (and `podarchive mcp` over stdio): "
                "each operation's x-mcp-tool names the tool with the same fields."
            ),
        },
        "servers": [{"url": server_url.rstrip("/") or "/"}],
        "paths": paths,
        "components": {"schemas": components},
    }


@bp.get("/openapi.json")
def openapi():  # type: ignore[no-untyped-def]
    """The read API's description."""
    response = jsonify(document(links().base))
    response.headers["Access-Control-Allow-Origin"] = "*"
    return response
