"""``inkstroke tokenize``: fit the motion-token bins and see how well they fit."""

from __future__ import annotations

import json
from pathlib import Path

import typer

app = typer.Typer(help="Fit and inspect the stroke tokenizer.", no_args_is_help=True)


def _inks(data: Path, limit: int, seed: int):
    import numpy as np

    from inkstroke.io.container import InkDataset

    ds = InkDataset(data)
    idx = [i for i in ds.indices("train")] or list(range(len(ds)))
    rng = np.random.default_rng(seed)
    pick = rng.choice(idx, size=min(limit, len(idx)), replace=False)
    return [ink for ink in (ds[int(i)] for i in pick) if ink.num_points > 1]


@app.command("fit")
def fit(
    data: Path = typer.Option(..., "--data", help=".inks dataset (its train split is used)."),
    output: Path = typer.Option(..., "-o", help="Tokenizer JSON."),
    bins: int = typer.Option(24, "--bins", min=2, max=256, help="Bins per axis."),
    limit: int = typer.Option(3000, "--limit", min=1, help="Inks to fit on."),
    seed: int = typer.Option(0, "--seed"),
) -> None:
    """Fit Δx/Δy bins on a dataset and save them as JSON."""
    from inkstroke.errors import InkstrokeError
    from inkstroke.io.container import check_output_path
    from inkstroke.tokenize.strokes import StrokeTokenizer

    check_output_path(output, (".json",))
    try:
        tok = StrokeTokenizer.fit(_inks(data, limit, seed), bins)
    except InkstrokeError as e:
        raise InkstrokeError(f"{data}: {e}") from None
    tok.save(output)
    typer.echo(f"wrote {output}: {bins} bins per axis; x {tok.x.centers.round(3).tolist()}")


@app.command("report")
def report(
    data: Path = typer.Option(..., "--data", help=".inks dataset."),
    output: Path = typer.Option(Path("tokenizer-report"), "-o", help="Folder for the plot and report.json."),
    bins: str = typer.Option("8,16,24,32", "--bins", help="Comma-separated N to compare."),
    limit: int = typer.Option(1000, "--limit", min=2, help="Inks to use (half fit, half test)."),
    seed: int = typer.Option(0, "--seed"),
) -> None:
    """Histograms, bin edges, token frequencies and round-trip error for several N."""
    from inkstroke.errors import InkstrokeError
    from inkstroke.io.container import atomic_write_bytes
    from inkstroke.tokenize.report import tokenizer_report

    try:
        ns = [int(b) for b in bins.split(",")]
    except ValueError:
        raise InkstrokeError(f"--bins {bins!r}: give comma-separated integers") from None
    if any(not 2 <= n <= 256 for n in ns):
        raise InkstrokeError(f"--bins {bins!r}: each N must lie between 2 and 256")
    figures = tokenizer_report(_inks(data, limit, seed), ns, output)
    atomic_write_bytes(output / "report.json", lambda f: f.write(json.dumps(figures, indent=1).encode()))
    typer.echo(f"{'N':>4} {'mean':>8} {'p95':>8} {'max':>8} {'steps/pt':>9}")
    for n, f in figures["by_bins"].items():
        typer.echo(f"{n:>4} {f['round_trip_error_mean']:8.4f} {f['round_trip_error_p95']:8.4f} "
                   f"{f['round_trip_error_max']:8.4f} {f['steps_per_point']:9.3f}")
    typer.echo(f"wrote {output / 'tokenizer-report.png'} and {output / 'report.json'}")
