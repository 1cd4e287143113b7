"""``inkstroke write "TEXT" -o OUT``: the main job."""

from __future__ import annotations

from pathlib import Path

import typer

from inkstroke.write.layout import PageLayout


def write(
    text: str | None = typer.Argument(None, show_default=False, help="Text to write; '-' reads standard input, @FILE reads a file. [required]"),
    output: Path | None = typer.Option(None, "-o", "--output", show_default=False, help="svg, png, gif, pdf, json or inkml; several pages go to NAME-1.EXT, NAME-2.EXT, ... (a PDF holds them all). [required]"),
    style: str | None = typer.Option(None, "--style", help="A shipped style name (see --list-styles) or your own sample (json, inkml, DATASET.inks:N); the last word of the sample primes the model."),
    style_text: str | None = typer.Option(None, "--style-text", help="What your style sample says, if the file does not record it."),
    temperature: float | None = typer.Option(None, "--temperature", help="Variety of the strokes (lower is neater; default: the model's tuned value)."),
    guidance: float | None = typer.Option(None, "--guidance", help="Classifier-free guidance: >0 follows the text more closely (default: the model's own; the shipped model has it built in)."),
    candidates: int | None = typer.Option(None, "--candidates", min=1, max=16, help="Draws per word; the one the stroke recogniser and the image reader read best is kept (1: no ranking; default: tuned)."),
    bias: float = typer.Option(0.0, "--bias", help="Extra neatness: sharpens every choice (Graves-style bias)."),
    seed: int = typer.Option(0, "--seed", help="Same seed, same handwriting."),
    model: Path | None = typer.Option(None, "--model", help="A checkpoint of inkstroke train instead of the shipped model."),
    page: str = typer.Option("a4", "--page", help="a4, a5, letter, ... or WxH in mm."),
    margin: float = typer.Option(20.0, "--margin", help="Page margin, mm."),
    x_height: float = typer.Option(3.0, "--x-height", help="Body height of the handwriting, mm."),
    line_spacing: float = typer.Option(3.2, "--line-spacing", help="Baseline distance, in x-heights."),
    word_spacing: float = typer.Option(PageLayout.word_spacing, "--word-spacing", help="Gap between words, in x-heights (wide: the model leaves gaps inside words)."),
    align: str = typer.Option("left", "--align", help="left, center, right or justify."),
    stroke_width: float | None = typer.Option(None, "--stroke-width", help="Pen width (mm for svg/pdf, px for png/gif)."),
    color: str = typer.Option("black", "--color", help="Ink colour (name or #rrggbb)."),
    unsupported: str = typer.Option("error", "--unsupported", help="What to do with characters the model cannot write: error, replace (with ?) or transliterate."),
    list_styles: bool = typer.Option(False, "--list-styles", help="List the shipped styles and exit."),
    script: str = typer.Option("latin", "--script", help="latin (handwriting) or hanzi (Chinese characters in stroke order, in a grid)."),
    font: Path | None = typer.Option(None, "--font", help="hanzi: the font whose glyphs the characters are written from (default: Kaiti)."),
    columns: bool = typer.Option(False, "--columns", help="hanzi: vertical columns, right to left, instead of rows."),
    per_line: int = typer.Option(0, "--per-line", min=0, help="hanzi: characters per row or column before wrapping (0: no wrap)."),
) -> None:
    """Write TEXT as handwriting, laid out on pages."""
    import sys

    from inkstroke.errors import InkstrokeError
    from inkstroke.render.layout import check_stroke_width, rgb
    from inkstroke.write.api import (
        DEFAULT_CANDIDATES,
        available_styles,
        check_output,
        save_document,
    )
    from inkstroke.write.api import write as write_text
    from inkstroke.write.layout import parse_page

    if list_styles:  # needs neither the text nor an output
        typer.echo("\n".join(available_styles(str(model) if model else None)))
        return
    if text is None or output is None:
        raise InkstrokeError("give the TEXT to write and the output file (-o OUT)")
    if text == "-":
        text = sys.stdin.read()
    elif text.startswith("@"):
        try:
            text = Path(text[1:]).read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as e:
            raise InkstrokeError(f"{text[1:]}: cannot read the text ({e})") from None
    check_output(output)
    if style_text is not None and style is None:
        raise InkstrokeError("--style-text says what your --style sample says; give --style too")
    if stroke_width is not None:  # the looks are checked before minutes of writing, not after
        check_stroke_width(stroke_width)
    rgb(color)
    if script == "hanzi":
        from inkstroke.cli.hanzi import write_hanzi

        for p in write_hanzi(text, output, font, model=model, seed=seed, unsupported=unsupported,
                             stroke_width=stroke_width, color=color, per_line=per_line,
                             direction="columns" if columns else "rows"):
            typer.echo(f"wrote {p}")
        return
    if script != "latin":
        raise InkstrokeError(f"unknown --script {script!r}; use latin or hanzi")
    layout = PageLayout(page=parse_page(page), margin=margin, x_height=x_height,
                        line_spacing=line_spacing, word_spacing=word_spacing, align=align)
    doc = write_text(text, model=str(model) if model else None, style=style, style_text=style_text,
                     temperature=temperature,
                     guidance=guidance, bias=bias, seed=seed, layout=layout,
                     unsupported=unsupported, progress=sys.stderr.isatty(),
                     candidates=DEFAULT_CANDIDATES if candidates is None else candidates)
    for p in save_document(doc, output, stroke_width=stroke_width, color=color):
        typer.echo(f"wrote {p}")
