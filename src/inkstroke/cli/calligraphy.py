"""``inkstroke calligraphy``: write characters with the virtual brush.

Each character starts from its hanzi-writer-data medians (or its glyph's
skeleton), gets default brush motion, and is optimised to match the target
glyph; the picture shows the characters side by side, and ``--trajectory``
saves the brush motion for a robot.
"""

from __future__ import annotations

from pathlib import Path

import typer

DEFAULT_STEPS = 95  # the stages of OptimizeConfig(); not imported here, to keep --help fast


def calligraphy(
    chars: str = typer.Argument(..., help="The characters to write, e.g. 永."),
    output: Path = typer.Option(
        ..., "-o", "--output", help="Picture to write (.png), the characters side by side."
    ),
    trajectory: Path | None = typer.Option(
        None,
        "--trajectory",
        help="Brush trajectory JSON; with several characters, STEM-CHAR.json each.",
    ),
    font: Path | None = typer.Option(
        None, "--font", help="Style font of the target (default: Kaiti)."
    ),
    size: int = typer.Option(
        256, "--size", min=16, max=8192, help="Pixels per character: the 1024 frame as N x N, row 0 at y = 900."
    ),
    steps: int = typer.Option(
        DEFAULT_STEPS, "--steps", help="Optimisation steps; 0 renders the default motion."
    ),
    seed: int = typer.Option(0, "--seed", help="Seed of the bristle pattern."),
    target: str = typer.Option(
        "font", "--target", help="font: the glyph of --font; outlines: hanzi-writer-data's."
    ),
    replay: Path | None = typer.Option(
        None, "--replay", help="Render this trajectory JSON instead (one character)."
    ),
    panels: bool = typer.Option(
        False, "--panels", help="One row per character: target | default motion | optimised."
    ),
    agent: bool = typer.Option(
        False,
        "--agent",
        help="Correct the motion with the shipped knot agent instead of optimising it "
        "(about as close as 10 steps, 30x faster; see docs/rl.md).",
    ),
) -> None:
    """Write CHARS with a simulated ink brush, optimising its motion to match the target glyph.

    Prints IoU, Dice and SSIM against the target before (default motion from
    the medians) and after optimisation.
    """
    import numpy as np
    import torch
    from rich.console import Console
    from rich.progress import Progress
    from rich.table import Table

    from inkstroke.calligraphy.brush import render, to_image
    from inkstroke.calligraphy.optimize import OptimizeConfig, write_character
    from inkstroke.calligraphy.trajectory import load_trajectory, save_trajectory
    from inkstroke.errors import InkstrokeError

    chars = "".join(c for c in chars if not c.isspace())
    if not chars:
        raise InkstrokeError("no characters to write")
    if steps < 0:
        raise InkstrokeError(f"--steps must be 0 or more, got {steps}")
    for path in (output, trajectory):
        if path is not None and not path.parent.is_dir():
            raise InkstrokeError(f"{path}: the folder {path.parent} does not exist")
    if output.suffix.lower() != ".png":
        raise InkstrokeError(f"{output}: the picture must be a .png")
    if trajectory is not None and trajectory.suffix.lower() != ".json":
        raise InkstrokeError(f"{trajectory}: a trajectory is written as .json")
    if replay is not None and len(chars) != 1:
        raise InkstrokeError(f"--replay renders one character's trajectory, but {len(chars)} characters were given")
    torch.set_num_threads(1)  # small tensors: more threads only contend
    if replay is not None:
        traj = load_trajectory(replay)
        _save_png(output, to_image(render(traj, size, seed=seed)))
        typer.echo(f"wrote {output}")
        return

    config = OptimizeConfig().scaled(steps / DEFAULT_STEPS) if steps else None
    knots = None
    if agent:
        from inkstroke.rl.agent import load_agent
        from inkstroke.rl.knot_agent import DEFAULT_KNOT_AGENT

        knots, steps = load_agent(DEFAULT_KNOT_AGENT), 0
    results = []
    with Progress(transient=True) as bar:
        task = bar.add_task("writing", total=len(chars) * (steps or 1))
        for i, char in enumerate(chars):
            bar.update(task, description=f"writing {char}")
            results.append(
                write_character(
                    char,
                    size,
                    font,
                    target,
                    config,
                    seed=seed,
                    progress=lambda done, total, loss, i=i: bar.update(
                        task, completed=i * steps + done
                    ),
                    agent=knots,
                )
            )
            bar.update(task, completed=(i + 1) * (steps or 1))

    if trajectory is not None:
        for r in results:
            path = (
                trajectory
                if len(chars) == 1
                else trajectory.with_name(f"{trajectory.stem}-{r.char}{trajectory.suffix}")
            )
            save_trajectory(r.optimised or r.raw, path)
            typer.echo(f"wrote {path}")
    if panels:  # one row per character
        rows = [
            np.hstack([to_image(r.target), to_image(r.raw_image), to_image(r.image)])
            for r in results
        ]
        _save_png(output, np.vstack(rows))
    else:
        _save_png(output, np.hstack([to_image(r.image) for r in results]))

    table = Table(
        "char",
        "IoU before",
        "IoU after",
        "Dice before",
        "Dice after",
        "SSIM before",
        "SSIM after",
        "seconds",
    )
    for r in results:
        b, a = r.raw_metrics, r.metrics
        table.add_row(
            r.char,
            *(f"{m[k]:.3f}" for k in ("iou", "dice", "ssim") for m in (b, a)),
            f"{r.seconds:.1f}",
        )
    Console().print(table)
    typer.echo(f"wrote {output}")


def _save_png(path: Path, pixels) -> None:
    from PIL import Image

    from inkstroke.io.container import atomic_write_bytes

    atomic_write_bytes(path, lambda f: Image.fromarray(pixels).save(f, format="PNG"))
