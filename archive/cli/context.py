"""What every command receives: the settings parsed once, the archive opened on first use; exit codes."""

from __future__ import annotations

import sys

import click

from archive.config import Settings
from archive.context import Archive
from archive.data_dir import DataDirError

EXIT_OK, EXIT_ITEMS_FAILED, EXIT_CONFIG = 0, 1, 2


class Context:
    """Settings parsed once per invocation; the archive opened on demand."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self._archive: Archive | None = None

    @property
    def archive(self) -> Archive:
        if self._archive is None:
            try:
                self._archive = Archive(self.settings)
            except DataDirError as exc:
                click.echo(f"configuration error: {exc}", err=True)
                sys.exit(EXIT_CONFIG)
        return self._archive


pass_ctx = click.make_pass_decorator(Context)
