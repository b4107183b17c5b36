"""Settings: read once from PODARCHIVE_* variables and an optional TOML file, then frozen."""

from __future__ import annotations

import dataclasses
import os
import re
import tomllib
import types
import typing
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from transcribe.options import EngineOptions

ENV_PREFIX = "PODARCHIVE_"
SECRET_FIELDS = frozenset({"meili_key", "secret_key", "mcp_token"})


class ConfigError(Exception):
    """A setting is missing or malformed."""


def _default_data_dir() -> Path:
    xdg = os.environ.get("XDG_DATA_HOME")
    return (Path(xdg) if xdg else Path.home() / ".local" / "share") / "podarchive"


@dataclass(frozen=True)
class Settings:
    """Everything podarchive reads from its environment, parsed once."""

    data_dir: Path = field(default_factory=_default_data_dir)
    # Empty means SQLite in the data directory.
    database_url: str = ""
    # An external Meilisearch; empty means podarchive runs a local one itself.
    meili_url: str = ""
    meili_key: str = ""
    meili_binary: str = ""
    index_prefix: str = "podarchive"
    # Whisper: a faster-whisper model name, a local directory, or a packaged model. The
    # engine's own defaults (transcribe.options) are the settings' defaults.
    model: str = EngineOptions.model
    device: str = EngineOptions.device
    compute_type: str = EngineOptions.compute_type
    threads: int = EngineOptions.threads
    batch_size: int = EngineOptions.batch_size
    beam_size: int = EngineOptions.beam_size
    # Transcription runs in child processes (or on Dask): a job may take
    # transcribe_timeout + transcribe_timeout_factor x audio seconds before it is killed.
    # Batched decoding: longest merged speech chunk, seconds (see docs/transcription.md).
    chunk_seconds: int = EngineOptions.chunk_seconds
    # Re-decode windows that look hallucinated (loops, text over silence); costs time.
    rerun_suspect: bool = EngineOptions.rerun_suspect
    # Batched decoding: a chunk detected as one of these languages is transcribed and
    # labelled in it rather than the episode's (French interviews with English answers);
    # empty keeps one language per episode.
    switch_languages: frozenset[str] = frozenset(EngineOptions.switch_languages)
    transcribe_timeout: float = 60.0
    transcribe_timeout_factor: float = 3.0
    # Address-space cap (RLIMIT_AS) per local worker, MB; 0 = none.
    transcribe_memory_mb: int = 8192
    # A Dask scheduler (tcp://host:8786): transcription is submitted there instead.
    dask_scheduler: str = ""
    # Local worker processes transcribing at once, each with threads / N CPU threads and
    # its own model in memory (on Dask, the cluster's worker count decides instead).
    transcribe_workers: int = 1
    # Hosts allowed to resolve to loopback or private addresses (off by default).
    allow_private_hosts: frozenset[str] = frozenset()
    contact: str = ""
    max_download_mb: int = 1024
    fetch_timeout: float = 30.0
    max_attempts: int = 5
    # 0 keeps all audio; N deletes the audio of episodes transcribed more than N days ago.
    audio_retention_days: int = 0
    # Feed watcher: minutes between polls of a healthy feed; atom:link rel="next"
    # pages followed on a feed's first import (SoundCloud back catalogues);
    # concurrent feed fetches in one poll run.
    poll_interval_minutes: int = 15
    max_feed_pages: int = 20
    poll_workers: int = 16
    # Total time one enclosure transfer may take (a broken one resumes next run).
    download_deadline_minutes: int = 30
    host: str = "127.0.0.1"
    port: int = 8080
    secret_key: str = ""
    site_language: str = ""
    site_title: str = "podarchive"
    # The site's address as readers reach it (https://archive.example.org), for absolute
    # links where no request names the host: the MCP server over stdio, and every answer
    # when set. Empty: the request's own address, else http://host:port.
    public_url: str = ""
    # An editor's API token (`podarchive users token EMAIL`) for `podarchive mcp` over
    # stdio: its write tools exist only with one.
    mcp_token: str = ""
    # IANA zone for the dates the site shows (stored times stay UTC); the first
    # archive is a Quebec magazine, so a 22:00 EST episode is dated that day, not the next.
    timezone: str = "America/Toronto"

    @property
    def db_url(self) -> str:
        """The SQLAlchemy URL in force."""
        return self.database_url or f"sqlite:///{self.data_dir / 'podarchive.db'}"

    @property
    def site_url(self) -> str:
        """The base of absolute links to the site, without a trailing slash."""
        return self.public_url.rstrip("/") or f"http://{self.host}:{self.port}"

    @property
    def tzinfo(self) -> ZoneInfo:
        """The site's time zone (validated by load_settings)."""
        return ZoneInfo(self.timezone)

    @property
    def audio_dir(self) -> Path:
        """Where downloaded enclosures live."""
        return self.data_dir / "audio"

    @property
    def cache_dir(self) -> Path:
        """Joined model weights and other rebuildable files."""
        return self.data_dir / "cache"

    @property
    def user_agent(self) -> str:
        """The User-Agent sent with every request."""
        contact = f"; {self.contact}" if self.contact else ""
        return f"podarchive/0.1 (+https://github.com/podarchive/podarchive{contact})"

    def public_items(self) -> list[tuple[str, str]]:
        """Settings as (name, printable value) pairs, secrets masked."""
        rows = []
        for f in dataclasses.fields(self):
            value = getattr(self, f.name)
            if f.name in SECRET_FIELDS:
                text = "****" if value else "(unset)"
            elif isinstance(value, frozenset):
                text = ",".join(sorted(value))
            else:
                text = str(value)
            rows.append((f.name, text))
        rows.append(("db_url (in force)", _mask_url(self.db_url)))
        return rows


