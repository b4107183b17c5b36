"""`podarchive eval`, `vocab` and `models list`: the transcription commands of the CLI.

They take cli.Context through click's ctx.obj (importing archive.cli here would be circular).
"""

from __future__ import annotations

import math
from dataclasses import replace
from pathlib import Path
from typing import IO, Any

import click

from archive.cli.context import Context, pass_ctx
from archive.editorial.vocabulary import VocabularyError, add_terms, feed_terms, read_terms_file, remove_terms


@click.command("eval")
@click.option(
    "--refs",
    required=True,
    type=click.Path(exists=True, file_okay=False, path_type=Path),
    help="Directory of audio clips, each with its reference transcript NAME.txt beside it.",
)
@click.option("--model", "model_names", multiple=True, help="Model to measure (repeatable; default: the setting).")
@click.option(
    "--batch-size",
    "batch_sizes",
    multiple=True,
    type=int,
    help="0 = sequential, N > 1 = batched (repeatable; default: the setting).",
)
@click.option("--beam-size", type=int, help="Beam size (default: the setting).")
@click.option(
    "--chunk-seconds",
    "chunk_list",
    multiple=True,
    type=int,
    help="Batched mode's longest speech chunk (repeatable; default: the setting).",
)
@click.option("--language", help="Language of clips whose name carries none (default: detected).")
@click.option("--clips", is_flag=True, help="Also print each clip's hypothesis.")
@click.pass_obj
def eval_command(
    ctx: Any,
    refs: Path,
    model_names: tuple[str, ...],
    batch_sizes: tuple[int, ...],
    beam_size: int | None,
    chunk_list: tuple[int, ...],
    language: str | None,
    clips: bool,
) -> None:
    """Measure WER and CER per language, and speed (x real time), per model and setting.

    Clips named with a language part (fleurs-fr-000.ogg) are transcribed in that
    language; an English-only model skips the others. Both sides are normalised
    the same way: case, punctuation, ' and ’, hyphens, numbers spelt out.
    """
    from archive.ingest import engine_options
    from transcribe.eval import evaluate

    s = ctx.settings
    runs = []
    for model in model_names or (s.model,):
        for batch in batch_sizes or (s.batch_size,):
            # Chunk length only matters to batched decoding.
            for chunk in (chunk_list or (s.chunk_seconds,)) if batch > 1 else (s.chunk_seconds,):
                options = replace(
                    engine_options(s),
                    model=model,
                    batch_size=batch,
                    beam_size=beam_size or s.beam_size,
                    chunk_seconds=chunk,
                )
                run = evaluate(refs, options, s.cache_dir, language)
                runs.append(run)
                if clips:
                    for name, lang, text in run.clips:
                        click.echo(f"{model} [{run.setting}] {name} ({lang}): {text}")
    languages = sorted({lang for r in runs for lang in r.scores})
    head = ["model", "setting"] + [f"{k} {lang}" for lang in languages for k in ("WER", "CER")] + ["x real time"]
    click.echo("| " + " | ".join(head) + " |")
    click.echo("|" + "---|" * len(head))
    for r in runs:
        cells = [r.model, r.setting]
        for lang in languages:
            score = r.scores.get(lang)
            cells += [_pct(score.wer if score else math.nan), _pct(score.cer if score else math.nan)]
        cells.append(f"{r.speed:.1f}")
        click.echo("| " + " | ".join(cells) + " |")


def _pct(value: float) -> str:
    return "n/a" if math.isnan(value) else f"{100 * value:.1f} %"


@click.group()
def vocab() -> None:
    """A show's names and terms, given to the model as its initial prompt."""


@vocab.command("add")
@click.option("--feed", "feed_id", type=int, required=True)
@click.option(
    "--file",
    "file",
    type=click.File("r", encoding="utf-8"),
    help="A text file of terms, one per line (# comments allowed).",
)
@click.argument("terms", nargs=-1)
@click.pass_obj
def vocab_add(ctx: Any, feed_id: int, file: IO[str] | None, terms: tuple[str, ...]) -> None:
    """Add TERMS (and those of --file) to a feed's vocabulary."""
    wanted = (read_terms_file(file.read()) if file else []) + list(terms)
    try:
        with ctx.archive.db.session() as s:
            added = add_terms(s, feed_id, wanted)
    except VocabularyError as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(f"{added} added, {len(wanted) - added} already known")


@vocab.command("list")
@click.option("--feed", "feed_id", type=int, required=True)
@click.pass_obj
def vocab_list(ctx: Any, feed_id: int) -> None:
    """Print a feed's vocabulary, one term a line."""
    with ctx.archive.db.session() as s:
        for term in feed_terms(s, feed_id):
            click.echo(term)


@vocab.command("remove")
@click.option("--feed", "feed_id", type=int, required=True)
@click.argument("terms", nargs=-1, required=True)
@click.pass_obj
def vocab_remove(ctx: Any, feed_id: int, terms: tuple[str, ...]) -> None:
    """Remove TERMS from a feed's vocabulary."""
    with ctx.archive.db.session() as s:
        removed = remove_terms(s, feed_id, list(terms))
    click.echo(f"{removed} removed")


@click.command("list")
def models_list() -> None:
    """Show which packaged Whisper models are installed."""
    from transcribe.models import packaged_models

    for name, installed in packaged_models().items():
        click.echo(f"{name}\t{'installed' if installed else 'not installed'}")


@click.group()
def models() -> None:
    """Whisper weights."""


@models.command("prepare")
@pass_ctx
def models_prepare(ctx: Context) -> None:
    """Resolve (and join, for packaged models) the configured model, then print where it is."""
    from transcribe import TranscriptionError
    from transcribe.models import resolve_model

    try:
        click.echo(resolve_model(ctx.settings.model, Path(ctx.settings.cache_dir)))
    except TranscriptionError as exc:
        raise click.ClickException(str(exc)) from exc


models.add_command(models_list)
