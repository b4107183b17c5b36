"""The accuracy harness: one normalisation for both sides, WER/CER per language, speed, via the CLI."""

from __future__ import annotations

import shutil
from pathlib import Path

from tests.conftest import run_cli
from transcribe.eval import Score, normalise

AUDIO = Path(__file__).parent / "data" / "audio"


def test_normalisation_makes_equivalent_writings_equal():

    assert normalise("tuant ainsi 17 personnes", "fr") == normalise("tuant ainsi dix-sept personnes", "fr")
    assert normalise("états-unis") == "états unis"
    assert normalise("25 to 30 years") == normalise("twenty-five to thirty years.")


def test_scores_count_word_and_character_errors():
    score = Score()
    score.add("ask not what your country can do", "Ask not what you're country can do!", "en")
    # "your" -> "you re" is one substitution and one insertion over 7 reference words.
    assert (score.word_errors, score.words) == (2, 7)
    assert 0 < score.cer < score.wer


def test_eval_command_reports_wer_per_language_and_speed(make_settings, tmp_path):
    refs = tmp_path / "refs"
    refs.mkdir()
    for name in (
        "jfk.flac",
        "jfk.txt",
        "fleurs-en-000.ogg",
        "fleurs-en-000.txt",
        "fleurs-fr-000.ogg",
        "fleurs-fr-000.txt",
    ):
        shutil.copyfile(AUDIO / name, refs / name)
    settings = make_settings()
    result = run_cli(settings, "eval", "--refs", str(refs), "--batch-size", "0", "--batch-size", "8")
    assert result.returncode == 0, result.stderr
    lines = [line for line in result.stdout.splitlines() if line.startswith("| tiny.en")]
    assert len(lines) == 2
    for line in lines:
        cells = [c.strip() for c in line.strip("|").split("|")]
        # English-only tiny.en skips the French clip; both English clips are near-perfect.
        model, setting, wer_en, cer_en, speed = cells
        assert float(wer_en.rstrip(" %")) < 20 and float(speed) > 0
    assert "| model | setting | WER en | CER en | x real time |" in result.stdout
