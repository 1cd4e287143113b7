"""The stroke-level agent: a PPO policy on ``inkstroke/BrushKnots-v0``, started
by behaviour cloning of trajectory optimisation, that corrects every knot of
a character in one batched call.

Training has two phases:

1. **Behaviour cloning.** Trajectory optimisation writes training characters
   (:mod:`inkstroke.rl.demos`); its motions, read as knot corrections, teach
   the policy's mean by regression. The demonstrations come from characters
   of the train split only.
2. **PPO** on ``inkstroke/BrushKnots-v0`` from that start, with the
   exploration noise small so that the rollouts stay near the cloned policy,
   and the policy held still while the value network learns what the
   cloned corrections earn (``critic_warmup`` steps): before that its
   advantages are noise, which would only push the policy off its start.

The agent is SB3's own PPO zip with its settings inside (``brush_knots``), so
:func:`inkstroke.rl.agent.load_agent` tells it apart from a BrushWrite agent.
"""

from __future__ import annotations

import copy
import math
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import torch
from stable_baselines3 import PPO
from stable_baselines3.common.callbacks import BaseCallback, CallbackList, CheckpointCallback
from stable_baselines3.common.env_util import make_vec_env

from inkstroke.calligraphy.trajectory import Trajectory
from inkstroke.errors import InkstrokeError
from inkstroke.rl.knot_env import FEATURE_BOUND, KnotWriteEnv, character_knots
from inkstroke.rl.knots import (
    ACTION_SIZE,
    FEATURES,
    SCALAR_NAMES,
    SCALARS,
    apply_corrections,
    knot_features,
    plan_knots,
)

FIRST_KNOT = FEATURES - SCALARS + SCALAR_NAMES.index("first knot")  # its column
DEFAULT_KNOT_AGENT = Path(__file__).resolve().parent.parent / "models" / "rl" / "brushknots_ppo.zip"


@dataclass
class KnotTrainConfig:
    """Settings of both phases; the defaults are those of the agent in docs/rl.md."""

    seed: int = 0
    chars: int = 1500  # training characters of the demonstrations, and of PPO
    net: tuple[int, ...] = (256, 256)
    bc_epochs: int = 40
    bc_batch: int = 512
    bc_lr: float = 1e-3
    timesteps: int = 300_000  # PPO steps (knots) after cloning; 0 for cloning alone
    n_envs: int = 4
    learning_rate: float = 3e-5
    n_steps: int = 256
    batch_size: int = 256
    clip_range: float = 0.1
    init_std: float = 0.1  # exploration noise around the cloned policy, in action units
    gamma: float = 1.0  # a stroke's return is the gain of the whole correction
    critic_warmup: int = 10_000  # PPO steps that train the value network alone
    reward_size: int = 256  # pixels of the page the reward reads: the evaluation's
    relative: bool = True  # rewards relative to the cloned policy's own gain (see KnotWriteEnv)
    target_kl: float | None = 0.02  # stop an update early when the policy moves further
    checkpoint_every: int = 10_000


def _mean(policy, obs: torch.Tensor) -> torch.Tensor:
    """The policy's mean action (the deterministic one) for a batch of observations."""
    latent = policy.mlp_extractor.forward_actor(
        policy.extract_features(obs, policy.pi_features_extractor)
    )
    return policy.action_net(latent)


