"""Backups: an online copy of the database, the audio list with checksums, settings without secrets."""

from __future__ import annotations

import json
import os
import shutil
import sqlite3
import subprocess
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.engine import make_url

from archive.config import SECRET_FIELDS, Settings
from archive.data_dir import make_private
from archive.search.server import sha256_file
from archive.store.database import Database
from archive.store.schema import AudioFile

SQLITE_NAME = "podarchive.db"
PG_NAME = "podarchive.pgdump"


class BackupError(Exception):
    """A backup or restore could not be made."""


@dataclass(frozen=True)
class BackupSummary:
    """What a backup holds."""

    path: Path
    revision: str | None
    audio_files: int
    audio_copied: int


def backup(db: Database, dest: Path, *, with_audio: bool = False) -> BackupSummary:
    """Write a consistent copy of the database (online) plus manifests into `dest`."""
    settings = db.settings
    if dest.exists() and any(dest.iterdir()):
        raise BackupError(f"{dest} is not empty")
    # A backup holds what the data directory holds: private like it, from its first byte.
    dest.mkdir(mode=0o700, parents=True, exist_ok=True)
    dest.chmod(0o700)
    url = make_url(settings.db_url)
    if url.get_backend_name() == "sqlite":
        _sqlite_copy(Path(url.database or ""), dest / SQLITE_NAME)
    elif url.get_backend_name() == "postgresql":
        _pg_dump(settings.db_url, dest / PG_NAME)
    else:
        raise BackupError(f"no backup method for {url.get_backend_name()}")

    with db.session() as s:
        audio = [(a.path, a.size, a.sha256) for a in s.scalars(select(AudioFile).order_by(AudioFile.id))]
    copied = 0
    with open(dest / "audio-manifest.jsonl", "w") as fh:
        for path, size, digest in audio:
            fh.write(json.dumps({"path": path, "size": size, "sha256": digest}) + "\n")
            if with_audio and (settings.audio_dir / path).exists():
                (dest / "audio").mkdir(exist_ok=True)
                shutil.copy2(settings.audio_dir / path, dest / "audio" / path)
                copied += 1
    # Secrets left out; passwords inside URL settings masked.
    public = {k: v for k, v in settings.masked().items() if k not in SECRET_FIELDS}
    (dest / "settings.json").write_text(json.dumps(public, default=_jsonable, indent=2))
    revision = db.current_revision()
    (dest / "manifest.json").write_text(
        json.dumps(
            {
                "created_at": datetime.now(UTC).isoformat(),
                "schema_revision": revision,
                "database": SQLITE_NAME if url.get_backend_name() == "sqlite" else PG_NAME,
                "audio_files": len(audio),
                "audio_copied": copied,
            },
            indent=2,
        )
    )
    # pg_dump and copied audio keep modes of their own; none may stay readable by others.
    make_private(dest)
    return BackupSummary(dest, revision, len(audio), copied)


def restore(settings: Settings, src: Path, *, force: bool = False) -> list[str]:
    """Put a backup's database (and audio, if it holds any) in place; returns problems found."""
    manifest_path = src / "manifest.json"
    if not manifest_path.exists():
        raise BackupError(f"{src} holds no manifest.json: not a podarchive backup")
    manifest = json.loads(manifest_path.read_text())
    url = make_url(settings.db_url)
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    if url.get_backend_name() == "sqlite":
        target = Path(url.database or "")
        if target.exists() and not force:
            raise BackupError(f"{target} exists; pass --force to replace it")
        source = src / manifest["database"]
        if not source.exists():
            raise BackupError(f"{source} missing from the backup")
        for suffix in ("-wal", "-shm"):
            Path(f"{target}{suffix}").unlink(missing_ok=True)
        _sqlite_copy(source, target)
    elif url.get_backend_name() == "postgresql":
        proc = subprocess.run(
            ["pg_restore", "--clean", "--if-exists", "--no-owner", "-d", settings.db_url, str(src / PG_NAME)],
            capture_output=True,
            text=True,
        )
        if proc.returncode != 0:
            raise BackupError(f"pg_restore failed: {proc.stderr.strip()[-500:]}")
    problems = []
    audio_src = src / "audio"
    with open(src / "audio-manifest.jsonl") as fh:
        for line in fh:
            item = json.loads(line)
            name = Path(item["path"]).name  # names are podarchive's own; never a path
            target_file = settings.audio_dir / name
            if (audio_src / name).exists():
                settings.audio_dir.mkdir(parents=True, exist_ok=True)
                shutil.copy2(audio_src / name, target_file)
            if not target_file.exists():
                problems.append(f"audio missing: {name}")
            elif sha256_file(target_file) != item["sha256"]:
                problems.append(f"audio checksum differs: {name}")
    return problems


def _sqlite_copy(source: Path, target: Path) -> None:
    """SQLite's online backup API: a consistent copy while others write."""
    tmp = target.with_name(target.name + ".partial")
    tmp.unlink(missing_ok=True)
    src = sqlite3.connect(f"file:{source}?mode=ro", uri=True)
    dst = sqlite3.connect(tmp)
    try:
        src.backup(dst)
        dst.execute("PRAGMA journal_mode=DELETE")
    finally:
        dst.close()
        src.close()
    os.replace(tmp, target)


def _pg_dump(db_url: str, target: Path) -> None:
    url = make_url(db_url).set(drivername="postgresql")
    proc = subprocess.run(
        ["pg_dump", "--format=custom", "--file", str(target), url.render_as_string(hide_password=False)],
        capture_output=True,
        text=True,
    )
    if proc.returncode != 0:
        raise BackupError(f"pg_dump failed: {proc.stderr.strip()[-500:]}")


def _jsonable(value: object) -> object:
    if isinstance(value, frozenset):
        return sorted(value)
    return str(value)
