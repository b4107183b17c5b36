"""/api/openapi.json is valid OpenAPI 3.1; every documented path answers with exactly the documented fields,
the same fields (and values) as the MCP tool it names; the read API shows only what readers may see."""

from __future__ import annotations

import json
from typing import Any

import anyio
import httpx2
import pytest
from jsonschema import Draft202012Validator
from openapi_spec_validator import OpenAPIV31SpecValidator, validate

from tests.assistant_corpus import DRAFT_WORD, HIDDEN_WORD, PUBLIC_URL, Corpus, build
from tests.test_assistants_mcp import http, site
from web import create_app


@pytest.fixture(scope="module")
def corpus(make_module_settings: Any) -> Corpus:
    """One corpus for the module: its tests only read it (each makes its own app, rate limits included)."""
    return build(make_module_settings(public_url=PUBLIC_URL))


@pytest.fixture
def client(corpus: Corpus) -> Any:
    app = create_app(corpus.settings)
    app.config["SEARCH_RATE_BURST"] = 1000
    return app.test_client()


def _validator(doc: dict[str, Any], schema: dict[str, Any]) -> Draft202012Validator:
    # The component references are "#/components/...": resolve them against the document.
    return Draft202012Validator({**schema, "components": doc["components"]})


def _example(path: str, corpus: Corpus) -> tuple[str, dict[str, str]]:
    """A request for each documented path that has an answer."""
    url = path.format(show_id=corpus.show, episode_id=corpus.tiger, position=1)
    return url, ({"q": "rugissement"} if path == "/api/search" else {})


def test_the_document_is_valid_openapi_3_1_and_covers_every_api_route(client: Any) -> None:
    doc = client.get("/api/openapi.json").get_json()
    validate(doc, cls=OpenAPIV31SpecValidator)
    assert doc["openapi"] == "3.1.0" and doc["servers"] == [{"url": PUBLIC_URL}]
    routes = {
        rule.rule.replace("<int:feed_id>", "{show_id}")
        .replace("<int:episode_id>", "{episode_id}")
        .replace("<int:position>", "{position}")
        for rule in client.application.url_map.iter_rules()
        if rule.rule.startswith("/api/") and rule.rule != "/api/openapi.json"
    }
    assert routes == set(doc["paths"])


def test_each_documented_path_answers_with_the_documented_fields(client: Any, corpus: Corpus) -> None:
    doc = client.get("/api/openapi.json").get_json()
    for path, item in doc["paths"].items():
        operation = item["get"]
        url, params = _example(path, corpus)
        answer = client.get(url, query_string=params)
        assert answer.status_code == 200, path
        schema = operation["responses"]["200"]["content"]["application/json"]["schema"]
        body = answer.get_json()
        # additionalProperties is false throughout: an undocumented field fails here too.
        _validator(doc, schema).validate(body)
        assert body, path
        if "404" in operation["responses"]:
            missing = client.get(path.format(show_id=999_999, episode_id=999_999, position=0))
            assert missing.status_code == 404, path
            _validator(doc, operation["responses"]["404"]["content"]["application/json"]["schema"]).validate(
                missing.get_json()
            )
    search = client.get("/api/search", query_string={"q": "rugissement"}).get_json()
    assert search["passages"][0]["link"] == f"{PUBLIC_URL}/episodes/{corpus.tiger}?t=5.00#p-1"
    assert search["passages"][0]["url"] == f"/episodes/{corpus.tiger}?t=5.00#p-1"


def test_a_field_the_document_does_not_list_fails_validation(client: Any, corpus: Corpus) -> None:
    doc = client.get("/api/openapi.json").get_json()
    body = client.get(f"/api/episodes/{corpus.tiger}").get_json()
    validator = _validator(doc, {"$ref": "#/components/schemas/Episode"})
    validator.validate(body)
    assert not validator.is_valid({**body, "secret": 1})
    assert not validator.is_valid({k: v for k, v in body.items() if k != "link"})


