"""A show's vocabulary: managed from the CLI, imported from a file, given to the model as its prompt."""

from __future__ import annotations

import pytest

from archive import store
from archive.context import Archive
from archive.ingest import run_stages
from tests.conftest import copy_audio, rss, run_cli

pytestmark = pytest.mark.slow


def test_vocab_cli_and_prompt_on_the_transcript(make_settings, http_root, tmp_path):
    root, base = http_root
    copy_audio("jfk.flac", root)
    (root / "feed.xml").write_text(rss("Speeches", [{"title": "jfk", "guid": "j", "url": f"{base}/jfk.flac"}]))
    settings = make_settings()
    assert run_cli(settings, "feeds", "add", f"{base}/feed.xml", "--language", "en").returncode == 0
    terms = tmp_path / "terms.txt"
    terms.write_text("# guests\nJohn F. Kennedy\n\nAmericans  # the audience\n", encoding="utf-8")

    added = run_cli(settings, "vocab", "add", "--feed", "1", "--file", str(terms), "Massachusetts", "Americans")
    assert added.returncode == 0, added.stderr
    assert added.stdout.strip() == "3 added, 1 already known"
    assert run_cli(settings, "vocab", "list", "--feed", "1").stdout.splitlines() == [
        "John F. Kennedy",
        "Americans",
        "Massachusetts",
    ]
    removed = run_cli(settings, "vocab", "remove", "--feed", "1", "Massachusetts", "nope")
    assert removed.stdout.strip() == "1 removed"
    unknown = run_cli(settings, "vocab", "add", "--feed", "99", "x")
    assert unknown.returncode == 1 and "no feed 99" in unknown.stderr

    archive = Archive(settings)
    assert all(r.failed == 0 for r in run_stages(archive, ("poll", "download", "transcribe")))
    with archive.db.session() as s:
        (card,) = store.episode_states(s)
        t = store.newest_transcript(s, card.id)
        assert t is not None and t.prompt == "John F. Kennedy, Americans."
        assert "ask not what your country" in " ".join(x.text.lower() for x in t.segments).replace(",", "")
