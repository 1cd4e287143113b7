"""``inkstroke recognize`` and ``inkstroke train-recognizer``."""

from __future__ import annotations

import json
import shlex
import sys
from pathlib import Path

import typer

from inkstroke.errors import InkstrokeError


def recognize(
    inks: list[str] = typer.Argument(..., help="Inks: files in any importable format, or DATASET.inks:INDEX."),
    model: Path | None = typer.Option(None, "--model", help="A recogniser checkpoint (default: the shipped one)."),
    nbest: int = typer.Option(1, "--nbest", min=1, max=32, help="Print the N best readings (beam search)."),
    as_json: bool = typer.Option(False, "--json", help="One JSON document: text, n-best and log-probabilities per ink."),
    image: bool = typer.Option(False, "--image", help="Read the ink's picture with the image reader (greedy; --model is then an image reader)."),
) -> None:
    """Read handwriting back as text, from the strokes (default) or from the picture (--image)."""
    from inkstroke.io import read_ink
    from inkstroke.recognize.api import Reading, load_recognizer_cached
    from inkstroke.recognize.image import load_image_reader_cached

    if image and nbest > 1:
        raise InkstrokeError("--nbest needs the stroke recogniser; the image reader reads greedily (drop --image)")
    if image:
        reader = load_image_reader_cached(str(model) if model else None)

        def read(ink) -> Reading:
            return Reading(reader.read([ink])[0], [])
    else:
        rec = load_recognizer_cached(str(model) if model else None)

        def read(ink) -> Reading:
            return rec.read([ink], nbest)[0]
    loaded = []
    for src in inks:
        try:
            loaded.append(read_ink(src))
        except InkstrokeError as e:
            raise InkstrokeError(f"{src}: {e}" if src not in str(e) else str(e)) from None
    readings = []
    for src, ink in zip(inks, loaded):
        try:
            readings.append(read(ink))
        except InkstrokeError as e:
            raise InkstrokeError(f"{src}: {e}") from None
    if as_json:
        docs = [{"ink": src, **r.to_dict(), "label": ink.text} for src, ink, r in zip(inks, loaded, readings)]
        typer.echo(json.dumps(docs, indent=1, ensure_ascii=False))
        return
    for src, r in zip(inks, readings):
        prefix = f"{src}\t" if len(inks) > 1 else ""
        if nbest == 1:
            typer.echo(prefix + r.text)
        else:
            for text, logp in r.nbest:
                typer.echo(f"{prefix}{logp:9.3f}\t{text}")


def train_recognizer(
    data: Path = typer.Option(..., "--data", help="Dataset (.inks) or a recogniser token cache (.npz)."),
    config: Path | None = typer.Option(None, "--config", help="TOML config (see configs/recognizer.toml)."),
    out: Path = typer.Option(Path("runs/recognizer"), "--out", help="Run folder for checkpoints."),
    resume: bool = typer.Option(False, "--resume", help="Continue the run in --out."),
    generator: Path | None = typer.Option(None, "--generator", help="Generator checkpoint whose stroke tokens to share (default: the shipped one)."),
    steps: int | None = typer.Option(None, "--steps", min=1, help="Override the number of steps."),
    image: bool = typer.Option(False, "--image", help="Train the image reader (configs/image-reader.toml) on pictures of the same examples."),
) -> None:
    """Train the CTC recogniser on the generator's motion tokens, or with --image the image reader on their pictures."""
    from inkstroke.model.checkpoint import load_checkpoint
    from inkstroke.recognize.train import load_recognizer_config, train_recognizer
    from inkstroke.recognize.train_image import load_image_reader_config, train_image_reader
    from inkstroke.train.prepare import prepare_tokens
    from inkstroke.write.api import MODEL_DIR

    cfg = load_image_reader_config(config) if image else load_recognizer_config(config)
    run = train_image_reader if image else train_recognizer
    if steps is not None:
        cfg.steps = steps
    if not data.exists():
        raise InkstrokeError(f"{data}: no such dataset")
    out.mkdir(parents=True, exist_ok=True)
    cache_path = data
    if data.suffix != ".npz":
        cache_path = out / "tokens.npz"
        if not cache_path.exists():
            stroke_tok = load_checkpoint(generator or MODEL_DIR)[1]
            prepare_tokens(data, cache_path, max_steps=1600, max_chars=120, seed=cfg.seed, stroke_tok=stroke_tok)
    command = "inkstroke " + " ".join(shlex.quote(a) for a in sys.argv[1:])
    figures = run(cache_path, cfg, out, resume=resume, command=command)  # type: ignore[arg-type]
    typer.echo("  ".join(f"{k}={v:.4g}" for k, v in figures.items()))