def test_the_read_api_shows_only_what_readers_may_see(client: Any, corpus: Corpus) -> None:
    drafted = client.get(f"/api/episodes/{corpus.drafted}/transcript").get_data(as_text=True)
    assert "baleines" in drafted and DRAFT_WORD not in drafted
    assert client.get(f"/api/episodes/{corpus.hidden}/transcript").status_code == 404
    hidden = client.get(f"/api/episodes/{corpus.hidden}").get_json()
    assert hidden["transcript"] is None and HIDDEN_WORD not in json.dumps(hidden)
    for word in (DRAFT_WORD, HIDDEN_WORD):
        assert client.get("/api/search", query_string={"q": word}).get_json()["total"] == 0
    part = client.get(f"/api/episodes/{corpus.tiger}/transcript", query_string={"start": 6, "end": 11}).get_json()
    assert [p["position"] for p in part["passages"]] == [1, 2] and part["start"] == 6.0


def test_the_read_api_is_rate_limited_like_search(corpus: Corpus) -> None:
    app = create_app(corpus.settings)
    app.config.update(SEARCH_RATE_BURST=2, SEARCH_RATE_PER_S=0.01)
    client = app.test_client()
    codes = [client.get(p).status_code for p in ("/api/shows", "/api/speakers", "/api/episodes", "/api/shows")]
    assert codes == [200, 200, 429, 429]


def test_each_mcp_tool_answers_what_its_documented_path_answers(corpus: Corpus) -> None:
    with site(corpus, SEARCH_RATE_BURST=1000) as (_, url):
        base = url.removesuffix("/mcp")
        doc = httpx2.get(f"{base}/api/openapi.json").json()
        calls = {
            "/api/search": {"query": "rugissement", "limit": 20},
            "/api/shows": {},
            "/api/episodes": {},
            "/api/episodes/{episode_id}": {"episode_id": corpus.tiger},
            "/api/episodes/{episode_id}/transcript": {"episode_id": corpus.tiger},
            "/api/speakers": {},
        }
        tools: dict[str, Any] = {}
        answers: dict[str, Any] = {}

        async def ask() -> None:
            async with http(url) as client:
                tools.update({t.name: t for t in (await client.list_tools()).tools})
                for path, item in doc["paths"].items():
                    if "x-mcp-tool" in item["get"]:
                        result = await client.call_tool(item["get"]["x-mcp-tool"], calls[path])
                        answers[path] = result.structured_content

        anyio.run(ask)
        assert set(answers) == set(calls)
        for path, answer in answers.items():
            operation = doc["paths"][path]["get"]
            api_url, params = _example(path, corpus)
            expected = httpx2.get(base + api_url, params=params).json()
            if path == "/api/search":
                # Both by words and meaning, the site's default; each passage says how it matched.
                assert (answer.pop("mode"), answer.pop("note")) == ("hybrid", None)
                assert answer["meaning"] == "on" and answer["passages"][0]["found"] in ("words", "both")
            assert answer == expected, path
            # The tool's declared output has the documented component's fields.
            schema = operation["responses"]["200"]["content"]["application/json"]["schema"]
            component = doc["components"]["schemas"][schema["$ref"].rsplit("/", 1)[1]]
            declared = set(tools[operation["x-mcp-tool"]].output_schema["properties"])
            assert set(component["properties"]) <= declared, path


def test_without_public_url_links_follow_the_address_asked(make_settings: Any) -> None:
    corpus = build(make_settings())
    with site(corpus, SEARCH_RATE_BURST=1000) as (_, url):
        base = url.removesuffix("/mcp")
        episode = httpx2.get(f"{base}/api/episodes/{corpus.tiger}").json()
        assert episode["link"] == f"{base}/episodes/{corpus.tiger}"
        assert httpx2.get(f"{base}/api/openapi.json").json()["servers"] == [{"url": base}]
        answers: list[Any] = []

        async def ask() -> None:
            async with http(url) as client:
                answers.append(await client.call_tool("get_episode", {"episode_id": corpus.tiger}))

        anyio.run(ask)
        assert answers[0].structured_content == episode
