"""Migration 0010 (search by meaning) down and up again on a database with vectors, on both databases;
and the migrated tables match the schema the code declares."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import func, inspect, select, text

from archive import public, store
from archive.config import Settings
from archive.context import Archive
from archive.ingest import embed_passages
from archive.store.schema import Base, EpisodeVectors, PassageVector
from tests.search_corpus import add_show
from tests.test_migration_chapters import _migrate

# From an empty database: the migrations themselves run, from the first one up.
pytestmark = pytest.mark.empty_database


def _our_tables_differ(archive: Archive) -> list[object]:
    with archive.db.engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), Base.metadata)
    # Only what this migration owns: the other tables' drift is not its business.
    return [d for d in diff if "vectors" in repr(d)]


def test_downgrade_and_upgrade_keep_every_other_row(make_settings: Callable[..., Settings]) -> None:
    archive = Archive(make_settings())
    ids = add_show(archive, "Le Magazine", {"Un": ["le tigre rugit", "le lion aussi"]})
    assert embed_passages(archive).done == 1
    assert _our_tables_differ(archive) == []
    with archive.db.session() as s:
        assert s.scalar(select(func.count(PassageVector.text_hash))) == 2
        assert s.scalar(select(func.count(EpisodeVectors.episode_id))) == 1

    _migrate(archive, "0009", up=False)
    tables = inspect(archive.db.engine).get_table_names()
    assert "passage_vectors" not in tables and "episode_vectors" not in tables
    with archive.db.engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM segments")).scalar() == 2

    _migrate(archive, "head", up=True)
    assert _our_tables_differ(archive) == []
    with archive.db.session() as s:
        assert store.newest_transcript(s, ids["Un"]) is not None
        # The vectors went with the table; the embed stage sees the episode as waiting again.
        backlog = store.vector_backlog(s, public.visible_texts(), archive.embedder.model_id)  # type: ignore[union-attr]
        assert (backlog.unchecked_episodes, backlog.unchecked_passages) == (1, 2)
    assert embed_passages(archive).done == 1
