"""Accuracy harness: one text normalisation, word and character error rates, speed per setting."""

from __future__ import annotations

import re
import time
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from num2words import num2words

from transcribe.engine import Engine
from transcribe.options import EngineOptions

AUDIO_SUFFIXES = (".ogg", ".flac", ".mp3", ".wav", ".m4a", ".opus")
# A language code as its own part of a file name: fleurs-fr-000.ogg, talk_en.mp3.
_NAME_LANGUAGE = re.compile(r"(?:^|[-_.])([a-z]{2})(?=[-_.]|$)")
_NUMBER = re.compile(r"\d+(?:[.,]\d+)?")
_APOSTROPHES = str.maketrans({"\u2019": "'", "\u2018": "'", "\u02bc": "'", "`": "'"})


def normalise(text: str, language: str = "en") -> str:
    """Lower case, numbers spelt out, apostrophes, hyphens and punctuation turned to spaces.

    >>> normalise("Il a ajouté qu’« on ne devrait pas »", "fr")
    'il a ajouté qu on ne devrait pas'
    >>> normalise("tuant ainsi 17 personnes", "fr") == normalise("tuant ainsi dix-sept personnes.", "fr")
    True
    >>> normalise("Lag behind by 25 to 30 years, Sintra!")
    'lag behind by twenty five to thirty years sintra'
    """
    text = unicodedata.normalize("NFKC", text).translate(_APOSTROPHES).lower()
    text = _NUMBER.sub(lambda m: " " + _spell(m.group(), language) + " ", text)
    out = []
    for ch in text:
        # Letters, digits and combining accents stay; every other sign is a word break.
        out.append(ch if unicodedata.category(ch)[0] in "LNM" else " ")
    return " ".join("".join(out).split())


def _spell(number: str, language: str) -> str:
    value: int | float = float(number.replace(",", ".")) if ("." in number or "," in number) else int(number)
    try:
        return str(num2words(value, lang=language))
    except (NotImplementedError, OverflowError, ValueError):
        return number


def edit_distance(ref: list[str] | str, hyp: list[str] | str) -> int:
    """Levenshtein distance between two sequences (words or characters).

    >>> edit_distance("kitten".split("t"), "sitting".split("t"))
    2
    >>> edit_distance("abc", "abd")
    1
    """
    prev = list(range(len(hyp) + 1))
    for i, r in enumerate(ref, 1):
        cur = [i]
        for j, h in enumerate(hyp, 1):
            cur.append(min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (r != h)))
        prev = cur
    return prev[-1]


@dataclass
class Score:
    """Accumulated errors and lengths for one language."""

    word_errors: int = 0
    words: int = 0
    char_errors: int = 0
    chars: int = 0

    def add(self, reference: str, hypothesis: str, language: str) -> None:
        """Score one clip after normalising both sides the same way."""
        ref, hyp = normalise(reference, language), normalise(hypothesis, language)
        self.word_errors += edit_distance(ref.split(), hyp.split())
        self.words += len(ref.split())
        self.char_errors += edit_distance(ref, hyp)
        self.chars += len(ref)

    @property
    def wer(self) -> float:
        """Word error rate over every clip scored."""
        return self.word_errors / self.words if self.words else float("nan")

    @property
    def cer(self) -> float:
        """Character error rate over every clip scored."""
        return self.char_errors / self.chars if self.chars else float("nan")


@dataclass
class Run:
    """One model and setting over the reference set."""

    model: str
    setting: str
    scores: dict[str, Score] = field(default_factory=dict)
    audio_seconds: float = 0.0
    seconds: float = 0.0
    skipped: list[str] = field(default_factory=list)
    clips: list[tuple[str, str, str]] = field(default_factory=list)

    @property
    def speed(self) -> float:
        """Audio seconds per wall-clock second (x real time), model loading excluded."""
        return self.audio_seconds / self.seconds if self.seconds else float("nan")


def reference_clips(refs: Path) -> Iterator[tuple[Path, str, str | None]]:
    """(audio, reference text, language from the name or None) for each clip with a .txt beside it."""
    for audio in sorted(refs.iterdir()):
        ref = audio.with_suffix(".txt")
        if audio.suffix.lower() in AUDIO_SUFFIXES and ref.is_file():
            match = _NAME_LANGUAGE.search(audio.stem.lower())
            yield audio, ref.read_text(encoding="utf-8").strip(), match.group(1) if match else None


def evaluate(refs: Path, options: EngineOptions, cache_dir: Path, default_language: str | None = None) -> Run:
    """Transcribe every reference clip with one model and setting; score per language."""
    engine = Engine(options, cache_dir)
    setting = (
        f"batched {options.batch_size}, chunks {options.chunk_seconds} s" if options.batch_size > 1 else "sequential"
    ) + ("" if options.rerun_suspect else ", no repair")
    run = Run(options.model, f"{setting}, beam {options.beam_size}")
    for audio, reference, named in reference_clips(refs):
        language = named or default_language
        if language and language != "en" and not engine.multilingual:
            run.skipped.append(audio.name)
            continue
        started = time.perf_counter()
        result = engine.transcribe(audio, language=language)
        run.seconds += time.perf_counter() - started
        run.audio_seconds += result.duration
        lang = language or result.language
        run.scores.setdefault(lang, Score()).add(reference, result.text, lang)
        run.clips.append((audio.name, lang, result.text))
    return run
