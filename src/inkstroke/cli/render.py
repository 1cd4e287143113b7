"""``inkstroke render``: one ink to a picture or file, the format from the suffix."""

from __future__ import annotations

from pathlib import Path

import typer


def render(
    ink: str = typer.Argument(..., help="A .json or .inkml file, or DATASET.inks:INDEX."),
    output: Path = typer.Option(..., "-o", "--output", help="File to write: .svg .png .gif .pdf .json .inkml"),
    stroke_width: float | None = typer.Option(None, help="Pen width: px, or mm for PDF and mm SVG."),
    color: str | None = typer.Option(None, help="Stroke colour, a CSS name or #rrggbb."),
    width: float | None = typer.Option(None, help="Canvas width (px, or mm with --units mm)."),
    height: float | None = typer.Option(None, help="Canvas height (px, or mm with --units mm)."),
    ink_height: float | None = typer.Option(None, help="PNG/GIF: scale so the ink is this many px tall."),
    units: str | None = typer.Option(None, help="SVG: px (default) or mm, for plotters."),
    pressure_width: bool = typer.Option(False, "--pressure-width", help="SVG: width follows pen pressure."),
    page_size: str | None = typer.Option(None, help="PDF: A4 (default), A3, A5, letter, ..."),
    duration: float | None = typer.Option(None, help="GIF: seconds of writing (default 3)."),
) -> None:
    """Render INK to a file: SVG, PNG, animated GIF, PDF, or convert to JSON/InkML.

    Options that do not apply to the output format are refused, and so is a
    picture of an ink without points (converting it is allowed).
    """
    from inkstroke.errors import InkstrokeError
    from inkstroke.io import read_ink
    from inkstroke.render import save_ink

    source = read_ink(ink)
    if source.num_points == 0 and output.suffix.lower() in (".svg", ".png", ".gif", ".pdf"):
        raise InkstrokeError(f"{ink}: the ink has no points, so there is nothing to draw in {output.name}")

    chosen = {
        "stroke_width": stroke_width,
        "color": color,
        "width": width,
        "height": height,
        "ink_height": ink_height,
        "units": units,
        "pressure_width": pressure_width or None,
        "page_size": page_size,
        "duration": duration,
    }
    opts = {k: v for k, v in chosen.items() if v is not None}
    typer.echo(f"wrote {save_ink(source, output, **opts)}")
