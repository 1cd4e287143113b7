"""How well do the bins fit? Histograms, edges, token frequencies, round-trip error."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from inkstroke.ink import Ink
from inkstroke.tokenize.strokes import StrokeTokenizer


def round_trip_errors(tok: StrokeTokenizer, inks: list[Ink]) -> np.ndarray:
    """Distance from every prepared point to its decoded position (body heights)."""
    errors = []
    for ink in inks:
        moves = StrokeTokenizer.moves(ink, tok.step, tok.rdp)
        reached: list = []
        tok.encode(ink, reached=reached)
        errors.append(np.linalg.norm(np.asarray(reached) - np.cumsum(moves[:, :2], axis=0), axis=1))
    return np.concatenate(errors)


def tokenizer_report(inks: list[Ink], bins: list[int], out: str | Path, step: float = 0.12,
                     rdp: float = 0.02) -> dict:
    """Fit a tokenizer per N on ``inks``; write plots to ``out``; return the figures."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    half = max(len(inks) // 2, 1)
    fit_inks, test_inks = inks[:half], inks[half:] or inks
    moves = np.concatenate([StrokeTokenizer.moves(i, step, rdp) for i in fit_inks])
    figures: dict = {"inks_fit": len(fit_inks), "inks_tested": len(test_inks), "moves": int(len(moves)),
                     "pen_up_share": float(moves[:, 2].mean()), "by_bins": {}}
    fig, axes = plt.subplots(len(bins), 3, figsize=(13, 3 * len(bins)), squeeze=False)
    for row, n in enumerate(bins):
        tok = StrokeTokenizer.fit(fit_inks, n, step, rdp)
        err = round_trip_errors(tok, test_inks)
        steps = np.concatenate([tok.encode(i) for i in test_inks])
        freq_x = np.bincount(steps[:, 0], minlength=n) / len(steps)
        freq_y = np.bincount(steps[:, 1], minlength=n) / len(steps)
        figures["by_bins"][n] = {
            "round_trip_error_mean": float(err.mean()), "round_trip_error_p95": float(np.percentile(err, 95)),
            "round_trip_error_max": float(err.max()), "steps_per_point": float(len(steps) / len(err)),
            "x_centers": tok.x.centers.round(4).tolist(), "y_centers": tok.y.centers.round(4).tolist(),
            "x_token_frequency": freq_x.round(4).tolist(), "y_token_frequency": freq_y.round(4).tolist()}
        for col, (vals, axis, name) in enumerate([(moves[:, 0], tok.x, "Δx"), (moves[:, 1], tok.y, "Δy")]):
            ax = axes[row][col]
            lim = np.percentile(np.abs(vals), 99.5)
            ax.hist(vals[np.abs(vals) <= lim], bins=200, color="0.6")
            for e in axis.edges[np.abs(axis.edges) <= lim]:
                ax.axvline(e, color="C3", lw=0.6)
            ax.set_title(f"{name} (body heights), N={n}: histogram and bin edges", fontsize=8)
        ax = axes[row][2]
        ax.bar(np.arange(n) - 0.2, freq_x, 0.4, label="Δx")
        ax.bar(np.arange(n) + 0.2, freq_y, 0.4, label="Δy")
        ax.set_title(f"token frequencies, N={n}; round trip mean {err.mean():.4f}, max {err.max():.3f}", fontsize=8)
        ax.legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(out / "tokenizer-report.png", dpi=90)
    return figures
