"""The diarization figure: test interviews built from the repository's real recordings, scored.

Not a test (tests/test_transcribe_speakers.py asserts the goal): prints the figure for
docs/speakers.md, e.g. `.venv/bin/python bench/diarize_eval.py`. Needs the CAM++ model
(`./dev setup`). Options change the diarizer's settings, to see how much margin they have.
"""

from __future__ import annotations

import argparse
import sys
from dataclasses import fields, replace
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from transcribe.diarization_eval import evaluate, interviews, report  # noqa: E402
from transcribe.diarize import DiarizeOptions, Diarizer  # noqa: E402
from transcribe.voice_model import VoiceEmbedder  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, default=0)
    defaults = DiarizeOptions()
    for f in fields(DiarizeOptions):
        parser.add_argument(f"--{f.name.replace('_', '-')}", type=type(getattr(defaults, f.name)))
    args = parser.parse_args()
    changes = {f.name: getattr(args, f.name) for f in fields(DiarizeOptions) if getattr(args, f.name) is not None}
    options = replace(defaults, **changes)
    print(f"settings: {options}")
    diarizer = Diarizer(VoiceEmbedder(threads=args.threads), options)
    for line in report(evaluate(diarizer, interviews(ROOT / "tests" / "data" / "audio"))):
        print(line)


if __name__ == "__main__":
    main()
