"""Behind a reverse proxy: clients told apart by X-Forwarded-For only when PODARCHIVE_TRUSTED_PROXIES says so."""

from __future__ import annotations

import pytest

from archive.config import ConfigError, load_settings
from tests.editor_site import make_archive
from web import create_app

PROXY = "10.0.0.1"


@pytest.fixture
def make_site(make_settings, tmp_path):  # type: ignore[no-untyped-def]
    def make(trusted: str = ""):  # type: ignore[no-untyped-def]
        data_dir = tmp_path / f"site-{len(list(tmp_path.glob('site-*')))}"
        ea = make_archive(make_settings(secret_key="proxies", trusted_proxies=trusted, data_dir=data_dir))
        app = create_app(ea.settings)
        # Three searches at once, then (practically) never another: the bucket shows who is who.
        app.config["SEARCH_RATE_BURST"] = 3
        app.config["SEARCH_RATE_PER_S"] = 0.0001
        return app.test_client()

    return make


def _codes(client, n: int, peer: str, forwarded: list[str] | str | None) -> list[int]:  # type: ignore[no-untyped-def]
    """Status of n searches from socket address `peer`, with these X-Forwarded-For values (one per request)."""
    values = forwarded if isinstance(forwarded, list) else [forwarded] * n
    codes = []
    for value in values[:n]:
        headers = {"X-Forwarded-For": value} if value is not None else {}
        response = client.get("/api/search?q=Vignault", headers=headers, environ_base={"REMOTE_ADDR": peer})
        codes.append(response.status_code)
    return codes


@pytest.mark.parametrize("trusted", ["1", PROXY, "10.0.0.0/8"])
def test_two_clients_behind_one_proxy_get_their_own_limits(make_site, trusted: str) -> None:  # type: ignore[no-untyped-def]
    client = make_site(trusted)
    assert _codes(client, 4, PROXY, "203.0.113.1") == [200, 200, 200, 429]
    # Another reader behind the same proxy is not held back by the first.
    assert _codes(client, 3, PROXY, "203.0.113.2") == [200, 200, 200]
    # The first reader writing an address into the header itself: nginx appends the real one, which counts.
    assert _codes(client, 2, PROXY, ["198.51.100.7, 203.0.113.1", "198.51.100.8, 203.0.113.1"]) == [429, 429]


def test_without_the_setting_x_forwarded_for_is_ignored(make_site) -> None:  # type: ignore[no-untyped-def]
    client = make_site("")
    spoofed = [f"198.51.100.{n}" for n in range(6)]
    # One client making up a new address every time is still one client.
    assert _codes(client, 6, "192.0.2.10", spoofed) == [200, 200, 200, 429, 429, 429]


def test_a_peer_that_is_not_a_listed_proxy_is_not_believed(make_site) -> None:  # type: ignore[no-untyped-def]
    client = make_site(PROXY)
    spoofed = [f"198.51.100.{n}" for n in range(5)]
    assert _codes(client, 5, "192.0.2.66", spoofed) == [200, 200, 200, 429, 429]


def test_a_chain_of_listed_proxies_gives_the_address_the_first_one_saw(make_site) -> None:  # type: ignore[no-untyped-def]
    client = make_site("10.0.0.0/8")
    chain = [f"198.51.100.{n}, 203.0.113.9, 10.0.0.2" for n in range(4)]  # client's own, client, CDN
    assert _codes(client, 4, PROXY, chain) == [200, 200, 200, 429]
    assert _codes(client, 1, PROXY, "203.0.113.10, 10.0.0.2") == [200]


def test_https_at_the_proxy_marks_the_session_cookie_secure_only_when_trusted(make_site) -> None:  # type: ignore[no-untyped-def]
    for trusted, secure in (("1", True), ("", False)):
        client = make_site(trusted)
        # The log-in page puts its CSRF token in the session: the cookie is set there.
        response = client.get(
            "/editor/login", headers={"X-Forwarded-Proto": "https"}, environ_base={"REMOTE_ADDR": PROXY}
        )
        assert response.status_code == 200
        cookie = next(c for c in response.headers.getlist("Set-Cookie") if c.startswith("session="))
        assert ("; Secure" in cookie) is secure, (trusted, cookie)


@pytest.mark.fast
@pytest.mark.parametrize("value", ["nginx", "1,2", "10.0.0.1,one", "10.0.0.300"])
def test_an_unusable_setting_is_a_configuration_error(value: str) -> None:
    with pytest.raises(ConfigError, match="PODARCHIVE_TRUSTED_PROXIES"):
        load_settings(environ={"PODARCHIVE_TRUSTED_PROXIES": value})


@pytest.mark.fast
def test_the_setting_reads_a_count_or_addresses() -> None:
    assert load_settings(environ={"PODARCHIVE_TRUSTED_PROXIES": "2"}).proxy_hops == 2
    networks = load_settings(environ={"PODARCHIVE_TRUSTED_PROXIES": "127.0.0.1, 10.0.0.0/8"}).proxy_networks
    assert [str(n) for n in networks] == ["10.0.0.0/8", "127.0.0.1/32"]
    assert load_settings(environ={}).proxy_hops == 0 and load_settings(environ={}).proxy_networks == ()
