"""Memory of one site worker: podarchive's gunicorn worker beside a bare Flask app's.

    .venv/bin/python bench/worker_memory.py [TREE]

TREE (default: this checkout) is a source tree to serve, for example an older commit's
`git worktree`, to compare layouts with the same interpreter and packages.

Each app is served by gunicorn with one worker on loopback, asked for a few pages, and
the worker's resident memory read from /proc. It also says whether the worker mapped an
ASR engine (ctranslate2, faster-whisper, libav, onnxruntime): the site needs none.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
GUNICORN = Path(sys.executable).with_name("gunicorn")
ENGINES = ("ctranslate2", "faster_whisper", "libav", "onnxruntime")
BARE = "from flask import Flask\napp = Flask(__name__)\n\n@app.get('/')\ndef home():\n    return 'ok'\n"


def _free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def measure(app: str, paths: list[str], env: dict[str, str], cwd: Path) -> tuple[int, list[str]]:
    """(RSS in kB, engine libraries mapped) of the only worker after serving paths 5 times."""
    port = _free_port()
    master = subprocess.Popen(
        [str(GUNICORN), "--workers", "1", "--bind", f"127.0.0.1:{port}", app],
        cwd=cwd,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        base = f"http://127.0.0.1:{port}"
        for _ in range(120):
            try:
                urllib.request.urlopen(f"{base}{paths[0]}", timeout=5).read()
                break
            except OSError:
                time.sleep(0.5)
        for _ in range(5):
            for path in paths:
                urllib.request.urlopen(f"{base}{path}", timeout=30).read()
        children = Path(f"/proc/{master.pid}/task/{master.pid}/children").read_text().split()
        worker = children[0]
        status = Path(f"/proc/{worker}/status").read_text()
        rss = int(next(line for line in status.splitlines() if line.startswith("VmRSS")).split()[1])
        maps = Path(f"/proc/{worker}/maps").read_text()
        return rss, [lib for lib in ENGINES if lib in maps]
    finally:
        master.terminate()
        master.wait(timeout=30)


def main() -> None:
    tree = Path(sys.argv[1]).resolve() if len(sys.argv) > 1 else ROOT
    with tempfile.TemporaryDirectory() as tmp:
        env = {**os.environ, "PODARCHIVE_DATA_DIR": str(Path(tmp) / "data"), "HF_HUB_OFFLINE": "1"}
        env["PYTHONPATH"] = str(tree)
        site, engines = measure("web:create_app()", ["/", "/about"], env, tree)
        (Path(tmp) / "bare.py").write_text(BARE)
        bare, _ = measure("bare:app", ["/"], env, Path(tmp))
    print(f"site worker RSS: {site / 1024:.1f} MiB; engines mapped: {', '.join(engines) or 'none'}")
    print(f"bare Flask worker RSS: {bare / 1024:.1f} MiB")
    print(f"ratio site / bare: {site / bare:.2f}")


if __name__ == "__main__":
    main()
