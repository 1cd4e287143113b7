"""``inkstroke data``: import pen data into ``.inks`` datasets, inspect and plot them."""

from __future__ import annotations

import inspect
import json
from pathlib import Path

import typer
from rich.console import Console
from rich.progress import MofNCompleteColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn
from rich.table import Table

from inkstroke.errors import InkstrokeError

app = typer.Typer(
    help="Import pen data into .inks datasets, inspect them, plot one ink.",
    no_args_is_help=True,
)


def _categories(text: str) -> list[int]:
    try:
        return [int(c) for c in text.split(",") if c.strip()]
    except ValueError:
        raise InkstrokeError(f"--categories must be comma-separated numbers, got {text!r}") from None


@app.command("import")
def import_(
    fmt: str = typer.Argument(..., metavar="FORMAT", help="unipen, iam, inkml, hanzi, mmah, quickdraw, stroke3, hershey, font"),
    path: Path = typer.Argument(..., help="The file or folder to import (a UNIPEN root, an InkML folder, ...)."),
    output: Path = typer.Option(..., "-o", "--output", help="The .inks file to write."),
    categories: str | None = typer.Option(None, help="UNIPEN categories, e.g. 6,7,8."),
    seed: int = typer.Option(0, help="Seed of the writer-disjoint train/valid/test split."),
    valid: float = typer.Option(0.1, help="Share of writers in the valid split."),
    test: float = typer.Option(0.1, help="Share of writers in the test split."),
) -> None:
    """Read FORMAT data at PATH into one .inks file, split by writer."""
    from inkstroke.io import importer
    from inkstroke.io.container import (
        InkDataset,
        check_split_shares,
        write_inks,
        writer_disjoint_splits,
    )

    check_split_shares(valid, test)
    if output.suffix != ".inks":
        raise InkstrokeError(f"{output}: the output of an import is an .inks file")
    if not output.parent.is_dir():
        raise InkstrokeError(f"{output}: the folder {output.parent} does not exist")
    read = importer(fmt)
    takes = inspect.signature(read).parameters
    options: dict = {}
    if categories is not None:
        if "categories" not in takes:
            raise InkstrokeError(f"--categories does not apply to the {fmt} format")
        options["categories"] = _categories(categories)
    report: list[str] = []
    if "report" in takes:
        options["report"] = report

    inks = []
    columns = (SpinnerColumn(), TextColumn("{task.description}"), MofNCompleteColumn(), TimeElapsedColumn())
    with Progress(*columns, transient=True) as bar:
        task = bar.add_task(f"importing {fmt}", total=None)
        for ink in read(path, **options):
            inks.append(ink)
            bar.advance(task)
    if not inks:
        raise InkstrokeError(f"{path}: no inks found for the {fmt} format")
    splits = writer_disjoint_splits([ink.writer for ink in inks], valid=valid, test=test, seed=seed)
    meta = {"format": fmt, "source": str(path), "seed": seed} | (
        {"categories": options["categories"]} if "categories" in options else {}
    )
    write_inks(output, inks, splits=splits, meta=meta)
    _print_summary(InkDataset(output).summary(), output)
    for line in report:
        typer.echo(f"note: {line}", err=True)


def _print_summary(summary: dict, path: Path) -> None:
    console = Console()
    table = Table(title=str(path), show_header=False, title_justify="left")
    table.add_column(style="bold")
    table.add_column(overflow="fold")
    for key in ("inks", "strokes", "points", "writers", "labelled", "distinct_characters"):
        table.add_row(key.replace("_", " "), f"{summary[key]:,}")
    splits = summary["splits"]
    per = summary["writers_per_split"]
    table.add_row("splits", "; ".join(f"{s} {splits[s]:,} inks, {per[s]} writers" for s in splits))
    table.add_row("characters", summary["characters"])
    table.add_row("channels", ", ".join(c for c in ("times", "pressures") if summary[f"has_{c}"]) or "points only")
    if summary["meta"]:
        table.add_row("meta", json.dumps(summary["meta"], ensure_ascii=False))
    console.print(table, highlight=False)


@app.command()
def info(
    dataset: Path = typer.Argument(..., help="An .inks file."),
    as_json: bool = typer.Option(False, "--json", help="Print the summary as JSON."),
) -> None:
    """Counts of an .inks dataset: inks, writers, characters, points, splits."""
    from inkstroke.io.container import InkDataset

    summary = InkDataset(dataset).summary()
    if as_json:
        typer.echo(json.dumps(summary, ensure_ascii=False, indent=2))
    else:
        _print_summary(summary, dataset)


@app.command()
def plot(
    dataset: Path = typer.Argument(..., help="An .inks file."),
    index: int = typer.Option(..., "--index", "-i", help="Which ink (negative counts from the end)."),
    output: Path = typer.Option(..., "-o", "--output", help="Picture or file to write: .svg .png .gif .pdf .json .inkml"),
    stroke_width: float | None = typer.Option(None, help="Pen width (px; mm for PDF)."),
    color: str | None = typer.Option(None, help="Stroke colour, a CSS name or #rrggbb."),
) -> None:
    """Draw one ink of a dataset to a file (format from its suffix)."""
    from inkstroke.io import read_ink
    from inkstroke.render import save_ink

    if dataset.suffix != ".inks":
        raise InkstrokeError(f"{dataset}: not an .inks dataset (render a single ink file with `inkstroke render`)")
    ink = read_ink(f"{dataset}:{index}")
    opts = {k: v for k, v in {"stroke_width": stroke_width, "color": color}.items() if v is not None}
    typer.echo(f"wrote {save_ink(ink, output, **opts)}")
