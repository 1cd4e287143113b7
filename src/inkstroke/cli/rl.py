"""``inkstroke rl``: train and evaluate brush-control agents and the neural brush.

``train`` runs Stable-Baselines3 (SAC, or PPO) on ``inkstroke/BrushWrite-v0``
with a stroke curriculum, TensorBoard logs and checkpoints; ``eval`` writes
held-out characters with an agent and compares it with the raw medians and
with trajectory optimisation.
"""

from __future__ import annotations

import json
from pathlib import Path

import typer

app = typer.Typer(
    help="Learned brush control: RL agents on BrushWrite-v0 and a neural brush.",
    no_args_is_help=True,
)
neural = typer.Typer(
    help="A network that predicts a stroke segment's ink from its parameters.",
    no_args_is_help=True,
)
app.add_typer(neural, name="neural-brush")


def _write_json(path: Path, obj) -> None:
    from inkstroke.io.container import atomic_write_bytes

    data = json.dumps(obj, ensure_ascii=False, indent=1).encode("utf-8")
    atomic_write_bytes(path, lambda f: f.write(data))


@app.command()
def train(
    out: Path = typer.Option(
        ..., "-o", "--out", help="Folder for agent.zip, checkpoints/ and TensorBoard logs (tb/)."
    ),
    algo: str = typer.Option("sac", "--algo", help="sac or ppo."),
    timesteps: int = typer.Option(60_000, "--timesteps", help="Environment steps in all."),
    envs: int = typer.Option(4, "--envs", help="Environments stepped together."),
    chars: int = typer.Option(400, "--chars", help="Training characters (a seeded sample)."),
    seed: int = typer.Option(0, "--seed"),
    observe: str = typer.Option(
        "state", "--observe", help="What the policy reads: state, patch, image, comma-separated."
    ),
    checkpoint_every: int = typer.Option(
        5_000, "--checkpoint-every", help="Steps between checkpoints."
    ),
    size: int = typer.Option(64, "--size", help="Canvas and page observation, pixels."),
    reward: str = typer.Option("soft_iou", "--reward", help="soft_iou or iou."),
    baseline: bool = typer.Option(
        True,
        "--baseline/--no-baseline",
        help="Reward each move for what it gains over following the reference.",
    ),
) -> None:
    """Train a residual brush-control policy; see docs/rl.md."""
    import torch
    from rich.progress import Progress

    from inkstroke.rl.agent import TrainConfig
    from inkstroke.rl.agent import train as train_agent

    torch.set_num_threads(1)
    config = TrainConfig(
        algo=algo,
        timesteps=timesteps,
        n_envs=envs,
        seed=seed,
        chars=chars,
        observe=tuple(k.strip() for k in observe.split(",") if k.strip()),
        checkpoint_every=checkpoint_every,
        env={"size": size, "reward": reward, "baseline": baseline},
    )
    with Progress(transient=True) as bar:
        task = bar.add_task(f"training {algo}", total=timesteps)
        path = train_agent(out, config, progress=lambda n: bar.update(task, completed=n))
    typer.echo(f"wrote {path} (TensorBoard: tensorboard --logdir {out / 'tb'})")


