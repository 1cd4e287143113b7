"""Speed of the BrushWrite environment on one core: environment steps per
second for the default observation (64 x 64 page, 16 x 16 patch), random
actions, whole characters and single-stroke episodes (resets included), the
baseline reward, and a gymnasium SyncVectorEnv of 8. Target: >= 2,000 steps/s.
The last row is the stroke-level BrushKnots-v0 (one step a knot, each step
renders the stroke again for its reward), for comparison.

Both wall-clock and process CPU time are printed: on a shared machine the
CPU figure is what one core delivers.

    nice -n 15 python benchmarks/rl_env_speed.py [--chars 20] [--steps 5000]
"""

from __future__ import annotations

import argparse
import time

import gymnasium as gym
import numpy as np
import torch

from inkstroke.rl import ENV_ID
from inkstroke.rl.env import BrushWriteEnv, character_split
from inkstroke.rl.knot_env import KnotWriteEnv


def measure(env, actions: np.ndarray, steps: int) -> tuple[float, float]:
    """Steps per second (wall, CPU), counting every sub-environment's step."""
    batch = env.num_envs if isinstance(env, gym.vector.VectorEnv) else 1
    calls = steps // batch
    env.reset(seed=0)
    wall, cpu = time.perf_counter(), time.process_time()
    for i in range(calls):
        if batch > 1:  # vector envs reset their finished sub-environments themselves
            at = (i * batch) % (len(actions) - batch)
            env.step(actions[at : at + batch])
        elif env.step(actions[i % len(actions)])[2]:
            env.reset()
    return calls * batch / (time.perf_counter() - wall), calls * batch / (time.process_time() - cpu)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--chars", type=int, default=20)
    parser.add_argument("--steps", type=int, default=5000)
    args = parser.parse_args()
    torch.set_num_threads(1)
    chars = character_split("train")[::100][: args.chars]
    actions = np.random.default_rng(0).uniform(-1, 1, (4096, 3)).astype(np.float32)
    for c in chars:  # warm the target and reference caches
        BrushWriteEnv(chars=[c]).reset(seed=0)

    rows = [
        ("whole characters", BrushWriteEnv(chars=chars)),
        ("single strokes", BrushWriteEnv(chars=chars, max_strokes=1)),
        ("whole, baseline reward", BrushWriteEnv(chars=chars, baseline=True)),
        ("whole, reward=iou", BrushWriteEnv(chars=chars, reward="iou")),
        (
            "SyncVectorEnv x 8",
            gym.make_vec(ENV_ID, num_envs=8, vectorization_mode="sync", chars=chars),
        ),
    ]
    print(f"{'episodes':26s} {'steps/s wall':>13s} {'steps/s CPU':>12s}")
    knots = KnotWriteEnv(chars=chars)
    for c in chars:
        knots.reset(options={"char": c})
    rows.append(("BrushKnots-v0 (knots)", knots))
    for name, env in rows:
        size = env.action_space.shape[-1]
        wall, cpu = measure(
            env, actions[:, :size] if size == 3 else np.pad(actions, ((0, 0), (0, 1))), args.steps
        )
        print(f"{name:26s} {wall:13.0f} {cpu:12.0f}")


if __name__ == "__main__":
    main()
