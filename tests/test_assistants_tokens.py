"""Editors' API tokens (shown once, kept hashed, revoked, dead with a disabled account) and the intake the
write tools call (a feed to watch, an episode to try again)."""

from __future__ import annotations

import hashlib
import subprocess
import sys
from typing import Any

import pytest
from sqlalchemy import select

from archive import store
from archive.context import Archive
from archive.editorial import accounts, tokens
from archive.operations import intake
from archive.store.schema import ApiToken
from tests.conftest import run_cli, settings_env
from tests.web_corpus import build

ITEMS = [{"title": "Sans transcription", "guid": "ep-1"}]


@pytest.fixture
def settings(make_settings: Any) -> Any:
    settings = make_settings()
    build(settings, ITEMS, {})
    with Archive(settings).db.session() as s:
        accounts.add_user(s, "ed@example.org", "correct horse battery")
    return settings


def test_a_token_is_printed_once_and_only_its_hash_is_kept(settings: Any) -> None:
    made = run_cli(settings, "users", "token", "ed@example.org", "--name", "Claude Desktop")
    assert made.returncode == 0, made.stderr
    token = made.stdout.strip()
    assert token.startswith("pa_") and len(token) > 40 and "shown only now" in made.stderr
    archive = Archive(settings)
    with archive.db.session() as s:
        rows = list(s.scalars(select(ApiToken)))
        assert [r.token_hash for r in rows] == [hashlib.sha256(token.encode()).hexdigest()]
        assert rows[0].name == "Claude Desktop" and rows[0].last_used_at is None
        user = tokens.token_user(s, token)
        assert user is not None and user.email == "ed@example.org"
        assert tokens.token_user(s, token[:-1] + "x") is None and tokens.token_user(s, "") is None
    with archive.db.session() as s:
        assert s.scalars(select(ApiToken)).one().last_used_at is not None
    listed = run_cli(settings, "users", "tokens")
    assert "ed@example.org\tClaude Desktop" in listed.stdout and token not in listed.stdout

    assert run_cli(settings, "users", "revoke-token", str(rows[0].id)).returncode == 0
    with archive.db.session() as s:
        assert tokens.token_user(s, token) is None
    assert run_cli(settings, "users", "revoke-token", str(rows[0].id)).returncode != 0
    assert run_cli(settings, "users", "token", "nobody@example.org").returncode != 0


def test_a_disabled_account_s_tokens_open_nothing(settings: Any) -> None:
    archive = Archive(settings)
    with archive.db.session() as s:
        token, _ = tokens.create_token(s, "ed@example.org")
        user = accounts.get_by_email(s, "ed@example.org")
        assert user is not None
        accounts.set_disabled(s, user)
    with archive.db.session() as s:
        assert tokens.token_user(s, token) is None
        with pytest.raises(tokens.TokenError):
            tokens.create_token(s, "ed@example.org")


def test_podarchive_mcp_refuses_to_start_with_a_token_that_opens_nothing(settings: Any) -> None:
    env = settings_env(settings) | {"PODARCHIVE_MCP_TOKEN": "pa_revoked-or-never-made"}
    done = subprocess.run(
        [sys.executable, "-m", "archive.cli", "mcp"],
        env=env,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 2 and "PODARCHIVE_MCP_TOKEN" in done.stderr
    assert done.stdout == ""


def test_watch_feed_takes_only_usable_addresses_and_language_codes(settings: Any) -> None:
    archive = Archive(settings)
    with archive.db.session() as s:
        refused = [
            ("file:///etc/passwd", None),
            ("https://", None),
            ("https://ok.example/f", "french"),
            ("https://ok.example/a\nhttps://ok.example/b", None),  # two pasted lines are not one address
            ("http://10.1.2.3/feed", None),  # a private address the allow-list does not open
        ]
        for url, language in refused:
            with pytest.raises(intake.IntakeError):
                intake.watch_feed(archive, s, url, language)
        feed_id, added = intake.watch_feed(archive, s, " https://ok.example/f ", "FR")
        assert added and store.list_feeds(s)[-1].language == "fr"
        assert intake.watch_feed(archive, s, "https://ok.example/f") == (feed_id, False)
        # Another spelling of the same feed (case of the host, a fragment) is the same feed, as for feeds add.
        assert intake.watch_feed(archive, s, "https://OK.example/f#latest") == (feed_id, False)


def test_queue_episode_forgets_failures_so_the_next_run_takes_it(settings: Any) -> None:
    archive = Archive(settings)
    with archive.db.session() as s:
        episode = store.list_feeds(s)[0].episodes[0]
        for _ in range(3):
            store.record_episode_error(s, episode, "download", "HTTP 503", store.now())
        assert store.episodes_needing_download(s, store.now(), max_attempts=3) == []
        queued = intake.queue_episode(s, episode.id)
        assert (queued.stage, episode.attempts, episode.last_error) == ("download", 0, None)
        assert [e.id for e in store.episodes_needing_download(s, store.now(), max_attempts=3)] == [episode.id]
        with pytest.raises(intake.IntakeError):
            intake.queue_episode(s, 999_999)
