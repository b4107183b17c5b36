"""The data directory and backups: private to their owner (folders 0700, files 0600)."""

from __future__ import annotations

import logging
import os
import stat
from pathlib import Path

from archive.config import Settings

log = logging.getLogger("podarchive.data_dir")

# Group and others get nothing. A umask rather than a chmod after each write: it also
# covers what others create in the data directory for us, SQLite's WAL and shared-memory
# files, Meilisearch's data, faster-whisper's and Babel's caches, with no moment in
# which a file exists readable by all.
PRIVATE_UMASK = 0o077
_OPEN_BITS = 0o077


class DataDirError(Exception):
    """The data directory cannot be created or used."""


def use_private_umask() -> None:
    """From now on this process creates files 0600 and folders 0700."""
    os.umask(PRIVATE_UMASK)


def prepare(settings: Settings) -> None:
    """Create the data directory private, or tighten an existing one that others could read."""
    use_private_umask()
    path = settings.data_dir
    try:
        path.mkdir(mode=0o700, parents=True, exist_ok=True)
    except OSError as exc:
        raise DataDirError(f"cannot create the data directory {path}: {exc.strerror or exc}") from exc
    if not path.is_dir():
        raise DataDirError(f"the data directory {path} is not a directory")
    if not _needs_tightening(path):
        return
    changed, refused = make_private(path)
    log.warning(
        "data directory %s was readable by other users: %d entries made private (folders 0700, files 0600)%s",
        path,
        changed,
        f"; {refused} could not be changed (not ours?)" if refused else "",
    )


def _needs_tightening(path: Path) -> bool:
    """Whether the directory or anything directly in it is open to others.

    A private directory keeps others out of everything below it, so a deeper walk (the
    whole audio store) is only needed once: the first start after it was found open.
    """
    try:
        if path.stat().st_mode & _OPEN_BITS:
            return True
        with os.scandir(path) as entries:
            return any(
                not entry.is_symlink() and entry.stat(follow_symlinks=False).st_mode & _OPEN_BITS for entry in entries
            )
    except OSError:
        return False


def make_private(root: Path) -> tuple[int, int]:
    """Remove group and other permissions from root and everything below it; (changed, refused).

    Symbolic links are neither changed nor followed: what they point at is not ours.
    """
    changed = refused = 0
    for folder, dirs, files in os.walk(root):
        for name in [None, *dirs, *files]:
            path = folder if name is None else os.path.join(folder, name)
            try:
                mode = os.lstat(path).st_mode
                if stat.S_ISLNK(mode) or not mode & _OPEN_BITS:
                    continue
                os.chmod(path, stat.S_IMODE(mode) & ~_OPEN_BITS)
                changed += 1
            except OSError:
                refused += 1
    return changed, refused