def _mask_url(url: str) -> str:
    """Hide a password inside a database URL.

    >>> _mask_url("postgresql://me:secret@db/podarchive")
    'postgresql://me:****@db/podarchive'
    >>> _mask_url("sqlite:///x.db")
    'sqlite:///x.db'
    """
    scheme, sep, rest = url.partition("://")
    if not sep or "@" not in rest:
        return url
    creds, _, host = rest.rpartition("@")
    user, has_pw, _ = creds.partition(":")
    return f"{scheme}://{user}{':****' if has_pw else ''}@{host}"


def _convert(name: str, raw: Any, kind: Any) -> Any:
    """Turn a TOML or environment value into the field's type."""
    if isinstance(kind, types.UnionType) or typing.get_origin(kind) is typing.Union:
        kind = next(k for k in typing.get_args(kind) if k is not type(None))
    try:
        if kind is Path:
            return Path(str(raw)).expanduser()
        if kind is bool:
            if isinstance(raw, bool):
                return raw
            return str(raw).strip().lower() in {"1", "true", "yes", "on"}
        if kind is int:
            return int(raw)
        if kind is float:
            return float(raw)
        if typing.get_origin(kind) is frozenset:
            items = raw if isinstance(raw, list) else str(raw).split(",")
            return frozenset(str(i).strip() for i in items if str(i).strip())
        return str(raw)
    except (TypeError, ValueError) as exc:
        raise ConfigError(f"setting {name}: cannot read {raw!r} as {kind}") from exc


def load_settings(environ: Mapping[str, str] | None = None, **overrides: Any) -> Settings:
    """Build Settings from a TOML file (PODARCHIVE_CONFIG), then the environment, then overrides."""
    env = os.environ if environ is None else environ
    hints = typing.get_type_hints(Settings)
    names = {f.name for f in dataclasses.fields(Settings)}
    values: dict[str, Any] = {}

    config_path = env.get(ENV_PREFIX + "CONFIG")
    if config_path:
        try:
            with open(config_path, "rb") as fh:
                table = tomllib.load(fh)
        except (OSError, tomllib.TOMLDecodeError) as exc:
            raise ConfigError(f"cannot read config file {config_path}: {exc}") from exc
        for key, raw in table.items():
            if key not in names:
                raise ConfigError(f"{config_path}: unknown setting {key!r}")
            values[key] = _convert(key, raw, hints[key])

    for key, raw in env.items():
        if not key.startswith(ENV_PREFIX) or key == ENV_PREFIX + "CONFIG":
            continue
        name = key[len(ENV_PREFIX) :].lower()
        if name not in names:
            raise ConfigError(f"unknown environment setting {key}")
        values[name] = _convert(name, raw, hints[name])

    for name, raw in overrides.items():
        values[name] = _convert(name, raw, hints[name])

    settings = Settings(**values)
    if bool(settings.meili_url) != bool(settings.meili_key) and settings.meili_url:
        raise ConfigError("PODARCHIVE_MEILI_URL is set without PODARCHIVE_MEILI_KEY")
    if settings.batch_size < 0 or settings.threads < 0:
        raise ConfigError("batch_size and threads must be zero or more")
    if settings.transcribe_workers < 1:
        raise ConfigError("PODARCHIVE_TRANSCRIBE_WORKERS must be 1 or more")
    bad = sorted(c for c in settings.switch_languages if not re.fullmatch(r"[a-z]{2,3}", c.lower()))
    if bad:
        raise ConfigError(f"PODARCHIVE_SWITCH_LANGUAGES: {', '.join(bad)} not a language code such as fr or en")
    if settings.public_url and not re.fullmatch(r"https?://[^/\s?#]+(/[^\s?#]*)?", settings.public_url):
        raise ConfigError(
            f"PODARCHIVE_PUBLIC_URL: {settings.public_url!r} is not an http(s) address such as https://archive.example.org"
        )
    # Whisper's codes are lower case; "FR" would silently never match.
    settings = dataclasses.replace(settings, switch_languages=frozenset(c.lower() for c in settings.switch_languages))
    try:
        ZoneInfo(settings.timezone)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        if not available_timezones():
            raise ConfigError(
                "no time zone database: install the system's tzdata package (or pip install tzdata)"
            ) from exc
        raise ConfigError(
            f"PODARCHIVE_TIMEZONE: unknown time zone {settings.timezone!r};"
            " give an IANA name such as America/Toronto or UTC"
        ) from exc
    return settings
