"""A command imports what it uses: the migration check without Alembic, commands loaded by name."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import click
import pytest

from archive.cli import COMMANDS, main
from archive.store.database import MIGRATIONS, Database, shipped_head

ROOT = Path(__file__).parent.parent
pytestmark = pytest.mark.fast

# What `users list` has no use for: migrations, the search client, the HTTP stack, the feed
# parser, arrays. Each used to load in every command (about half of its start-up).
UNUSED = ("alembic", "meilisearch", "httpx", "feedparser", "numpy", "archive.ingest", "archive.search.index")


def test_the_head_read_from_the_files_is_alembics() -> None:
    assert shipped_head() == Database.head_revision()
    assert shipped_head(MIGRATIONS / "versions") is not None


def _migration(folder: Path, name: str, revision: str, down: str) -> None:
    (folder / name).write_text(
        f"revision: str = {revision}\ndown_revision: str | None = {down}\n\ndef upgrade(): ...\n"
    )


def test_a_chain_the_lines_cannot_tell_is_left_to_alembic(tmp_path: Path) -> None:
    for folder in ("chain", "not_literal", "merge", "no_lines"):
        (tmp_path / folder).mkdir()
    for folder in ("chain", "not_literal"):
        _migration(tmp_path / folder, "0001_a.py", '"0001"', "None")
        _migration(tmp_path / folder, "0002_b.py", '"0002"', '"0001"')
    assert shipped_head(tmp_path / "chain") == "0002"
    _migration(tmp_path / "not_literal", "0003_c.py", "REVISION", '"0002"')
    assert shipped_head(tmp_path / "not_literal") is None
    merge = tmp_path / "merge"
    _migration(merge, "0001_a.py", '"0001"', "None")
    _migration(merge, "0002_b.py", '"0002"', '"0001"')
    _migration(merge, "0003_c.py", '"0003"', '"0001"')
    _migration(merge, "0004_m.py", '"0004"', '("0002", "0003")')
    assert shipped_head(merge) is None
    (tmp_path / "no_lines" / "0001_a.py").write_text("def upgrade(): ...\n")
    assert shipped_head(tmp_path / "no_lines") is None


def test_every_command_loads_under_its_name() -> None:
    ctx = click.Context(main)
    assert set(main.list_commands(ctx)) == {*COMMANDS, "config"}
    for name in COMMANDS:
        command = main.get_command(ctx, name)
        assert command is not None and command.name == name


@pytest.mark.parametrize(
    ("command", "unused"),
    [
        (["users", "list"], UNUSED),
        # `status` reads the queues and asks the server's health over HTTP: no search client.
        (["status"], ("alembic", "meilisearch", "archive.search.index")),
    ],
)
def test_a_command_on_a_migrated_database_loads_only_what_it_uses(
    tmp_path: Path, command: list[str], unused: tuple[str, ...]
) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PODARCHIVE_")}
    env["PODARCHIVE_DATA_DIR"] = str(tmp_path / "data")
    probe = (
        "import sys\nfrom archive.cli import main\n"
        f"try:\n    main({command!r})\nexcept SystemExit as exit:\n    assert not exit.code, exit.code\n"
        f"print('loaded:', ','.join(m for m in {unused!r} if m in sys.modules))"
    )
    first = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, cwd=ROOT, env=env, timeout=120
    )
    assert first.returncode == 0, first.stderr
    # The first run migrated the new database (Alembic); the next one only checks the stamp.
    again = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, cwd=ROOT, env=env, timeout=120
    )
    assert again.returncode == 0, again.stderr
    assert again.stdout.strip().splitlines()[-1] == "loaded:", again.stdout