@app.command("eval")
def evaluate(
    agent: Path | None = typer.Argument(
        None, help="agent.zip from `inkstroke rl train` (default: the shipped PPO agent)."
    ),
    no_agent: bool = typer.Option(False, "--no-agent", help="Compare the other methods only."),
    chars: int = typer.Option(20, "--chars", help="Held-out characters, spread over the split."),
    text: str | None = typer.Option(None, "--text", help="These characters instead."),
    optimise_steps: str = typer.Option(
        "", "--optimise-steps", help="Trajectory-optimisation budgets to compare, e.g. 10,40,150."
    ),
    json_out: Path | None = typer.Option(None, "--json", help="Write the per-character scores."),
) -> None:
    """Write held-out characters with the agent; print IoU and time per character
    against the raw medians and trajectory optimisation."""
    import torch
    from rich.console import Console
    from rich.progress import Progress
    from rich.table import Table

    from inkstroke.errors import InkstrokeError
    from inkstroke.rl.agent import (
        DEFAULT_AGENT,
        compare_methods,
        held_out_characters,
        load_agent,
    )

    torch.set_num_threads(1)
    try:
        budgets = [int(b) for b in optimise_steps.split(",") if b.strip()]
    except ValueError:
        raise InkstrokeError(
            f"--optimise-steps must be numbers like 10,40, got {optimise_steps!r}"
        ) from None
    if any(b < 1 for b in budgets):
        raise InkstrokeError(f"--optimise-steps must be positive, got {optimise_steps!r}")
    loaded = None if no_agent else load_agent(agent or DEFAULT_AGENT)
    todo = [c for c in text if not c.isspace()] if text else held_out_characters(chars)
    with Progress(transient=True) as bar:
        task = bar.add_task("writing", total=len(todo))
        result = compare_methods(
            todo,
            loaded,
            budgets,
            progress=lambda i, c: bar.update(task, completed=i, description=f"writing {c}"),
        )
    table = Table("method", "characters", "IoU (mean ± sd)", "CPU seconds / character")
    for row in result.summary():
        table.add_row(
            row["method"],
            str(row["chars"]),
            f"{row['iou']:.3f} ± {row['iou_std']:.3f}",
            f"{row['seconds']:.3f}",
        )
    Console().print(table)
    if json_out is not None:
        _write_json(
            json_out,
            {
                "chars": result.chars,
                "iou": result.iou,
                "seconds": result.seconds,
                "summary": result.summary(),
            },
        )
        typer.echo(f"wrote {json_out}")


@neural.command("train")
def neural_train(
    output: Path = typer.Option(..., "-o", "--output", help="Weights to write (.safetensors)."),
    samples: int = typer.Option(30_000, "--samples", help="Simulated moves to learn from."),
    steps: int = typer.Option(4_000, "--steps", help="Adam steps."),
    batch: int = typer.Option(64, "--batch"),
    seed: int = typer.Option(0, "--seed"),
) -> None:
    """Train the neural brush on simulated moves."""
    import torch
    from rich.progress import Progress

    from inkstroke.errors import InkstrokeError
    from inkstroke.rl.neural_brush import NeuralBrushConfig, save_neural_brush, train_neural_brush

    if min(samples, steps, batch) < 1:
        raise InkstrokeError("--samples, --steps and --batch must be at least 1")
    if not output.parent.is_dir():
        raise InkstrokeError(f"{output}: the folder {output.parent} does not exist")
    torch.set_num_threads(1)
    config = NeuralBrushConfig(samples=samples, steps=steps, batch=batch, seed=seed)
    with Progress(transient=True) as bar:
        task = bar.add_task("training the neural brush", total=steps)
        net = train_neural_brush(
            config,
            progress=lambda i, n, loss: bar.update(
                task, completed=i, description=f"training (loss {loss:.4f})"
            ),
        )
    save_neural_brush(net, output)
    typer.echo(f"wrote {output}")


@neural.command("eval")
def neural_eval(
    weights: Path | None = typer.Argument(None, help="Weights (default: the shipped ones)."),
    chars: int = typer.Option(10, "--chars", help="Held-out characters whose strokes to render."),
    json_out: Path | None = typer.Option(None, "--json", help="Write the figures as JSON."),
) -> None:
    """IoU of the neural brush against the simulator on held-out strokes, and its speed-up."""
    import torch

    from inkstroke.rl.agent import held_out_characters
    from inkstroke.rl.neural_brush import DEFAULT_WEIGHTS, evaluate_neural_brush, load_neural_brush

    torch.set_num_threads(1)
    net = load_neural_brush(weights or DEFAULT_WEIGHTS)
    figures = evaluate_neural_brush(net, held_out_characters(chars))
    for key, value in figures.items():
        typer.echo(f"{key:24s} {value:.4g}" if isinstance(value, float) else f"{key:24s} {value}")
    if json_out is not None:
        _write_json(json_out, figures)
        typer.echo(f"wrote {json_out}")
