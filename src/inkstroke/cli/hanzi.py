"""Chinese characters in stroke order: ``write --script hanzi`` and ``eval hanzi``.

:func:`write_hanzi` is what ``inkstroke write TEXT --script hanzi`` calls;
:func:`hanzi_eval` is the ``inkstroke eval hanzi`` command; :func:`hanzi_train`
trains a writer (``inkstroke train-hanzi``).
"""

from __future__ import annotations

import json
from pathlib import Path

import typer

UNSUPPORTED = ("error", "skip", "skeleton")


def _plan(text: str, font: Path | None, unsupported: str) -> list[str | None]:
    """How each character is written: "model", "skeleton" or None (empty cell);
    an error naming every character that cannot be written when ``unsupported``
    is "error"."""
    from inkstroke.errors import InkstrokeError
    from inkstroke.hanzi.generate import default_font, is_hanzi
    from inkstroke.io.font import font_has_glyph

    if unsupported not in UNSUPPORTED:
        raise InkstrokeError(f"unknown --unsupported mode {unsupported!r}; use {', '.join(UNSUPPORTED)}")
    if not text.strip():
        raise InkstrokeError("the text is empty")

    def has_glyph(c: str) -> bool:
        if font is not None:
            return font_has_glyph(c, font)
        try:
            default_font(c)
        except InkstrokeError:
            return False
        return True

    plan: list[str | None] = []
    bad: list[str] = []
    for c in text:
        if c.isspace():
            plan.append(None)
        elif is_hanzi(c) and has_glyph(c):
            plan.append("model")
        elif unsupported == "skeleton" and has_glyph(c):
            plan.append("skeleton")
        elif unsupported == "error":
            why = "not in the font" if is_hanzi(c) else "not a CJK ideograph"
            bad.append(f"{c!r} (U+{ord(c):04X}, {why})")
            plan.append(None)
        else:
            plan.append(None)
    if bad:
        where = str(font) if font else "the Kaiti fonts"
        raise InkstrokeError(
            f"cannot write {', '.join(dict.fromkeys(bad))} with {where}; "
            "--unsupported skip leaves them out, skeleton draws the glyph's centre lines"
        )
    if not any(plan):
        raise InkstrokeError("nothing to write: no character of the text can be written")
    return plan


