"""``inkstroke train``: fit tokenizers, cache tokens, train; or the overfit ladder."""

from __future__ import annotations

import shlex
import sys
from pathlib import Path

import typer

from inkstroke.errors import InkstrokeError


def train(
    data: Path = typer.Option(..., "--data", help="Dataset (.inks) or a token cache (.npz)."),
    config: Path | None = typer.Option(None, "--config", help="TOML config (see configs/)."),
    out: Path = typer.Option(Path("runs/handwriting"), "--out", help="Run folder for checkpoints and logs."),
    resume: bool = typer.Option(False, "--resume", help="Continue the run in --out."),
    overfit: int | None = typer.Option(None, "--overfit", help="Debug ladder: memorise N examples; exit 0 if memorised, 1 if not."),
    steps: int | None = typer.Option(None, "--steps", min=1, help="Override the number of steps (with --overfit: the most steps to try)."),
    seed: int | None = typer.Option(None, "--seed"),
    limit: int | None = typer.Option(None, "--limit", min=1, help="Use at most this many inks (quick runs)."),
    init_from: Path | None = typer.Option(None, "--init-from", help="Warm start: copy matching weights from this run."),
) -> None:
    """Train a handwriting model (motion tokens or the MDN baseline)."""
    from inkstroke.train.loop import load_config
    from inkstroke.train.loop import train as run_training
    from inkstroke.train.prepare import prepare_tokens

    overrides = {k: v for k, v in {"steps": steps, "seed": seed}.items() if v is not None}
    cfg = load_config(config, overrides)
    if not data.exists():
        raise InkstrokeError(f"{data}: no such dataset")
    out.mkdir(parents=True, exist_ok=True)
    if data.suffix == ".npz":
        cache_path = data
    else:
        cache_path = out / "tokens.npz"
        if not cache_path.exists():
            prepare_tokens(data, cache_path, limit=limit, seed=cfg.seed)
    command = "inkstroke " + " ".join(shlex.quote(a) for a in sys.argv[1:])
    if overfit is not None:
        from inkstroke.train.overfit import overfit_ladder

        ok = overfit_ladder(cache_path, overfit, cfg, out, **({"max_steps": steps} if steps else {}))
        raise typer.Exit(0 if ok else 1)
    figures = run_training(cache_path, cfg, out, resume=resume, command=command, init_from=init_from)
    typer.echo("  ".join(f"{k}={v:.4g}" for k, v in figures.items()))


def distill(
    teacher: Path = typer.Option(..., "--teacher", help="Checkpoint folder of the guided model to distil."),
    data: Path = typer.Option(..., "--data", help="Dataset (.inks) whose training texts give the words."),
    config: Path | None = typer.Option(None, "--config", help="TOML config (configs/distill.toml)."),
    out: Path = typer.Option(Path("runs/distilled"), "--out", help="Run folder: the teacher's samples, checkpoints."),
    resume: bool = typer.Option(False, "--resume", help="Continue the run in --out."),
    steps: int | None = typer.Option(None, "--steps", min=1, help="Override the number of steps."),
    seed: int | None = typer.Option(None, "--seed"),
) -> None:
    """Distil a model's guided sampling into one that needs no guidance (one decoder pass per step, not two)."""
    from inkstroke.train.distill import distill as run_distill
    from inkstroke.train.distill import load_distill_config

    cfg = load_distill_config(config, {k: v for k, v in {"steps": steps, "seed": seed}.items() if v is not None})
    if not data.exists():
        raise InkstrokeError(f"{data}: no such dataset")
    command = "inkstroke " + " ".join(shlex.quote(a) for a in sys.argv[1:])
    figures = run_distill(teacher, data, cfg, out, resume=resume, command=command)
    typer.echo("  ".join(f"{k}={v:.4g}" for k, v in figures.items()))
