"""The wheel works on its own: built without warnings, installed (not editable) into a fresh venv."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import textwrap
import tomllib
from pathlib import Path

import pytest

ROOT = Path(__file__).parent.parent
pytestmark = pytest.mark.slow


def _uv() -> Path:
    version = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["uv"]["required-version"].lstrip("=")
    uv = ROOT / ".cache" / f"uv-{version}" / "bin" / "uv"
    assert uv.exists(), f"{uv} missing: ./dev setup installs it"
    return uv


def _run(*args: object, env: dict[str, str] | None = None, cwd: Path | None = None) -> str:
    done = subprocess.run([str(a) for a in args], capture_output=True, text=True, env=env, cwd=cwd, timeout=900)
    assert done.returncode == 0, f"{args}\n{done.stdout}\n{done.stderr}"
    return done.stdout + done.stderr


def _clean_env() -> dict[str, str]:
    """The environment without this machine's pip configuration or the suite's settings."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PODARCHIVE_", "VIRTUAL_ENV", "UV_", "PIP_"))}
    return {**env, "PIP_CONFIG_FILE": os.devnull, "UV_PYTHON_DOWNLOADS": "never"}


def test_wheel_installed_into_a_fresh_venv_runs_the_cli_and_the_site(tmp_path: Path) -> None:
    uv, env = _uv(), _clean_env()
    # A copy of the sources, so the build leaves nothing in the checkout.
    src = tmp_path / "src"
    shutil.copytree(
        ROOT,
        src,
        ignore=shutil.ignore_patterns(
            ".git", ".venv*", ".cache", "data", "test-artifacts", "build", "*.egg-info", "__pycache__", "tests"
        ),
    )
    venv = tmp_path / "venv"
    _run(uv, "venv", "--quiet", "--seed", "--python", sys.executable, venv, env=env)
    py = venv / "bin" / "python"
    log = _run(py, "-m", "pip", "wheel", "--no-deps", "-w", tmp_path / "dist", src, env=env)
    # setuptools' "Package would be ignored" and friends: package data not declared.
    warnings = [line for line in log.splitlines() if "warn" in line.lower()]
    assert not warnings, "\n".join(warnings)
    (wheel,) = (tmp_path / "dist").glob("podarchive-*.whl")

    # The runtime dependencies exactly as locked (no extras, no checks), then the wheel alone.
    requirements = tmp_path / "requirements.txt"
    requirements.write_text(
        _run(
            uv,
            "export",
            "--quiet",
            "--frozen",
            "--no-dev",
            "--no-emit-project",
            "--no-header",
            "--format",
            "requirements-txt",
            cwd=ROOT,
            env=env,
        )
    )
    _run(uv, "pip", "install", "--quiet", "--python", py, "--require-hashes", "-r", requirements, env=env)
    _run(uv, "pip", "install", "--quiet", "--python", py, "--no-deps", wheel, env=env)

    run_env = {**env, "PODARCHIVE_DATA_DIR": str(tmp_path / "data"), "HF_HUB_OFFLINE": "1"}
    help_text = _run(venv / "bin" / "podarchive", "--help", env=run_env, cwd=tmp_path)
    assert "ingest" in help_text and "search" in help_text

    probe = textwrap.dedent(
        """
        import importlib.resources, sys
        import archive, web
        from web import create_app
        # Imported from the venv, not from the checkout.
        assert "site-packages" in archive.__file__ and "site-packages" in web.__file__, archive.__file__
        demo = importlib.resources.files("archive") / "demo"
        assert (demo / "feed.xml").is_file() and len(list(demo.iterdir())) >= 5
        client = create_app().test_client()
        fr = client.get("/", headers={"Accept-Language": "fr-CA"})
        en = client.get("/", headers={"Accept-Language": "en"})
        assert fr.status_code == en.status_code == 200, (fr.status_code, en.status_code)
        page_fr, page_en = fr.get_data(as_text=True), en.get_data(as_text=True)
        # Templates found, and the French catalogue shipped, compiled and used.
        assert '<html lang="fr-CA">' in page_fr and '<html lang="en">' in page_en
        assert "Rechercher" in page_fr and "Rechercher" not in page_en and "Search" in page_en
        css = client.get("/static/site.css")
        assert css.status_code == 200 and len(css.data) > 100
        print("ok")
        """
    )
    out = _run(venv / "bin" / "python", "-c", probe, env=run_env, cwd=tmp_path)
    assert out.strip().endswith("ok")
