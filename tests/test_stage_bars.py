"""The transcribe stage's one bar at a time over several jobs in flight (archive/ingest/transcribing.py)."""

from __future__ import annotations

import pytest

from archive.ingest.transcribing import _OneBar

pytestmark = pytest.mark.fast


def bars(calls: list[tuple[float, float]]) -> list[list[tuple[float, float]]]:
    """The calls cut into bars: each (0, total) opens one, as archive/cli/progress.py does."""
    out: list[list[tuple[float, float]]] = []
    for done, total in calls:
        if done == 0.0:
            out.append([])
        out[-1].append((done, total))
    return out


def test_a_job_that_ends_before_its_turn_gets_its_bar_full_after_the_one_shown() -> None:
    calls: list[tuple[float, float]] = []
    bar = _OneBar(lambda done, total: calls.append((done, total)))
    bar.report(1, 0.0, 40.0)
    bar.report(2, 0.0, 9.0)
    bar.report(1, 10.0, 40.0)
    bar.report(2, 9.0, 9.0)
    bar.finished(2, True)  # the short one, not shown, ends first
    bar.report(1, 30.0, 40.0)
    bar.finished(1, True)
    assert bars(calls) == [[(0.0, 40.0), (10.0, 40.0), (30.0, 40.0), (40.0, 40.0)], [(0.0, 9.0), (9.0, 9.0)]]


def test_the_next_job_in_flight_catches_up_and_a_failed_one_gets_no_bar() -> None:
    calls: list[tuple[float, float]] = []
    bar = _OneBar(lambda done, total: calls.append((done, total)))
    for key in (1, 2, 3):
        bar.report(key, 0.0, 20.0)
    bar.report(3, 5.0, 20.0)
    bar.finished(2, False)  # failed before its turn
    bar.finished(1, True)  # 3 is shown next, at 5 s of 20
    bar.report(3, 20.0, 20.0)
    bar.finished(3, True)
    assert bars(calls) == [[(0.0, 20.0), (20.0, 20.0)], [(0.0, 20.0), (5.0, 20.0), (20.0, 20.0)]]
