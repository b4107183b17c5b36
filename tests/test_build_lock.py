"""uv.lock says the same as pyproject.toml, and pins every package with a hash."""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

ROOT = Path(__file__).parent.parent
pytestmark = pytest.mark.fast


def _pyproject() -> dict:
    return tomllib.loads((ROOT / "pyproject.toml").read_text())


def _lock() -> dict:
    return tomllib.loads((ROOT / "uv.lock").read_text())


def _key(req: Requirement, extra: str | None = None) -> tuple[str, frozenset[str], str, str | None]:
    marker = f"extra == '{extra}'" if extra else (str(req.marker) if req.marker else None)
    return canonicalize_name(req.name), frozenset(req.extras), str(req.specifier), marker


def _locked_key(entry: dict) -> tuple[str, frozenset[str], str, str | None]:
    return (
        canonicalize_name(entry["name"]),
        frozenset(entry.get("extras", ())),
        str(Requirement(f"x{entry.get('specifier', '')}").specifier),
        entry.get("marker"),
    )


def _root(lock: dict) -> dict:
    name = _pyproject()["project"]["name"]
    return next(p for p in lock["package"] if p["name"] == name)


def test_lock_records_exactly_the_dependencies_of_pyproject() -> None:
    """The lock was made from this pyproject.toml: `./dev lock` after any dependency change."""
    project = _pyproject()["project"]
    wanted = {_key(Requirement(r)) for r in project["dependencies"]}
    for extra, reqs in project["optional-dependencies"].items():
        wanted |= {_key(Requirement(r), extra) for r in reqs}
    meta = _root(_lock())["metadata"]
    locked = {_locked_key(e) for e in meta["requires-dist"]}
    assert locked == wanted, "uv.lock is stale: run ./dev lock"
    assert sorted(meta["provides-extras"]) == sorted(project["optional-dependencies"])


def test_lock_records_the_dev_group() -> None:
    groups = _pyproject()["dependency-groups"]
    requires_dev = _root(_lock())["metadata"]["requires-dev"]
    assert set(groups) == set(requires_dev)
    for group, reqs in groups.items():
        assert {_key(Requirement(r)) for r in reqs} == {_locked_key(e) for e in requires_dev[group]}, group


def test_every_locked_package_is_pinned_with_a_hash_from_pypi() -> None:
    lock = _lock()
    root = _root(lock)["name"]
    packages = [p for p in lock["package"] if p["name"] != root]
    assert len(packages) > 50
    for p in packages:
        assert p["version"], p["name"]
        assert p["source"] == {"registry": "https://pypi.org/simple"}, p["name"]
        files = p.get("wheels", []) + ([p["sdist"]] if "sdist" in p else [])
        assert files and all(f["hash"].startswith("sha256:") for f in files), p["name"]


def test_lock_covers_the_supported_pythons() -> None:
    requires = _pyproject()["project"]["requires-python"]
    assert _lock()["requires-python"] == requires == ">=3.11"