def behaviour_clone(
    model: PPO,
    features: np.ndarray,
    actions: np.ndarray,
    owners: np.ndarray,
    config: KnotTrainConfig,
    progress: Callable[[int, int, float, float], None] | None = None,
) -> dict[str, float]:
    """Regress the policy's mean on the demonstrations (tip turns count at first
    knots only); 5 % of the characters are kept aside to report the fit."""
    rng = np.random.default_rng(config.seed)
    chars = np.unique(owners)
    held = set(rng.choice(chars, max(1, len(chars) // 20), replace=False).tolist())
    val = np.array([c in held for c in owners])
    x = torch.from_numpy(np.clip(features.astype(np.float32), -FEATURE_BOUND, FEATURE_BOUND))
    y = torch.from_numpy(actions.astype(np.float32))
    weight = torch.ones_like(y)
    weight[:, 3] = x[:, FIRST_KNOT]
    train_idx, val_idx = np.flatnonzero(~val), np.flatnonzero(val)
    params = [
        *model.policy.mlp_extractor.policy_net.parameters(),
        *model.policy.action_net.parameters(),
    ]
    opt = torch.optim.Adam(params, lr=config.bc_lr)
    steps = config.bc_epochs * math.ceil(len(train_idx) / config.bc_batch)
    sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, steps)

    def loss_of(idx) -> torch.Tensor:
        return (weight[idx] * (_mean(model.policy, x[idx]) - y[idx]) ** 2).sum() / weight[idx].sum()

    val_loss = float("nan")
    for epoch in range(config.bc_epochs):
        order = rng.permutation(train_idx)
        total = 0.0
        for i in range(0, len(order), config.bc_batch):
            idx = torch.from_numpy(order[i : i + config.bc_batch])
            loss = loss_of(idx)
            opt.zero_grad()
            loss.backward()
            opt.step()
            sched.step()
            total += loss.item() * len(idx)
        with torch.no_grad():
            val_loss = loss_of(torch.from_numpy(val_idx)).item()
        if progress is not None:
            progress(epoch + 1, config.bc_epochs, total / len(train_idx), val_loss)
    with torch.no_grad():
        zero = (weight[val_idx] * y[val_idx] ** 2).sum().item() / weight[val_idx].sum().item()
    return {"val_mse": val_loss, "val_mse_of_zero": zero, "val_chars": len(held)}


class CriticWarmup(BaseCallback):
    """Hold the policy (its layers and its noise) still for the first ``steps``."""

    def __init__(self, steps: int):
        super().__init__()
        self.steps = steps

    def _on_rollout_start(self) -> None:
        policy = self.model.policy
        frozen = self.num_timesteps < self.steps
        for p in [
            *policy.mlp_extractor.policy_net.parameters(),
            *policy.action_net.parameters(),
            policy.log_std,
        ]:
            p.requires_grad_(not frozen)

    def _on_step(self) -> bool:
        return True


def _latest_checkpoint(folder: Path) -> Path | None:
    found = sorted(folder.glob("ppo_*_steps.zip"), key=lambda p: int(p.stem.split("_")[1]))
    return found[-1] if found else None


def _provenance() -> dict:
    import sys

    import stable_baselines3

    from inkstroke.model.checkpoint import hardware

    return {
        "command": " ".join(sys.argv),
        "saved": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "hardware": hardware(),
        "stable_baselines3": stable_baselines3.__version__,
    }


def train_knot_agent(
    out: str | Path,
    demos: Callable[[], dict[str, np.ndarray]] | dict[str, np.ndarray],
    config: KnotTrainConfig = KnotTrainConfig(),
    bc_progress: Callable[[int, int, float, float], None] | None = None,
    progress: Callable[[int], None] | None = None,
    resume: bool = False,
) -> Path:
    """Clone the demonstrations, then run PPO; writes ``out/cloned.zip``,
    ``out/agent.zip``, ``out/checkpoints/`` and TensorBoard logs in ``out/tb/``.

    With ``resume`` an interrupted run goes on from ``out/cloned.zip`` and its
    latest checkpoint, to ``config.timesteps`` in all. ``demos`` may be a
    function that loads them: it is called only when cloning is to be done."""
    from inkstroke.rl.agent import Progress, training_characters

    out = Path(out)
    cloned = out / "cloned.zip"
    resuming = resume and cloned.is_file()
    # the demonstrations first: a bad folder is refused before anything is written
    data = None if resuming else demos() if callable(demos) else demos
    out.mkdir(parents=True, exist_ok=True)
    torch.manual_seed(config.seed)
    chars = training_characters(config.chars, config.seed)
    frozen = []  # the cloned policy, which writes the other strokes

    def others(char: str) -> np.ndarray:
        return corrections(frozen[0], character_knots(char)[1])

    env = make_vec_env(
        lambda: KnotWriteEnv(
            chars=chars, size=config.reward_size, others=others, relative=config.relative
        ),
        n_envs=config.n_envs,
        seed=config.seed,
    )
    latest = _latest_checkpoint(out / "checkpoints")
    if resuming:
        frozen.append(PPO.load(cloned, device="cpu").policy)
        model = PPO.load(latest or cloned, env=env, device="cpu")
        # SB3 keeps the old run's log folder; TensorBoard goes on in out/tb
        model.tensorboard_log = str(out / "tb")
    else:
        model = PPO(
            "MlpPolicy",
            env,
            learning_rate=config.learning_rate,
            n_steps=config.n_steps,
            batch_size=config.batch_size,
            gamma=config.gamma,
            clip_range=config.clip_range,
            target_kl=config.target_kl,
            policy_kwargs={"net_arch": list(config.net), "activation_fn": torch.nn.ReLU},
            tensorboard_log=str(out / "tb"),
            seed=config.seed,
            device="cpu",
            verbose=0,
        )
        start = time.process_time()
        fit = behaviour_clone(
            model, data["features"], data["actions"], data["chars"], config, bc_progress
        )
        frozen.append(copy.deepcopy(model.policy))
        with torch.no_grad():
            model.policy.log_std.fill_(math.log(config.init_std))
        model.brush_knots = {
            "features": FEATURES,
            "train_config": asdict(config),
            "demonstrations": {
                "knots": len(data["actions"]),
                "chars": len(np.unique(data["chars"])),
                "mean_iou": float(np.mean(data["iou"])),
            },
            "behaviour_cloning": fit,
            "bc_cpu_seconds": time.process_time() - start,
            "provenance": _provenance(),
        }
        model.save(cloned)
    left = config.timesteps - model.num_timesteps
    if left > 0:
        callbacks = [
            CriticWarmup(config.critic_warmup),
            CheckpointCallback(
                max(config.checkpoint_every // config.n_envs, 1), str(out / "checkpoints"), "ppo"
            ),
        ]
        if progress is not None:
            callbacks.append(Progress(progress))
        start = time.process_time()
        model.learn(
            left,
            callback=CallbackList(callbacks),
            tb_log_name="ppo",
            reset_num_timesteps=model.num_timesteps == 0,
        )
        model.brush_knots["ppo_cpu_seconds"] = model.brush_knots.get("ppo_cpu_seconds", 0.0) + (
            time.process_time() - start
        )
        model.brush_knots["ppo_steps"] = model.num_timesteps
    path = out / "agent.zip"
    model.save(path)
    env.close()
    return path


def corrections(policy, features: np.ndarray) -> np.ndarray:
    """A policy's deterministic knot corrections for (N, FEATURES) features."""
    features = np.asarray(features)
    if features.ndim != 2 or features.shape[1] != FEATURES:
        raise InkstrokeError(f"knot features must have shape (N, {FEATURES}), got {features.shape}")
    if not np.isfinite(features).all():
        raise InkstrokeError("knot features must be finite")
    x = torch.from_numpy(np.clip(features, -FEATURE_BOUND, FEATURE_BOUND).astype(np.float32))
    with torch.no_grad():
        return np.clip(_mean(policy, x).numpy(), -1.0, 1.0)


class KnotAgent:
    """A trained stroke-level policy: ``write`` corrects a whole character at once."""

    def __init__(self, model: PPO, path: Path | None = None):
        self.model, self.path = model, path

    def corrections(self, features: np.ndarray) -> np.ndarray:
        """The deterministic policy's knot corrections for (N, FEATURES) features."""
        return corrections(self.model.policy, features)

    def write(self, char: str, target: np.ndarray | None = None) -> Trajectory:
        """The corrected motion of ``char`` against ``target`` (default: its Kaiti
        glyph at 256 pixels)."""
        from inkstroke.calligraphy.profiles import default_trajectory
        from inkstroke.calligraphy.targets import start_lines, target_image

        if target is None:
            target = target_image(char, 256)
        return self.correct(default_trajectory(start_lines(char), char=char), target)

    def correct(self, reference: Trajectory, target: np.ndarray) -> Trajectory:
        """Correct a reference motion (e.g. from :func:`default_trajectory`)
        toward a target picture in the mmah frame (256 pixels, as trained)."""
        plan = plan_knots(reference)
        return apply_corrections(plan, self.corrections(knot_features(plan, target)))


def check_knot_agent(model, path: Path) -> KnotAgent:
    """Refuse a PPO zip whose observation or action space is not BrushKnots'."""
    if model.observation_space.shape != (FEATURES,) or model.action_space.shape != (ACTION_SIZE,):
        raise InkstrokeError(
            f"{path}: a knot agent observes {model.observation_space} and acts in "
            f"{model.action_space}; BrushKnots-v0 gives ({FEATURES},) and takes ({ACTION_SIZE},)"
        )
    return KnotAgent(model, path)
