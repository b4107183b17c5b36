"""Accounts and safety: CLI, argon2id, log-in, rate limits, cookies, session ends, redirects, CSRF."""

from __future__ import annotations

import os
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
        # The CLI hashes at the real cost (the in-process tests use a cheap one: conftest).
        assert user.password_hash.startswith("$argon2id$v=19$m=65536,t=3,p=4$")
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


def test_login_is_rate_limited_per_account_and_client_and_per_client(site):
    ea, app = site
    app.config["LOGIN_RATE_CLIENT"] = (4, 0.001)
    app.config["LOGIN_RATE_ACCOUNT_CLIENT"] = (3, 0.001)
    # One client on one account: three tries, then even the right password waits (its own failures).
    guesser = _from(app, "10.0.0.1")
    assert [login(guesser, password="wrong guess").status_code for _ in range(3)] == [401, 401, 401]
    late = login(guesser)
    assert late.status_code == 429 and int(late.headers["Retry-After"]) >= 1
    # The same account from three other addresses: each has its own tries (issue 19: no lockout
    # of the owner by someone else's failures).
    for n in range(2, 5):
        assert login(_from(app, f"10.0.0.{n}"), password="wrong guess").status_code == 401
    assert login(_from(app, "10.0.0.9")).status_code == 302
    # Per client: one address trying many accounts is stopped too.
    client = _from(app, "10.9.9.9")
    codes = [login(client, email=f"u{n}@example.org", password="wrong guess").status_code for n in range(5)]
    assert codes == [401, 401, 401, 401, 429]
    # Another account from another address is unaffected.
    assert login(_from(app, "10.1.1.1"), email="boss@example.org").status_code == 302


def test_an_attackers_wrong_passwords_never_lock_the_editor_out(site):
    ea, app = site
    # The site's own limits (5 per account and client, 10 per client), not smaller test ones.
    attacker, editor = _from(app, "203.0.113.66"), _from(app, "198.51.100.5")
    tries = [login(attacker, password=f"guess {n}").status_code for n in range(8)]
    assert tries == [401] * 5 + [429] * 3
    # The attacker is locked out of the account, even with the right password...
    assert login(attacker).status_code == 429
    # ...the editor is not: the right password works at once, and again while the attacker keeps trying.
    assert login(editor).status_code == 302
    assert login(attacker, password="one more").status_code == 429
    assert login(_from(app, "198.51.100.5")).status_code == 302


def test_login_counts_are_shared_by_every_worker_and_survive_a_restart(site):
    ea, app = site
    # Two site processes on one database (two gunicorn workers, or before and after a restart).
    other = create_app(ea.settings)
    first, second = _from(app, "203.0.113.7"), _from(other, "203.0.113.7")
    codes = [login(c, password="wrong guess").status_code for c in (first, second, first, second, first)]
    assert codes == [401] * 5
    assert login(second).status_code == 429 and login(first).status_code == 429
    restarted = _from(create_app(ea.settings), "203.0.113.7")
    assert login(restarted).status_code == 429
    # A success forgets the client's failures on that account: a typo later is not a lockout.
    typo = _from(create_app(ea.settings), "198.51.100.8")
    assert [login(typo, password="typo").status_code for _ in range(4)] == [401] * 4
    assert login(typo).status_code == 302
    assert [login(_from(app, "198.51.100.8"), password="typo").status_code for _ in range(4)] == [401] * 4
    with Archive(ea.settings).db.session() as s:
        # Only digests are kept: neither the email nor the address.
        from archive.store.schema import LoginBucket

        keys = [row.key for row in s.query(LoginBucket)]
    assert keys and all(len(k) == 64 and "@" not in k and "." not in k for k in keys)


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


KEY_ROUNDS, APP_ROUNDS, RACERS = 300, 5, 3


def race_for_the_key() -> None:
    """A worker that, on each line from stdin, wants the site key of that new data directory at once.

    "key DIR": the key itself; "app DIR": the whole site, as a gunicorn worker starts it, then its
    log-in page. Answers one line on stdout per request.
    """
    from pathlib import Path

    from archive.config import load_settings
    from web import auth

    for line in sys.stdin:
        kind, _, root = line.strip().partition(" ")
        # No Meilisearch is reached: the log-in page never searches.
        site = load_settings(environ={}, data_dir=Path(root), meili_url="http://127.0.0.1:9", meili_key="k")
        if kind == "key":
            print(auth._secret_key(site) or "(empty)", flush=True)
        else:
            print(create_app(site).test_client().get("/editor/login").status_code, flush=True)


def test_workers_starting_together_all_get_the_same_whole_site_key(tmp_path):
    import shutil

    from archive.config import load_settings
    from archive.store.database import Database

    # The app rounds start from a migrated database, so the workers reach the key together.
    template = Database(load_settings(environ={}, data_dir=tmp_path / "template"))
    template.dispose()
    racers = [
        subprocess.Popen(
            [sys.executable, "-c", "from tests.test_accounts_auth import race_for_the_key; race_for_the_key()"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
            env={k: v for k, v in os.environ.items() if not k.startswith("PODARCHIVE_")},
        )
        for _ in range(RACERS)
    ]

    def together(request: str) -> list[str]:
        # Every racer gets the request within microseconds of the others, then each answers.
        for p in racers:
            p.stdin.write(request + "\n")
            p.stdin.flush()
        return [p.stdout.readline().strip() for p in racers]

    try:
        keys = {}
        for n in range(KEY_ROUNDS):
            keys[n] = together(f"key {tmp_path / f'key{n}'}")
        pages = []
        for n in range(APP_ROUNDS):
            (tmp_path / f"app{n}").mkdir()
            shutil.copyfile(tmp_path / "template" / "podarchive.db", tmp_path / f"app{n}" / "podarchive.db")
            pages += together(f"app {tmp_path / f'app{n}'}")
    finally:
        for p in racers:
            p.stdin.close()
            p.wait(timeout=60)
    reads = [k for ks in keys.values() for k in ks]
    assert len(reads) == RACERS * KEY_ROUNDS
    assert reads.count("(empty)") == 0, f"{reads.count('(empty)')} of {len(reads)} reads got an empty key"
    # Every worker of a data directory signs with the same key: the file's, whole and private.
    for n, got in keys.items():
        path = tmp_path / f"key{n}" / "secret_key"
        assert set(got) == {path.read_text().strip()} and len(got[0]) == 64
        assert path.stat().st_mode & 0o077 == 0
    assert pages == ["200"] * (RACERS * APP_ROUNDS)
    assert not list(tmp_path.glob("*/.secret_key.*")), "a temporary key file was left behind"
