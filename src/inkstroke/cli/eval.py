"""``inkstroke eval``: judges of what inkstroke writes."""

from __future__ import annotations

import json
from pathlib import Path

import typer

from inkstroke.cli.hanzi import hanzi_eval

app = typer.Typer(help="Evaluate generated handwriting against real handwriting.", no_args_is_help=True)


@app.command("legibility")
def legibility(
    data: Path = typer.Option(..., "--data", help="UNIPEN .inks (from `inkstroke data import unipen`); its validation writers give the texts and the human reference."),
    n: int = typer.Option(100, "-n", min=1, help="Number of lines."),
    model: Path | None = typer.Option(None, "--model", help="Checkpoint (default: the shipped model)."),
    style: str | None = typer.Option(None, "--style"),
    temperature: float | None = typer.Option(None, "--temperature", help="Default: the model's tuned value."),
    guidance: float | None = typer.Option(None, "--guidance", help="Default: the model's tuned value."),
    split: str = typer.Option("valid", "--split", help="Writers whose lines give texts and reference: valid or test."),
    bias: float = typer.Option(0.0, "--bias"),
    seed: int = typer.Option(0, "--seed"),
    output: Path | None = typer.Option(None, "-o", help="Write the report as JSON."),
    images: Path | None = typer.Option(None, "--images", help="Folder for the first 10 rendered lines of each side."),
    judge: str = typer.Option("tesseract", "--judge", help="tesseract (the rendered image), recogniser (the strokes) or both."),
    candidates: int | None = typer.Option(None, "--candidates", min=1, help="Draws per word ranked by the recogniser (default: write's)."),
) -> None:
    """CER/WER of generated vs human lines under Tesseract and/or the recogniser, plus missing-word and trailing-gibberish rates."""
    from inkstroke.eval.legibility import evaluate
    from inkstroke.io.container import atomic_write_bytes

    report = evaluate(data, n, str(model) if model else None, style, temperature, bias, seed, images,
                      guidance, split, judge=judge, candidates=candidates)
    text = json.dumps(report, indent=1)
    if output:
        atomic_write_bytes(output, lambda f: f.write(text.encode()))
    typer.echo(text)


@app.command("recognizer")
def recognizer(
    data: Path = typer.Option(..., "--data", help="UNIPEN .inks; its held-out writers are read."),
    words: int = typer.Option(500, "--words", min=0, help="Number of single words."),
    lines: int = typer.Option(100, "--lines", min=0, help="Number of text lines."),
    split: str = typer.Option("test", "--split", help="Held-out writers: test (default) or valid."),
    model: Path | None = typer.Option(None, "--model", help="Recogniser checkpoint (default: the shipped one)."),
    seed: int = typer.Option(0, "--seed"),
    no_tesseract: bool = typer.Option(False, "--no-tesseract", help="Skip the Tesseract comparison."),
    output: Path | None = typer.Option(None, "-o", help="Write the report as JSON."),
) -> None:
    """CER/WER of the recogniser and the image reader on held-out words and lines, next to Tesseract on the same inks."""
    from inkstroke.errors import InkstrokeError
    from inkstroke.eval.recognition import evaluate_recognizer
    from inkstroke.io.container import atomic_write_bytes

    if split not in ("valid", "test"):
        raise InkstrokeError(f"unknown --split {split!r}; use valid or test")
    report = evaluate_recognizer(data, words, lines, split, seed, str(model) if model else None,
                                 tesseract=not no_tesseract)
    text = json.dumps(report, indent=1)
    if output:
        atomic_write_bytes(output, lambda f: f.write(text.encode()))
    typer.echo(text)


app.command("hanzi", help="Zinnia's top-1/top-5 on written characters, against the reference medians.")(hanzi_eval)
