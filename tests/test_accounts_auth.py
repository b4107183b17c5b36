"""Accounts and safety: CLI, argon2id, log-in, rate limits, cookies, session ends, redirects, CSRF."""

from __future__ import annotations

import subprocess
import sys

import pytest
from argon2 import PasswordHasher

from archive.context import Archive
from archive.editorial import accounts
from tests.conftest import settings_env
from tests.editor_site import PASSWORD, csrf_of, login, make_archive
from web import create_app


@pytest.fixture
def site(make_settings):
    ea = make_archive(make_settings(secret_key="k"))
    app = create_app(ea.settings)
    return ea, app


def _cli(settings, *args, stdin=""):
    return subprocess.run(
        [sys.executable, "-m", "archive.cli", "users", *args],
        input=stdin,
        env=settings_env(settings),
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_users_cli_add_passwd_list_disable(make_settings):
    settings = make_settings()
    added = _cli(
        settings,
        "add",
        "Chef@Example.org",
        "--role",
        "admin",
        "--name",
        "La chef",
        "--password-stdin",
        stdin="a long enough one\n",
    )
    assert added.returncode == 0, added.stderr
    again = _cli(settings, "add", "chef@example.org", "--password-stdin", stdin="another long one\n")
    assert again.returncode != 0 and "already has an account" in again.stderr
    short = _cli(settings, "add", "x@example.org", "--password-stdin", stdin="short\n")
    assert short.returncode != 0 and "at least" in short.stderr
    bad_role = _cli(settings, "add", "y@example.org", "--role", "root", "--password-stdin", stdin="a long enough one\n")
    assert bad_role.returncode != 0
    listed = _cli(settings, "list")
    assert listed.stdout.split("\t")[:3] == ["chef@example.org", "admin", "active"]
    with Archive(settings).db.session() as s:
        user = accounts.get_by_email(s, "chef@example.org")
        assert user.password_hash.startswith("$argon2id$")
        version = user.session_version
    assert _cli(settings, "passwd", "chef@example.org", "--password-stdin", stdin="the new password\n").returncode == 0
    with Archive(settings).db.session() as s:
        assert accounts.authenticate(s, "chef@example.org", "a long enough one") is None
        user = accounts.authenticate(s, "chef@example.org", "the new password")
        assert user is not None and user.session_version == version + 1
    assert _cli(settings, "disable", "chef@example.org").returncode == 0
    assert "\tdisabled\t" in _cli(settings, "list").stdout
    with Archive(settings).db.session() as s:
        assert accounts.authenticate(s, "chef@example.org", "the new password") is None
    assert _cli(settings, "disable", "nobody@example.org").returncode != 0


def test_login_rehashes_when_the_parameters_changed(make_settings):
    settings = make_settings()
    weak = PasswordHasher(time_cost=1, memory_cost=8 * 1024, parallelism=1)
    with Archive(settings).db.session() as s:
        user = accounts.add_user(s, "old@example.org", PASSWORD)
        user.password_hash = weak.hash(PASSWORD)
    with Archive(settings).db.session() as s:
        assert accounts.HASHER.check_needs_rehash(accounts.get_by_email(s, "old@example.org").password_hash)
        assert accounts.authenticate(s, "old@example.org", PASSWORD) is not None
    with Archive(settings).db.session() as s:
        stored = accounts.get_by_email(s, "old@example.org").password_hash
        assert not accounts.HASHER.check_needs_rehash(stored)
        assert stored.startswith("$argon2id$")


def test_login_logout_and_the_editor_area_needs_a_login(site):
    ea, app = site
    client = app.test_client()
    anonymous = client.get("/editor/")
    assert anonymous.status_code == 302 and "/editor/login" in anonymous.headers["Location"]
    wrong = login(client, password="not the password")
    assert wrong.status_code == 401
    assert client.get("/editor/").status_code == 302
    ok = login(client, next_url="/editor/people")
    assert ok.status_code == 302 and ok.headers["Location"] == "/editor/people"
    assert client.get("/editor/").status_code == 200
    token = csrf_of(client.get("/editor/").get_data(as_text=True))
    out = client.post("/editor/logout", data={"csrf_token": token})
    assert out.status_code == 302
    assert client.get("/editor/").status_code == 302


def test_session_cookie_flags(site):
    ea, app = site
    plain = login(app.test_client())
    cookie = plain.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie and "Secure" not in cookie
    secure_client = app.test_client()
    page = secure_client.get("/editor/login", base_url="https://archive.example")
    response = secure_client.post(
        "/editor/login",
        base_url="https://archive.example",
        data={"email": ea.email, "password": ea.password, "csrf_token": csrf_of(page.get_data(as_text=True))},
        headers={"Referer": "https://archive.example/editor/login"},
    )
    assert response.status_code == 302
    cookie = response.headers["Set-Cookie"]
    assert "Secure" in cookie and "HttpOnly" in cookie and "SameSite=Lax" in cookie


def _copy_cookies(src, dst):
    for cookie in src._cookies.values():
        dst.set_cookie(cookie.key, cookie.value, domain=cookie.domain, path=cookie.path)


def test_logout_ends_copies_of_the_session_cookie(site):
    ea, app = site
    browser = app.test_client()
    assert login(browser).status_code == 302
    thief = app.test_client()
    _copy_cookies(browser, thief)
    assert thief.get("/editor/").status_code == 200
    token = csrf_of(browser.get("/editor/").get_data(as_text=True))
    browser.post("/editor/logout", data={"csrf_token": token})
    assert thief.get("/editor/").status_code == 302


def test_password_change_ends_other_sessions_but_not_this_one(site):
    ea, app = site
    laptop, phone = app.test_client(), app.test_client()
    login(laptop)
    login(phone)
    token = csrf_of(laptop.get("/editor/password").get_data(as_text=True))
    wrong = laptop.post(
        "/editor/password",
        data={"csrf_token": token, "current": "nope nope nope", "new": "brand new secret", "again": "brand new secret"},
    )
    assert wrong.status_code == 200 and phone.get("/editor/").status_code == 200
    changed = laptop.post(
        "/editor/password",
        data={"csrf_token": token, "current": PASSWORD, "new": "brand new secret", "again": "brand new secret"},
    )
    assert changed.status_code == 302
    assert laptop.get("/editor/").status_code == 200
    assert phone.get("/editor/").status_code == 302
    assert login(app.test_client(), password="brand new secret").status_code == 302


def test_disabling_an_account_ends_its_sessions(site):
    ea, app = site
    client = app.test_client()
    login(client)
    with Archive(ea.settings).db.session() as s:
        accounts.set_disabled(s, accounts.get_by_email(s, ea.email))
    assert client.get("/editor/").status_code == 302
    assert login(app.test_client()).status_code == 401


def _from(app, address):
    client = app.test_client()
    client.environ_base["REMOTE_ADDR"] = address
    return client


def test_login_is_rate_limited_per_client_and_per_account(site):
    ea, app = site
    app.config["LOGIN_RATE_CLIENT"] = (4, 0.001)
    app.config["LOGIN_RATE_ACCOUNT"] = (3, 0.001)
    # Per account: three tries from three addresses, then even the right password waits.
    for n in range(3):
        client = _from(app, f"10.0.0.{n}")
        assert login(client, password="wrong guess").status_code == 401
    late = login(_from(app, "10.0.0.9"))
    assert late.status_code == 429 and int(late.headers["Retry-After"]) >= 1
    # Per client: one address trying many accounts is stopped too.
    client = _from(app, "10.9.9.9")
    codes = [login(client, email=f"u{n}@example.org", password="wrong guess").status_code for n in range(5)]
    assert codes == [401, 401, 401, 401, 429]
    # Another account from another address is unaffected.
    assert login(_from(app, "10.1.1.1"), email="boss@example.org").status_code == 302


@pytest.mark.parametrize(
    "target",
    [
        "//evil.example/",
        "/\\evil.example",
        "\\\\evil.example",
        "/\t/evil.example",
        "/\n/evil.example",
        " //evil.example",
        "https:evil.example",
        "https://evil.example/",
        "javascript:alert(1)",
        "http:/evil.example",
        "/%09/evil.example",
        "evil.example",
        "",
    ],
)
def test_next_only_goes_to_local_paths(site, target):
    ea, app = site
    response = login(app.test_client(), next_url=target)
    assert response.status_code == 302
    assert response.headers["Location"] == "/editor/"


def test_next_keeps_a_local_path_with_its_query(site):
    ea, app = site
    response = login(app.test_client(), next_url="/editor/replace?find=a&replacement=b")
    assert response.headers["Location"] == "/editor/replace?find=a&replacement=b"


def _post_routes(app):
    """Every route of the app that changes state, with sample URL arguments."""
    routes = []
    for rule in app.url_map.iter_rules():
        if rule.methods & {"POST", "PUT", "PATCH", "DELETE"}:
            args = {name: 1 for name in rule.arguments}
            routes.append(rule.build(args, append_unknown=False)[1])
    return routes


def test_every_state_changing_route_refuses_missing_wrong_and_foreign_csrf_tokens(site):
    ea, app = site
    routes = _post_routes(app)
    # The editor area, log-in and log-out, and the public suggestion form at least.
    assert {
        "/editor/login",
        "/editor/logout",
        "/editor/episodes/1/publish",
        "/editor/replace",
        "/episodes/1/suggest",
    } <= set(routes)
    mine, other = app.test_client(), app.test_client()
    login(mine)
    login(other, email="boss@example.org")
    foreign = csrf_of(other.get("/editor/").get_data(as_text=True))
    own = csrf_of(mine.get("/editor/").get_data(as_text=True))
    assert foreign != own
    with Archive(ea.settings).db.session() as s:
        from archive.editorial import workflow as editing

        before = editing.working_copy(s, 1)
    for route in routes:
        form = {
            "base": "0",
            "text": "hacked",
            "speaker": "hacked",
            "old": "SPEAKER_1",
            "new": "hacked",
            "p": "0",
            "find": "Vignault",
            "replacement": "hacked",
            "expect": "1:0",
            "add": "hacked",
            "email": ea.email,
            "password": ea.password,
            "current": PASSWORD,
            "again": "x" * 12,
        }
        for token in (None, "not-a-token", foreign):
            data = dict(form) if token is None else {**form, "csrf_token": token}
            response = mine.post(route, data=data)
            assert response.status_code == 400, (route, token, response.status_code)
    # Nothing changed, and the session is still logged in.
    with Archive(ea.settings).db.session() as s:
        after = editing.working_copy(s, 1)
    assert after == before
    assert mine.get("/editor/").status_code == 200
    # The right token is accepted (publishing works).
    assert mine.post("/editor/episodes/1/publish", data={"csrf_token": own}).status_code == 302
