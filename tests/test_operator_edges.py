"""Settings and commands that ended in a traceback or did something else silently (issue 19, item 11)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from archive.config import ConfigError, load_settings
from tests.conftest import settings_env


def _cli(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    # A minute: `serve` on a port it should refuse would otherwise serve until killed.
    return subprocess.run(
        [sys.executable, "-m", "archive.cli", *args], env=env, capture_output=True, text=True, timeout=60
    )


@pytest.mark.fast
@pytest.mark.parametrize("port", ["99999", "-1", "0", "65536"])
def test_a_port_outside_1_to_65535_is_a_configuration_error(tmp_path: Path, port: str) -> None:
    with pytest.raises(ConfigError, match=r"PODARCHIVE_PORT.*1 to 65535"):
        load_settings(environ={"PODARCHIVE_PORT": port}, data_dir=tmp_path)


@pytest.mark.fast
@pytest.mark.parametrize("port", ["1", "8080", "65535"])
def test_ports_inside_the_range_are_kept(tmp_path: Path, port: str) -> None:
    assert load_settings(environ={"PODARCHIVE_PORT": port}, data_dir=tmp_path).port == int(port)


@pytest.mark.parametrize("port", ["99999", "-1"])
def test_serve_with_a_bad_port_says_so_and_serves_nothing(tmp_path: Path, port: str) -> None:
    env = settings_env(load_settings(environ={}, data_dir=tmp_path / "data"))
    out = _cli({**env, "PODARCHIVE_PORT": port}, "serve")
    assert out.returncode == 2 and "Traceback" not in out.stderr, out.stderr
    assert "configuration error: PODARCHIVE_PORT" in out.stderr and port in out.stderr
    # The command line's own --port is held to the same range.
    flag = _cli(env, "serve", "--port", port)
    assert flag.returncode == 2 and "Traceback" not in flag.stderr and "1<=x<=65535" in flag.stderr, flag.stderr


def _uncreatable(tmp_path: Path, how: str) -> Path:
    if how == "under-a-file":
        (tmp_path / "a-file").write_text("")
        return tmp_path / "a-file" / "data"
    if os.geteuid() == 0:
        pytest.skip("root may write anywhere: no permission to refuse")
    locked = tmp_path / "locked"
    locked.mkdir(mode=0o500)
    return locked / "data"


@pytest.mark.parametrize("how", ["under-a-file", "parent-not-writable"])
def test_doctor_on_a_data_directory_it_cannot_create_prints_a_fail_line(tmp_path: Path, how: str) -> None:
    data_dir = _uncreatable(tmp_path, how)
    env = settings_env(load_settings(environ={}, data_dir=data_dir))
    out = _cli(env, "doctor", "--skip-model")
    assert out.returncode == 1 and "Traceback" not in out.stdout + out.stderr, out.stdout + out.stderr
    assert f"FAIL data_dir     cannot create the data directory {data_dir}" in out.stdout, out.stdout
    assert "fix: " in out.stdout and "ok   ffmpeg" in out.stdout  # the checks that need no data directory still run
    # Any other command: one clear line, no traceback.
    status = _cli(env, "status")
    assert status.returncode == 2 and "Traceback" not in status.stderr, status.stderr
    assert f"configuration error: cannot create the data directory {data_dir}" in status.stderr
