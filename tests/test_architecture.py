"""The layout's promises: the site loads no speech-recognition engine; the repository cites nothing outside it."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).parent.parent
pytestmark = pytest.mark.fast

HEAVY = ("faster_whisper", "ctranslate2", "av", "onnxruntime")


@pytest.mark.parametrize("entry", ["import web; web.create_app", "import archive.cli"])
def test_the_site_and_the_command_line_import_no_asr_engine(entry: str) -> None:
    probe = f"import sys; {entry}; print(','.join(m for m in {HEAVY!r} if m in sys.modules))"
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, cwd=ROOT, timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "", f"{entry} loaded {done.stdout.strip()}"


def test_a_transcription_worker_starts_without_the_archive() -> None:
    # A spawned child imports this module before init_worker ties its life to the parent's:
    # the store, the database driver or the engine imported here would leave an orphan
    # importing (seconds on a loaded machine) when the ingest is killed meanwhile.
    probe = "import json, sys, transcribe.worker; print(json.dumps(sorted({m.split('.')[0] for m in sys.modules})))"
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, cwd=ROOT, timeout=120)
    assert done.returncode == 0, done.stderr
    loaded = set(json.loads(done.stdout))
    assert loaded.isdisjoint({"archive", "web", "feeds", "sqlalchemy", "numpy", *HEAVY}), loaded


def test_no_file_cites_a_document_outside_the_repository() -> None:
    tracked = subprocess.run(["git", "ls-files"], capture_output=True, text=True, cwd=ROOT, check=True).stdout.split()
    offenders = []
    for name in tracked:
        if not name.endswith((".py", ".md", ".toml", ".html", ".js", ".cfg", ".yaml")) and name != "dev":
            continue
        text = (ROOT / name).read_text(errors="replace")
        # Spelt in pieces so that this file does not cite them itself.
        for needle in ("DESIGN" + ".md", "STYLE" + ".md", "../" + "shared"):
            if needle in text:
                offenders.append(f"{name}: {needle}")
    assert offenders == []
