"""``inkstroke rl``: train and evaluate brush-control agents and the neural brush.

``train`` runs Stable-Baselines3 (SAC, or PPO) on ``inkstroke/BrushWrite-v0``
with a stroke curriculum, TensorBoard logs and checkpoints; ``demos`` and
``train-knots`` make the stroke-level agent of ``inkstroke/BrushKnots-v0``
(behaviour cloning of trajectory optimisation, then PPO); ``eval`` writes
held-out characters with agents and compares them with the raw medians and
with trajectory optimisation.
"""

from __future__ import annotations

import json
from pathlib import Path

import typer

app = typer.Typer(
    help="Learned brush control: RL agents on BrushWrite-v0 and BrushKnots-v0, and a neural brush.",
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


@app.command()
def demos(
    out: Path = typer.Option(..., "-o", "--out", help="Folder for the shards (shard-*.npz)."),
    chars: int = typer.Option(1500, "--chars", help="Training characters (a seeded sample)."),
    seed: int = typer.Option(0, "--seed"),
    part: int = typer.Option(0, "--part", help="Which share of the shards this process writes."),
    parts: int = typer.Option(1, "--parts", help="How many processes share them."),
) -> None:
    """Optimise training characters' motions: what the knot agent clones.

    Stored as knot corrections, in shards; a rerun resumes where the last stopped."""
    import torch
    from rich.progress import Progress

    from inkstroke.errors import InkstrokeError
    from inkstroke.rl.agent import training_characters
    from inkstroke.rl.demos import write_demonstrations

    if chars < 1 or parts < 1:
        raise InkstrokeError("--chars and --parts must be at least 1")
    torch.set_num_threads(1)
    with Progress() as bar:
        task = bar.add_task("optimising characters")
        shards = write_demonstrations(
            out,
            training_characters(chars, seed),
            part,
            parts,
            progress=lambda i, n: bar.update(task, completed=i, total=n),
        )
    typer.echo(f"{out}: {len(shards)} shards")


@app.command("train-knots")
def train_knots(
    out: Path = typer.Option(
        ..., "-o", "--out", help="Folder for agent.zip, cloned.zip, checkpoints/ and tb/."
    ),
    demos_dir: Path = typer.Option(..., "--demos", help="Shards from `inkstroke rl demos`."),
    timesteps: int = typer.Option(
        300_000, "--timesteps", help="PPO steps after cloning (0: none)."
    ),
    chars: int = typer.Option(1500, "--chars", help="Training characters for PPO."),
    seed: int = typer.Option(0, "--seed"),
    resume: bool = typer.Option(
        False, "--resume", help="Go on from OUT/cloned.zip and the latest checkpoint."
    ),
) -> None:
    """Train the knot agent: cloning of the demonstrations, then PPO; see docs/rl.md."""
    import torch
    from rich.progress import Progress

    from inkstroke.rl.demos import load_demonstrations
    from inkstroke.rl.knot_agent import KnotTrainConfig, train_knot_agent

    torch.set_num_threads(1)
    config = KnotTrainConfig(seed=seed, chars=chars, timesteps=timesteps)
    with Progress(transient=True) as bar:
        clone = bar.add_task("cloning", total=config.bc_epochs)
        task = bar.add_task("PPO", total=timesteps)
        path = train_knot_agent(
            out,
            lambda: load_demonstrations(demos_dir),
            config,
            bc_progress=lambda e, n, loss, val: bar.update(
                clone, completed=e, description=f"cloning (validation MSE {val:.4f})"
            ),
            progress=lambda n: bar.update(task, completed=n),
            resume=resume,
        )
    typer.echo(f"wrote {path} (TensorBoard: tensorboard --logdir {out / 'tb'})")


def _method_name(path: Path) -> str:
    return path.parent.name if path.stem == "agent" else path.stem


@app.command("eval")
def evaluate(
    agents: list[Path] | None = typer.Argument(
        None,
        help="Agents from `inkstroke rl train` or `train-knots` (default: both shipped agents).",
    ),
    no_agent: bool = typer.Option(False, "--no-agent", help="Compare the other methods only."),
    chars: int = typer.Option(20, "--chars", min=1, help="Held-out characters, spread over the split."),
    text: str | None = typer.Option(None, "--text", help="These characters instead."),
    optimise_steps: str = typer.Option(
        "", "--optimise-steps", help="Trajectory-optimisation budgets to compare, e.g. 10,40,150."
    ),
    json_out: Path | None = typer.Option(None, "--json", help="Write the per-character scores."),
) -> None:
    """Compare agents with the medians and trajectory optimisation on held-out characters.

    Prints IoU and CPU seconds per character (the motion, and with its picture)."""
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
    from inkstroke.rl.knot_agent import DEFAULT_KNOT_AGENT

    torch.set_num_threads(1)
    try:
        budgets = [int(b) for b in optimise_steps.split(",") if b.strip()]
    except ValueError:
        raise InkstrokeError(
            f"--optimise-steps must be numbers like 10,40, got {optimise_steps!r}"
        ) from None
    if any(b < 1 for b in budgets):
        raise InkstrokeError(f"--optimise-steps must be positive, got {optimise_steps!r}")
    paths = [] if no_agent else agents or [DEFAULT_AGENT, DEFAULT_KNOT_AGENT]
    loaded = {_method_name(p): load_agent(p) for p in paths}
    if text is not None and not text.strip():
        raise InkstrokeError("--text holds no characters to write")
    todo = [c for c in text if not c.isspace()] if text else held_out_characters(chars)
    with Progress(transient=True) as bar:
        task = bar.add_task("writing", total=len(todo))
        result = compare_methods(
            todo,
            loaded,
            budgets,
            progress=lambda i, c: bar.update(task, completed=i, description=f"writing {c}"),
        )
    table = Table(
        "method",
        "characters",
        "IoU (mean ± sd)",
        "CPU s / character: motion",
        "motion + picture",
    )
    for row in result.summary():
        table.add_row(
            row["method"],
            str(row["chars"]),
            f"{row['iou']:.3f} ± {row['iou_std']:.3f}",
            f"{row['motion_seconds']:.4f}",
            f"{row['seconds']:.4f}",
        )
    Console().print(table)
    if json_out is not None:
        _write_json(
            json_out,
            {
                "chars": result.chars,
                "iou": result.iou,
                "seconds": result.seconds,
                "motion_seconds": result.motion_seconds,
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
