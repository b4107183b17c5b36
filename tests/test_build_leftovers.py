"""The suite's own guard: a process a test run leaves behind is reported, killed, and fails the run."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

ROOT = Path(__file__).parent.parent
pytest_plugins = ["pytester"]

LEAKY = """
import os, pathlib, subprocess, sys

def test_starts_a_server_and_forgets_it(tmp_path):
    proc = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(600)"], cwd=tmp_path)
    pathlib.Path(os.environ["LEAK_PID_FILE"]).write_text(str(proc.pid))
"""

TIDY = """
import subprocess, sys

def test_starts_a_server_and_stops_it(tmp_path):
    proc = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(600)"], cwd=tmp_path)
    proc.kill()
    proc.wait()
"""

ENDS_SOON = """
import subprocess, sys

def test_starts_a_helper_that_ends_on_its_own(tmp_path):
    # like multiprocessing's resource tracker: it outlives the test by a moment
    subprocess.Popen([sys.executable, "-c", "import time; time.sleep(2)"], cwd=tmp_path)
"""

TRACKED = """
import multiprocessing

def test_uses_a_spawn_lock():
    # starts this pytest's multiprocessing resource tracker, which lives until pytest exits
    multiprocessing.get_context("spawn").Lock()
"""


def _run(pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch, source: str) -> pytest.RunResult:
    monkeypatch.setenv("PYTHONPATH", str(ROOT))
    monkeypatch.setenv("LEAK_PID_FILE", str(pytester.path / "leaked.pid"))
    pytester.makepyfile(test_inner=source)
    return pytester.runpytest_subprocess("-p", "tests.leftovers", "-p", "no:cacheprovider", "-q")


def _alive(pid: int) -> bool:
    stat = Path(f"/proc/{pid}/stat")
    return stat.exists() and ") Z" not in stat.read_text()


def test_a_process_left_running_fails_the_run_and_is_killed(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    result = _run(pytester, monkeypatch, LEAKY)
    assert result.ret == pytest.ExitCode.TESTS_FAILED, result.stdout.str()
    result.stdout.fnmatch_lines(["*1 process(es) left running after the tests (killed now):*", "*time.sleep(600)*"])
    pid = int((pytester.path / "leaked.pid").read_text())
    for _ in range(50):
        if not _alive(pid):
            break
        time.sleep(0.1)
    assert not _alive(pid)


def test_a_run_that_stops_what_it_starts_passes(pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch) -> None:
    result = _run(pytester, monkeypatch, TIDY)
    assert result.ret == pytest.ExitCode.OK, result.stdout.str()
    assert "left running" not in result.stdout.str()


def test_a_process_ending_on_its_own_within_the_grace_passes(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    result = _run(pytester, monkeypatch, ENDS_SOON)
    assert result.ret == pytest.ExitCode.OK, result.stdout.str()
    assert "left running" not in result.stdout.str()


def test_pytests_own_resource_tracker_is_not_a_leftover(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    result = _run(pytester, monkeypatch, TRACKED)
    assert result.ret == pytest.ExitCode.OK, result.stdout.str()
    assert "left running" not in result.stdout.str()
