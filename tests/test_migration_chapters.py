"""Migration 0008 (chapters) down and up again on a database with data, on both databases."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from alembic import command
from sqlalchemy import inspect, text

from archive import public, store
from archive.config import Settings
from archive.context import Archive
from archive.store.database import _alembic_config
from feeds import Chapter
from tests.web_corpus import build, transcript

# From an empty database: the migrations themselves run, from the first one up.
pytestmark = pytest.mark.empty_database


def _migrate(archive: Archive, revision: str, up: bool) -> None:
    with archive.db.engine.begin() as conn:
        cfg = _alembic_config()
        cfg.attributes["connection"] = conn
        (command.upgrade if up else command.downgrade)(cfg, revision)


def test_downgrade_and_upgrade_keep_every_other_row(make_settings: Callable[..., Settings]) -> None:
    settings = make_settings()
    ids = build(settings, [{"title": "Ep", "guid": "a"}], {"a": transcript([(None, "Bonjour.")])})
    archive = Archive(settings)
    with archive.db.session() as s:
        episode = store.get_episode(s, ids["a"])
        assert episode is not None
        store.save_chapters(s, episode, "https://cdn.example/c.json", (Chapter(0.0, "Intro", None, None),))

    _migrate(archive, "0007", up=False)
    # On SQLite a batch copy of `episodes` would have cascaded deletes into its children.
    with archive.db.engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM transcripts")).scalar() == 1
        assert conn.execute(text("SELECT count(*) FROM segments")).scalar() == 1
    columns = {c["name"] for c in inspect(archive.db.engine).get_columns("episodes")}
    assert not any(name.startswith("chapters_") for name in columns)
    assert "episode_chapters" not in inspect(archive.db.engine).get_table_names()

    _migrate(archive, "head", up=True)
    with archive.db.session() as s:
        episode = store.get_episode(s, ids["a"])
        assert episode is not None and episode.chapters_attempts == 0 and episode.chapters_url is None
        assert store.newest_transcript(s, ids["a"]) is not None
        assert public.episode_chapters(s, ids["a"]) == []
