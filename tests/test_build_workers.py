"""How the suite is spread over xdist workers: the demo site is ingested (base model) on one of them only."""

from __future__ import annotations

import os

import pytest


def test_the_demo_site_tests_share_one_worker(request: pytest.FixtureRequest) -> None:
    items = [i for i in request.session.items if "live_site" in getattr(i, "fixturenames", ())]
    assert items
    assert all(i.get_closest_marker("xdist_group") for i in items)
    if os.environ.get("PYTEST_XDIST_WORKER") and request.config.getvalue("loadgroup"):
        # loadgroup schedules by this suffix of the node id; xdist adds it only for the marks it sees when its own
        # collection hook runs (before it, then: tryfirst). Without it each worker ingested the demo for itself.
        assert all(i.nodeid.endswith("@live_site") for i in items), [i.nodeid for i in items][:3]
