"""Every real feed in tests/data/feeds parsed against its expected result (golden files).

The expected files were generated once from parse_feed and checked by hand
against the XML (titles, guids, durations, enclosures, transcripts, persons).
After a deliberate parser change, regenerate with PODARCHIVE_UPDATE_GOLDEN=1
and review the diff before committing it.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest

import feeds

pytestmark = pytest.mark.fast

DATA = Path(__file__).parent / "data" / "feeds"
EXPECTED = DATA / "expected"
FEEDS = sorted(p for p in DATA.iterdir() if p.suffix in {".xml", ".rss"})


def summary(feed: feeds.Feed) -> dict[str, Any]:
    """The facts a reader of the feed cares about, in a diff-friendly shape."""
    return {
        "title": feed.title,
        "language_hint": feed.language,
        "next_page": feed.next_page,
        "warnings": len(feed.warnings),
        "entries": [
            {
                "guid": e.guid,
                "title": e.title,
                "published": e.published.isoformat() if e.published else None,
                "duration": e.duration,
                "enclosure": [e.enclosure.url, e.enclosure.type, e.enclosure.length] if e.enclosure else None,
                "episode": e.episode_number,
                "season": e.season,
                "transcripts": [[t.type, t.language, t.url] for t in e.transcripts],
                "persons": [[p.name, p.role] for p in e.persons],
                "chapters": e.chapters_url,
            }
            for e in feed.entries
        ],
    }


@pytest.mark.parametrize("path", FEEDS, ids=[p.name for p in FEEDS])
def test_feed_matches_its_expected_result(path: Path) -> None:
    parsed = summary(feeds.parse_feed(path.read_bytes(), f"https://feeds.example.org/{path.name}"))
    golden = EXPECTED / f"{path.stem}.json"
    if os.environ.get("PODARCHIVE_UPDATE_GOLDEN") == "1":
        golden.write_text(json.dumps(parsed, ensure_ascii=False, indent=1) + "\n")
    assert json.loads(golden.read_text()) == json.loads(json.dumps(parsed))
