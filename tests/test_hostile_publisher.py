"""A hostile publisher transcript (podcast:transcript JSON) through the real transcribe stage, on both databases."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

from archive import store
from archive.config import Settings
from archive.context import Archive
from archive.ingest import run_stages
from tests.conftest import copy_audio

HOSTILE = {
    "version": "1.0.0",
    "segments": [
        {
            "speaker": "S" * 300,
            "startTime": 0.0,
            "endTime": 5.0,
            "body": "Ask not\u0000 what your country " + "w" * 300,
        },
        {"speaker": "Kennedy\u0000", "startTime": 5.0, "endTime": 11.0, "body": "can do for you."},
    ],
}


def test_oversized_and_nul_fields_of_a_publisher_transcript_are_stored(
    make_settings: Callable[..., Settings], http_root: tuple[Path, str]
) -> None:
    # Column limits (speaker 255, word 255) and NUL bytes are refused by PostgreSQL, not by SQLite.
    root, base = http_root
    copy_audio("jfk.flac", root)
    (root / "t.json").write_text(json.dumps(HOSTILE))
    (root / "feed.xml").write_text(f"""<?xml version="1.0" encoding="UTF-8"?>
<rss version="2.0" xmlns:podcast="https://podcastindex.org/namespace/1.0"><channel><title>P</title>
<item><title>Ep</title><guid>p1</guid><enclosure url="{base}/jfk.flac" type="audio/flac"/>
<podcast:transcript url="{base}/t.json" type="application/json" language="{"en-" + "x" * 40}"/></item>
</channel></rss>""")
    archive = Archive(make_settings())
    with archive.db.session() as s:
        store.add_feed(s, f"{base}/feed.xml", "en")
    reports = run_stages(archive, ("poll", "download", "transcribe", "index"))
    assert all(r.failed == 0 for r in reports), [(r.stage, r.notes) for r in reports]
    with archive.db.session() as s:
        [card] = store.episode_states(s)
        transcript = store.newest_transcript(s, card.id)
        assert transcript is not None and transcript.origin == "publisher"
        texts = [seg.text for seg in transcript.segments]
    assert not any("\x00" in t for t in texts) and texts[0].startswith("Ask not")
