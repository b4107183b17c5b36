"""Oversized requests: bodies past MAX_CONTENT_LENGTH on every state-changing route, huge queries."""

from __future__ import annotations

import re
import socket
import threading
from collections.abc import Callable, Iterator

import pytest
from werkzeug.routing import IntegerConverter, Rule

from archive.config import Settings
from archive.context import Archive
from archive.editorial import workflow as editing
from tests.editor_site import csrf_of, login, make_archive
from tests.test_accounts_auth import _post_routes
from web import create_app

BIG = "x" * (2 * 1024 * 1024)  # twice the site's 1 MiB MAX_CONTENT_LENGTH


@pytest.fixture
def site(make_settings: Callable[..., Settings]):  # type: ignore[no-untyped-def]
    ea = make_archive(make_settings(secret_key="big-bodies"))
    return ea, create_app(ea.settings)


def test_every_state_changing_route_refuses_an_oversized_body(site) -> None:  # type: ignore[no-untyped-def]
    ea, app = site
    client = app.test_client()
    login(client)
    token = csrf_of(client.get("/editor/").get_data(as_text=True))
    with Archive(ea.settings).db.session() as s:
        before = editing.working_copy(s, 1)
    routes = _post_routes(app)
    assert len(routes) >= 10
    for route in routes:
        for data in ({"csrf_token": token, "text": BIG, "p": "0", "base": "0"},):
            response = client.post(route, data=data)
            assert response.status_code == 413, (route, response.status_code)
        raw = client.post(route, data=BIG.encode(), content_type="application/octet-stream")
        assert raw.status_code == 413, (route, raw.status_code)
    with Archive(ea.settings).db.session() as s:
        assert editing.working_copy(s, 1) == before
    assert client.get("/editor/").status_code == 200


@pytest.mark.parametrize("path", ["/search?q=", "/api/search?q=", "/search?show=", "/episodes/1?start="])
def test_huge_query_strings_are_no_server_error(site, path: str) -> None:  # type: ignore[no-untyped-def]
    _, app = site
    client = app.test_client()
    response = client.get(path + "a%20" * 20_000)
    assert response.status_code < 500, response.status_code


@pytest.fixture
def live(site) -> Iterator[tuple[str, int]]:  # type: ignore[no-untyped-def]
    from werkzeug.serving import make_server

    _, app = site
    server = make_server("127.0.0.1", 0, app, threaded=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield "127.0.0.1", server.server_port
    server.shutdown()
    server.server_close()


def _exchange(address: tuple[str, int], request: bytes, body_chunks: Iterator[bytes]) -> bytes:
    with socket.create_connection(address, timeout=10) as sock:
        sock.sendall(request)
        try:
            for chunk in body_chunks:
                sock.sendall(chunk)
        except OSError:
            pass  # the server answered and closed before the end: what we want
        answer = b""
        try:
            while len(answer) < 20:
                part = sock.recv(4096)
                if not part:
                    break
                answer += part
        except OSError:
            pass
        return answer


def test_live_server_refuses_big_bodies_before_reading_them(live: tuple[str, int]) -> None:
    # A declared 50 MB body: refused from the header, without waiting for the bytes.
    declared = _exchange(
        live,
        b"POST /editor/login HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-www-form-urlencoded"
        b"\r\nContent-Length: 52428800\r\n\r\n",
        iter([b"a" * 65536]),
    )
    assert declared.startswith(b"HTTP/1.1 413"), declared[:100]
    # A chunked body with no length that goes on past the limit.
    chunk = b"b" * 65536
    chunked = _exchange(
        live,
        b"POST /episodes/1/suggest HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-www-form-urlencoded"
        b"\r\nTransfer-Encoding: chunked\r\n\r\n",
        (b"%x\r\n%s\r\n" % (len(chunk), chunk) for _ in range(64)),
    )
    assert chunked.split(b"\r\n", 1)[0] in (b"HTTP/1.1 413 REQUEST ENTITY TOO LARGE", b"HTTP/1.1 400 BAD REQUEST"), (
        chunked[:100]
    )


# The largest id an INTEGER column holds on PostgreSQL (a larger one failed there with a 500).
MAX_ID = 2**31 - 1
# As the URL spells them: 2^31, 2^63, 2^64, 20 digits, 41 digits, 5,000 digits (past int()'s default limit).
HUGE_IDS = [str(2**31), str(2**63), str(2**64), str(10**19), str(10**40), "9" * 5000]


def _id_routes(app) -> list[tuple[Rule, str]]:  # type: ignore[no-untyped-def]
    """(rule, method) for every route of the URL map that takes a number."""
    return [
        (rule, method)
        for rule in app.url_map.iter_rules()
        if any(isinstance(conv, IntegerConverter) for conv in rule._converters.values())
        for method in sorted((rule.methods or set()) & {"GET", "POST"})
    ]


def test_every_route_that_takes_an_id_answers_404_to_ids_past_64_bits(site) -> None:  # type: ignore[no-untyped-def]
    ea, app = site
    client = app.test_client()
    login(client, email="boss@example.org")  # an admin: every route gets past its login check
    token = csrf_of(client.get("/editor/").get_data(as_text=True))
    routes = _id_routes(app)
    names = {rule.rule for rule, _ in routes}
    # Episodes, shows, feeds, suggestions, revisions, passages: all of them, in every blueprint.
    assert {
        "/episodes/<int:episode_id>",
        "/shows/<int:feed_id>",
        "/shows/<int:feed_id>/feed.xml",
        "/episodes/<int:episode_id>/transcript.<fmt>",
        "/editor/suggestions/<int:suggestion_id>",
        "/editor/episodes/<int:episode_id>/revert/<int:number>",
    } <= names, names
    form = {"csrf_token": token, "base": "0", "text": "x", "action": "apply", "p": "0"}
    for rule, method in routes:
        for value in [*HUGE_IDS, str(MAX_ID)]:
            path = re.sub(r"<int:\w+>", value, rule.rule).replace("<fmt>", "vtt")
            response = client.get(path) if method == "GET" else client.post(path, data=form)
            if value != str(MAX_ID):
                assert response.status_code == 404, (method, path[:80], response.status_code)
            else:
                # The largest id the database stores reaches the view: no such row, never a 500.
                assert response.status_code < 500, (method, path[:80], response.status_code)
    assert client.get("/editor/").status_code == 200
