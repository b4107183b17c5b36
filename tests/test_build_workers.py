"""How the suite is spread over xdist workers: what is expensive to build is built on one worker only.

These look at the session's own collection, so they need the tests they speak of collected with them (the
whole suite, as `./dev test` runs it).
"""

from __future__ import annotations

import os

import pytest


def _collected(request: pytest.FixtureRequest, wanted: str) -> list[pytest.Item]:
    items = [i for i in request.session.items if wanted in getattr(i, "fixturenames", ())]
    if not items:
        pytest.skip(f"no test using {wanted} collected with this one")
    return items


def _scheduled_by(request: pytest.FixtureRequest) -> bool:
    """Whether this is an xdist worker scheduling by loadgroup (./dev test)."""
    return bool(os.environ.get("PYTEST_XDIST_WORKER") and request.config.getvalue("loadgroup"))


def test_the_demo_site_tests_share_one_worker(request: pytest.FixtureRequest) -> None:
    items = _collected(request, "live_site")
    assert all(i.get_closest_marker("xdist_group") for i in items)
    if _scheduled_by(request):
        # loadgroup schedules by this suffix of the node id; xdist adds it only for the marks it sees when its own
        # collection hook runs (before it, then: tryfirst). Without it each worker ingested the demo for itself.
        assert all(i.nodeid.endswith("@live_site") for i in items), [i.nodeid for i in items][:3]


def test_the_tests_of_a_module_fixture_share_one_worker(request: pytest.FixtureRequest) -> None:
    # The search-by-meaning corpus, embedded and indexed once per module (about 10 s of CPU).
    items = [i for i in _collected(request, "site") if i.nodeid.startswith("tests/test_search_meaning_web.py")]
    assert len(items) > 1
    groups = {m.args[0] for i in items for m in i.iter_markers("xdist_group")}
    assert len(groups) == 1
    (group,) = groups
    if _scheduled_by(request):
        assert all(i.nodeid.endswith(f"@{group}") for i in items)