def write_hanzi(
    text: str,
    output: Path,
    font: Path | None = None,
    *,
    model: Path | None = None,
    method: str = "model",
    direction: str = "rows",
    per_line: int = 0,
    cell_mm: float = 20.0,
    temperature: float = 0.0,
    seed: int = 0,
    beam: int | None = None,
    views: int | None = None,
    unsupported: str = "error",
    stroke_width: float | None = None,
    color: str = "black",
) -> list[Path]:
    """Write ``text`` in stroke order to ``output`` (svg, png, gif, json, pdf,
    inkml), characters in a grid of rows or of columns; a GIF animates the
    strokes in order. Returns the paths written.

    ``font``: a TTF/OTF/TTC to write from (default: the Kaiti Make Me a Hanzi
    was drawn from). ``method``: model, medians or skeleton (see
    :mod:`inkstroke.hanzi.generate`). ``unsupported``: what to do with a
    character that is not a CJK ideograph (Latin, kana, punctuation) or that
    the font lacks: error (default), skip (an empty cell) or skeleton (the
    glyph's centre lines, when the font has it). ``beam``: search width of
    the model (default :data:`inkstroke.hanzi.generate.BEAM`); ``views``: shifted
    views of each glyph it writes from (default :data:`inkstroke.hanzi.generate.VIEWS`).
    """
    from inkstroke.errors import InkstrokeError
    from inkstroke.hanzi.generate import BEAM, VIEWS, write_characters
    from inkstroke.hanzi.layout import layout
    from inkstroke.render import save_ink
    from inkstroke.write.api import check_output

    output = Path(output)
    check_output(output)
    if font is not None and not Path(font).is_file():
        raise InkstrokeError(f"{font}: no such font file")
    plan = _plan(text, font, unsupported)
    inks: list = [None] * len(text)
    for how in ("model", "skeleton"):
        at = [i for i, p in enumerate(plan) if p == how]
        if at:
            written = write_characters([text[i] for i in at], font, method if how == "model" else how,
                                       model, temperature, seed, BEAM if beam is None else beam,
                                       VIEWS if views is None else views)
            for i, ink in zip(at, written):
                inks[i] = ink
    page = layout(text, inks, direction, per_line, cell_mm)
    if page.num_points == 0:
        raise InkstrokeError("nothing to write: the glyphs hold no ink")
    suffix = output.suffix.lower()
    rows = page.meta["grid"][0]
    opts: dict = {}
    if suffix in (".svg", ".png", ".gif"):
        opts["color"] = color
    if suffix == ".svg":
        opts.update(units="mm", stroke_width=stroke_width or cell_mm / 25)
    elif suffix in (".png", ".gif"):
        height = 160 * rows if suffix == ".gif" else 256 * rows
        opts.update(height=height, stroke_width=stroke_width or height / rows / 28)
    if suffix == ".gif":  # a third of a second per stroke: the order is what it shows
        n_strokes = len(page.strokes)
        opts.update(duration=max(2.0, n_strokes / 3), fps=15.0, max_frames=max(120, 5 * n_strokes))
    if suffix == ".pdf":
        from inkstroke.write.api import Document, save_document

        return save_document(Document([page], text), output, stroke_width, color)
    return [save_ink(page, output, **opts)]


def hanzi_eval(
    charset: str = typer.Option("held-out", "--set", help="held-out, train, japanese or traditional (see docs/hanzi.md)."),
    chars: str | None = typer.Option(None, "--chars", help="Judge these characters instead of a set."),
    n: int = typer.Option(200, "-n", min=0, help="Characters, spread evenly over the set (0: all)."),
    model: Path | None = typer.Option(None, "--model", help="A hanzi writer checkpoint (default: the shipped model)."),
    method: str = typer.Option("model", "--method", help="model, medians or skeleton (the fallback)."),
    font: Path | None = typer.Option(None, "--font", help="Write from this font (default: the set's font)."),
    judge: str | None = typer.Option(None, "--judge", help="Zinnia model: zh, ja or a .model path (default: the set's)."),
    temperature: float = typer.Option(0.0, "--temperature", min=0.0, help="0 writes the most likely strokes."),
    seed: int = typer.Option(0, "--seed"),
    beam: int | None = typer.Option(None, "--beam", help="Search width of the model (default: the library's)."),
    views: int | None = typer.Option(None, "--views", help="Shifted views of each glyph the model writes from, 1-9 (default: the library's)."),
    output: Path | None = typer.Option(None, "-o", "--output", help="Write the report as JSON."),
) -> None:
    """Zinnia top-1/top-5 of written characters, of the reference medians of the
    same characters, and stroke count/order agreement with them."""
    from rich.progress import Progress

    from inkstroke.errors import InkstrokeError
    from inkstroke.hanzi.evaluate import character_set, evaluate, spread
    from inkstroke.io.container import atomic_write_bytes
    from inkstroke.io.hanzi import available_characters

    if chars is not None:
        picked = [c for c in dict.fromkeys(chars) if not c.isspace()]
        if not picked:
            raise InkstrokeError("--chars holds no character")
        judge_name, set_font = judge or "zh", None
        data = set(available_characters())
        references = all(c in data for c in picked)
    else:
        pool, judge_name, set_font = character_set(charset)
        picked, judge_name = spread(pool, n), judge or judge_name
        references = charset in ("held-out", "train")
    not_in_font: list[str] = []
    if font is not None and chars is None:  # a set written in another font: judge what it has
        from inkstroke.hanzi.data import font_has_glyph

        if not font.is_file():
            raise InkstrokeError(f"{font}: no such font file")
        not_in_font = [c for c in picked if not font_has_glyph(c, font)]
        picked = [c for c in picked if c not in set(not_in_font)]
        if not picked:
            raise InkstrokeError(f"{font} has none of the {len(not_in_font)} characters of the set")
    with Progress(transient=True) as bar:
        task = bar.add_task("writing", total=len(picked))
        report = evaluate(picked, judge_name, font or set_font, method, model, references,
                          temperature, seed, beam, progress=lambda k: bar.advance(task, k), views=views)
    report["set"] = "chars" if chars is not None else charset
    if not_in_font:
        report["not_in_font"] = "".join(not_in_font)
    text = json.dumps(report, indent=1, ensure_ascii=False)
    if output:
        atomic_write_bytes(output, lambda f: f.write(text.encode()))
    typer.echo(text)


