"""Demonstrations for the stroke-level agent: trajectory optimisation on
training characters, turned into knot corrections (:mod:`inkstroke.rl.knots`).

Each shard of ``SHARD`` characters is one ``.npz`` in the output folder (the
corrections, the character of each knot, the IoU each character reaches),
written atomically, so an interrupted run resumes where it stopped and
several processes can share the work (``part`` / ``parts``). The features are
not stored: they depend on the character alone and are made again on
loading, so a change to them never leaves stale demonstrations.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np

from inkstroke.errors import InkstrokeError

SHARD = 25  # characters per file


def demonstrate(char: str, steps: float = 1.0) -> tuple[np.ndarray, float]:
    """The knot corrections that reach the optimised motion of one character
    (the default schedule times ``steps``), and the IoU they reach."""
    from inkstroke.calligraphy import brush
    from inkstroke.calligraphy.metrics import iou
    from inkstroke.calligraphy.optimize import (
        OptimizeConfig,
        fit_motion,
        optimize_motion,
    )
    from inkstroke.calligraphy.profiles import default_trajectory
    from inkstroke.calligraphy.targets import start_lines, target_image
    from inkstroke.rl.knots import apply_corrections, corrections_of, plan_knots

    target = target_image(char, 256)
    reference = default_trajectory(start_lines(char), char=char)
    start = fit_motion(reference)
    optimised = optimize_motion(start, target, OptimizeConfig().scaled(steps))
    plan = plan_knots(reference)
    actions = corrections_of(plan, start, optimised)
    score = iou(brush.render(apply_corrections(plan, actions), 256), target)
    return actions.astype(np.float32), score


def write_demonstrations(
    out: str | Path,
    chars: Sequence[str],
    part: int = 0,
    parts: int = 1,
    progress: Callable[[int, int], None] | None = None,
    steps: float = 1.0,
) -> list[Path]:
    """Write the shards numbered ``part`` mod ``parts`` that are missing, with
    ``steps`` times the default optimisation schedule; return every shard
    present afterwards."""
    from inkstroke.io.container import atomic_write_bytes

    if not 0 <= part < parts:
        raise InkstrokeError(f"part {part} is out of range [0, {parts})")
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    shards = [chars[i : i + SHARD] for i in range(0, len(chars), SHARD)]
    todo = [i for i in range(len(shards)) if i % parts == part]
    for done, i in enumerate(todo):
        path = out / f"shard-{i:04d}.npz"
        if path.exists():
            continue
        acts, owner, scores = [], [], []
        start = time.process_time()
        for c in shards[i]:
            a, s = demonstrate(c, steps)
            acts.append(a)
            owner.extend([c] * len(a))
            scores.append(s)
        arrays = {
            "actions": np.concatenate(acts),
            "chars": np.array(owner),
            "iou": np.array(scores),
            "cpu_seconds": np.array(time.process_time() - start),
        }
        atomic_write_bytes(path, lambda f, a=arrays: np.savez_compressed(f, **a))
        if progress is not None:
            progress(done + 1, len(todo))
    return sorted(out.glob("shard-*.npz"))


def load_demonstrations(folder: str | Path) -> dict[str, np.ndarray]:
    """All shards of a folder, concatenated, with each knot's features."""
    from inkstroke.rl.knot_env import character_knots

    paths = sorted(Path(folder).glob("shard-*.npz"))
    if not paths:
        raise InkstrokeError(f"{folder}: no demonstration shards (shard-*.npz)")
    try:
        parts = [dict(np.load(p)) for p in paths]
        out = {k: np.concatenate([p[k] for p in parts]) for k in ("actions", "chars", "iou")}
    except (OSError, ValueError, KeyError) as e:
        raise InkstrokeError(f"{folder}: a demonstration shard is unreadable ({e})") from None
    chars = list(dict.fromkeys(out["chars"].tolist()))
    features = {c: character_knots(c)[1] for c in chars}
    out["features"] = np.concatenate([features[c] for c in chars])
    if len(out["features"]) != len(out["actions"]):
        raise InkstrokeError(
            f"{folder}: the demonstrations do not match today's knots (made by another version?)"
        )
    return out
