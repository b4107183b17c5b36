"""A pytest plugin: no process the test run started outlives it.

Every process the suite starts inherits TEST_RUN_ID, or names the run's temporary
directory in its arguments (a Meilisearch ``--db-path``, a data directory). When the
run ends, any such process still alive a few seconds later is reported, killed, and the
run fails. The grace lets helpers that end with their owner finish ending: Python's
multiprocessing resource tracker, for one, exits when it reads the end of its pipe, a
moment after the xdist worker that started it.
"""

from __future__ import annotations

import contextlib
import os
import signal
import time
import uuid
from pathlib import Path

import pytest

ENV = "TEST_RUN_ID"
GRACE_S = 10.0


def _read(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except OSError:  # gone, or a kernel thread
        return b""


def _ancestors() -> set[int]:
    """This process and its parents: the pytest that checks, and whatever started it."""
    pids, pid = set(), os.getpid()
    while pid > 1:
        pids.add(pid)
        stat = _read(Path(f"/proc/{pid}/stat")).decode(errors="replace")
        try:
            pid = int(stat.rsplit(")", 1)[1].split()[1])
        except (IndexError, ValueError):
            break
    return pids


def _ends_with_us(cmdline: bytes, stat: bytes, mine: set[int]) -> bool:
    """Python's multiprocessing resource tracker of this very process: it exits with it."""
    try:
        parent = int(stat.rsplit(b")", 1)[1].split()[1])
    except (IndexError, ValueError):
        return False
    return parent in mine and b"multiprocessing.resource_tracker" in cmdline


def leftovers(run_id: str, basetemp: Path) -> list[tuple[int, str]]:
    """(pid, command line) of live processes of this run, other than this one and its parents."""
    mine = _ancestors()
    marker, temp = f"{ENV}={run_id}".encode(), str(basetemp).encode()
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit() or int(entry.name) in mine:
            continue
        cmdline = _read(entry / "cmdline")
        if not cmdline:
            continue
        stat = _read(entry / "stat")
        if b") Z" in stat:  # a zombie: dead, only not reaped yet
            continue
        if _ends_with_us(cmdline, stat, mine):
            continue
        environ = _read(entry / "environ")
        if marker in environ.split(b"\0") or temp in cmdline:
            found.append((int(entry.name), cmdline.replace(b"\0", b" ").decode(errors="replace").strip()))
    return found


def _stop(pids: list[int]) -> None:
    for sig in (signal.SIGTERM, signal.SIGKILL):
        for pid in pids:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, sig)
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline and any(Path(f"/proc/{p}/cmdline").exists() for p in pids):
            time.sleep(0.1)


def pytest_configure(config: pytest.Config) -> None:
    # A fresh id for every run, nested runs included: an outer run's processes are not ours.
    if not hasattr(config, "workerinput"):
        os.environ[ENV] = uuid.uuid4().hex


@pytest.hookimpl(trylast=True)
def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    config = session.config
    if hasattr(config, "workerinput"):  # xdist workers: the controller checks once for all
        return
    basetemp = config._tmp_path_factory.getbasetemp()  # type: ignore[attr-defined]
    deadline = time.monotonic() + GRACE_S
    while (found := leftovers(os.environ[ENV], basetemp)) and time.monotonic() < deadline:
        time.sleep(0.2)
    if not found:
        return
    _stop([pid for pid, _ in found])
    reporter = config.pluginmanager.get_plugin("terminalreporter")
    lines = [f"{len(found)} process(es) left running after the tests (killed now):"]
    lines += [f"  pid {pid}: {cmd[:300]}" for pid, cmd in found]
    for line in lines:
        if reporter is not None:
            reporter.write_line(line, red=True)
    session.exitstatus = pytest.ExitCode.TESTS_FAILED