def hanzi_train(
    out: Path = typer.Option(..., "--out", help="Checkpoint folder."),
    data: Path = typer.Option(Path("data/hanzi.npz"), "--data", help="Dataset file; built from hanzi-writer-data when missing."),
    conditioning: str = typer.Option("glyph", "--conditioning", help="glyph, or char_id (the ablation)."),
    steps: int = typer.Option(18000, "--steps", min=1, help="Optimiser steps (the shipped model: 18,000)."),
    batch: int = typer.Option(48, "--batch", min=1),
    lr: float = typer.Option(1e-3, "--lr", min=1e-7, max=1.0),
    seed: int = typer.Option(0, "--seed"),
    threads: int = typer.Option(1, "--threads", min=1, help="Torch CPU threads."),
    other_font: list[Path] = typer.Option(
        [], "--other-font",
        help="Another font whose glyphs train the model too (repeatable; added to the dataset when it is built)."),
    init: Path | None = typer.Option(None, "--init", help="Start from this checkpoint's weights."),
    resume: bool = typer.Option(False, "--resume", help="Go on with an interrupted run in --out."),
) -> None:
    """Train the glyph-conditioned hanzi writer (10% of characters held out)."""
    from rich.progress import Progress, TimeElapsedColumn

    from inkstroke.errors import InkstrokeError
    from inkstroke.hanzi.data import HanziData, build_dataset
    from inkstroke.hanzi.model import HanziConfig
    from inkstroke.hanzi.train import TrainConfig, train
    from inkstroke.io.font import check_font
    from inkstroke.io.hanzi import available_characters

    # everything the run needs is checked before the dataset is built (minutes of work)
    if conditioning not in ("glyph", "char_id"):
        raise InkstrokeError(f"unknown --conditioning {conditioning!r}; use glyph or char_id")
    for path in [*other_font, *([init] if init else [])]:
        if not path.exists():
            raise InkstrokeError(f"{path}: no such file")
    for path in other_font:
        check_font(path)
    if data.is_file():
        dataset = HanziData.load(data)
    else:
        with Progress(transient=True) as bar:
            task = bar.add_task("rendering glyphs", total=len(available_characters()))
            dataset = build_dataset(progress=lambda k: bar.advance(task, k))
            if other_font:
                task = bar.add_task("other fonts", total=len(other_font) * len(dataset.chars))
                dataset.add_fonts(other_font, progress=lambda k: bar.advance(task, k))
        dataset.save(data)
        typer.echo(f"wrote {data} ({len(dataset.chars)} characters)")
    with Progress(*Progress.get_default_columns(), TimeElapsedColumn()) as bar:
        task = bar.add_task("training", total=steps)
        train(dataset, out, HanziConfig(conditioning=conditioning),
              TrainConfig(steps=steps, batch=batch, lr=lr, seed=seed, threads=threads,
                          init=str(init) if init else None),
              log=bar.console.print, resume=resume, progress=lambda step: bar.update(task, completed=step))
