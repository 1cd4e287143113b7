"""Agents for ``inkstroke/BrushWrite-v0`` on Stable-Baselines3: SAC by default,
PPO as an option; training with a stroke curriculum, TensorBoard logs and
checkpoints; loading that refuses what is not a BrushWrite agent; and the
held-out comparison against the raw medians and trajectory optimisation.

A checkpoint is SB3's own zip. The environment settings it was trained with
travel inside it (the ``brush_env`` attribute, which SB3 saves with the
model), so an agent always acts in the environment it learned.
"""

from __future__ import annotations

import json
import math
import time
import zipfile
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from functools import partial
from pathlib import Path

import numpy as np
import torch
from stable_baselines3 import PPO, SAC
from stable_baselines3.common.callbacks import BaseCallback, CallbackList, CheckpointCallback
from stable_baselines3.common.env_util import make_vec_env
from stable_baselines3.common.torch_layers import BaseFeaturesExtractor

from inkstroke.calligraphy.trajectory import Trajectory
from inkstroke.errors import InkstrokeError
from inkstroke.rl.env import BrushWriteEnv, character_split, check_observation


class ResidualSAC(SAC):
    """SAC for a residual policy: the actor waits ``actor_delay`` updates while
    the critic learns what the corrections near the reference are worth, as
    in residual policy learning (Silver et al. 2018). Without the wait the
    actor follows an untrained critic away from the medians at once."""

    actor_delay = 0

    def _update_learning_rate(self, optimizers) -> None:
        super()._update_learning_rate(optimizers)
        if self._n_updates < self.actor_delay:
            for group in self.actor.optimizer.param_groups:
                group["lr"] = 0.0


ALGOS = {"sac": ResidualSAC, "ppo": PPO}
# the PPO agent of docs/rl.md (150k steps): the one that beats the medians
DEFAULT_AGENT = Path(__file__).resolve().parent.parent / "models" / "rl" / "brushwrite_ppo.zip"


@dataclass
class TrainConfig:
    """Training settings; the defaults are those of the runs in docs/rl.md."""

    algo: str = "sac"
    timesteps: int = 60_000
    n_envs: int = 4
    seed: int = 0
    chars: int = 400  # training characters: a seeded sample of the train split
    learning_rate: float = 3e-4
    batch_size: int = 256
    buffer_size: int = 100_000  # SAC; a transition is 0.5 kB of state (26 kB with images)
    gamma: float = 0.9  # a correction pays off within a move or two
    # SAC's entropy weight starts low: a correction gains a fraction of a point,
    # and at SB3's default start (1.0) exploration drowns that for 10k+ steps
    ent_coef: str = "auto_0.02"
    # the policy starts as the medians (zero mean) and explores close to them:
    # uniform actions over [-1, 1]^3 scribble, and teach the critic little
    init_std: float = 0.2
    learning_starts: int = 256
    gradient_steps: int = -1  # SAC: one update per transition (-1), not per vectorised step
    actor_delay: int = 2_000  # SAC: critic updates before the actor moves
    net: tuple[int, ...] = (128, 128)
    # what the policy reads: the state (with its cross-sections) learns fastest;
    # the page image needs a CNN and fills the replay buffer (25 kB a transition)
    observe: tuple[str, ...] = ("state",)
    checkpoint_every: int = 5_000
    # (fraction of training, max_strokes): single strokes, runs of three, whole characters
    curriculum: tuple[tuple[float, int], ...] = ((0.0, 1), (0.3, 3), (0.6, 0))
    # BrushWriteEnv keyword arguments; the baseline reward is what makes the
    # corrections learnable in a CPU budget (see docs/rl.md)
    env: dict = field(default_factory=lambda: {"baseline": True})


class BrushExtractor(BaseFeaturesExtractor):
    """Features of the observation entries the policy reads: a small strided
    CNN over the page image, a linear layer over the patch, the state as it is."""

    def __init__(self, observation_space, page: int = 128, local: int = 128):
        spaces = observation_space.spaces
        size = {"image": page, "patch": local}
        super().__init__(observation_space, sum(size.get(k, s.shape[0]) for k, s in spaces.items()))
        self.parts = torch.nn.ModuleDict()
        if "image" in spaces:
            shape = spaces["image"].shape
            self.parts["image"] = torch.nn.Sequential(
                torch.nn.Conv2d(shape[0], 16, 4, stride=4),
                torch.nn.ReLU(),
                torch.nn.Conv2d(16, 32, 4, stride=4),
                torch.nn.ReLU(),
                torch.nn.Flatten(),
                torch.nn.Linear(32 * (shape[1] // 16) * (shape[2] // 16), page),
                torch.nn.ReLU(),
            )
        if "patch" in spaces:
            self.parts["patch"] = torch.nn.Sequential(
                torch.nn.Flatten(),
                torch.nn.Linear(int(np.prod(spaces["patch"].shape)), local),
                torch.nn.ReLU(),
            )

    def forward(self, obs: dict) -> torch.Tensor:
        return torch.cat(
            [self.parts[k](v) if k in self.parts else v for k, v in obs.items()], dim=1
        )


def observing(env: BrushWriteEnv, keys: Sequence[str]):
    """The env showing only ``keys`` of its observation."""
    from gymnasium.wrappers import FilterObservation

    unknown = set(keys) - set(env.observation_space.spaces)
    if unknown or not keys:
        raise InkstrokeError(
            f"cannot observe {sorted(unknown) or 'nothing'}; choose from image, patch, state"
        )
    return FilterObservation(env, list(keys))


class Curriculum(BaseCallback):
    """Raise the strokes per episode as training goes: ``stages`` are
    (fraction of the total timesteps, max_strokes), 0 meaning whole characters."""

    def __init__(self, stages: Sequence[tuple[float, int]], total: int):
        super().__init__()
        self.stages, self.total, self.level = sorted(stages), total, None

    def _on_step(self) -> bool:
        frac = self.num_timesteps / max(self.total, 1)
        level = [k for start, k in self.stages if start <= frac][-1]
        if level != self.level:
            self.training_env.set_attr("max_strokes", level)
            self.level = level
        self.logger.record("curriculum/max_strokes", level)
        return True


class Progress(BaseCallback):
    def __init__(self, report: Callable[[int], None]):
        super().__init__()
        self.report = report

    def _on_step(self) -> bool:
        self.report(self.num_timesteps)
        return True


def training_characters(count: int, seed: int) -> list[str]:
    """A seeded sample of the train split (a small pool keeps targets cached)."""
    chars = character_split("train")
    rng = np.random.default_rng(seed)
    return [chars[i] for i in sorted(rng.choice(len(chars), min(count, len(chars)), replace=False))]


def start_near_the_medians(model, std: float) -> None:
    """Zero the policy's mean output (the reference motion) and set its
    initial exploration noise to ``std`` (in action units)."""
    with torch.no_grad():
        if isinstance(model, SAC):
            model.actor.mu.weight.zero_()
            model.actor.mu.bias.zero_()
            model.actor.log_std.weight.zero_()
            model.actor.log_std.bias.fill_(math.log(std))
        else:
            model.policy.action_net.weight.zero_()
            model.policy.action_net.bias.zero_()
            model.policy.log_std.fill_(math.log(std))


def held_out_characters(count: int) -> list[str]:
    """``count`` characters spread evenly over the held-out split."""
    chars = character_split("test")
    if not 1 <= count <= len(chars):
        raise InkstrokeError(f"count {count} is out of range [1, {len(chars)}]")
    return chars[:: len(chars) // count][:count]


def train(
    out: str | Path,
    config: TrainConfig = TrainConfig(),
    progress: Callable[[int], None] | None = None,
) -> Path:
    """Train an agent; writes ``out/agent.zip``, ``out/checkpoints/`` and
    TensorBoard logs under ``out/tb/``. Returns the agent's path."""
    if config.algo not in ALGOS:
        raise InkstrokeError(f"unknown algorithm {config.algo!r}; use one of {', '.join(ALGOS)}")
    if config.timesteps < 1 or config.n_envs < 1 or config.chars < 1:
        raise InkstrokeError("timesteps, n_envs and chars must be at least 1")
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    env_config = {k: v for k, v in config.env.items() if k not in ("chars", "max_strokes")}
    observing(BrushWriteEnv(chars=["永"], **env_config), config.observe)  # fail early
    chars = training_characters(config.chars, config.seed)
    env = make_vec_env(
        lambda: observing(BrushWriteEnv(chars=chars, **env_config), config.observe),
        n_envs=config.n_envs,
        seed=config.seed,
    )
    policy_kwargs = {"features_extractor_class": BrushExtractor, "net_arch": list(config.net)}
    common = {
        "learning_rate": config.learning_rate,
        "batch_size": config.batch_size,
        "gamma": config.gamma,
        "policy_kwargs": policy_kwargs,
        "tensorboard_log": str(out / "tb"),
        "seed": config.seed,
        "device": "cpu",
        "verbose": 0,
    }
    if config.algo == "sac":
        model = ResidualSAC(
            "MultiInputPolicy",
            env,
            buffer_size=config.buffer_size,
            learning_starts=min(config.learning_starts, config.timesteps // 2),
            ent_coef=config.ent_coef,
            gradient_steps=config.gradient_steps,
            **common,
        )
        model.actor_delay = config.actor_delay
    else:
        model = PPO("MultiInputPolicy", env, n_steps=256, **common)
    start_near_the_medians(model, config.init_std)
    model.brush_env = env_config
    model.brush_observe = list(config.observe)
    model.brush_train_config = asdict(config)
    callbacks = [
        Curriculum(config.curriculum, config.timesteps),
        CheckpointCallback(
            max(config.checkpoint_every // config.n_envs, 1),
            str(out / "checkpoints"),
            name_prefix=config.algo,
        ),
    ]
    if progress is not None:
        callbacks.append(Progress(progress))
    model.learn(config.timesteps, callback=CallbackList(callbacks), tb_log_name=config.algo)
    path = out / "agent.zip"
    model.save(path)
    env.close()
    return path


# ------------------------------------------------------------------ agents
class BrushAgent:
    """A trained policy and the environment settings it acts in."""

    def __init__(self, model, env_config: dict, observe: Sequence[str], path: Path | None = None):
        self.model, self.env_config, self.path = model, dict(env_config), path
        self.observe = list(observe)
        self._env: BrushWriteEnv | None = None
        self.space = BrushWriteEnv(chars=["永"], **self.env_config).observation_space

    def act(self, obs: dict, deterministic: bool = True) -> np.ndarray:
        """The policy's action for one observation of the environment (or a batch)."""
        check_observation(obs, self.space)
        action, _ = self.model.predict(
            {k: obs[k] for k in self.observe}, deterministic=deterministic
        )
        return action

    def write(self, char: str) -> Trajectory:
        """Write a whole character, one policy step per move."""
        if self._env is None:  # rewards play no part here: skip the baseline's reference run
            self._env = BrushWriteEnv(chars=[char], **{**self.env_config, "baseline": False})
        env = self._env
        obs, _ = env.reset(options={"char": char})
        done = False
        while not done:
            obs, _, done, _, _ = env.step(self.act(obs))
        return env.trajectory()


def load_agent(path: str | Path = DEFAULT_AGENT):
    """Load an agent saved by :func:`train` (a :class:`BrushAgent`) or by
    :func:`inkstroke.rl.knot_agent.train_knot_agent` (a ``KnotAgent``), or one
    of their checkpoints; refuse anything else with an :class:`InkstrokeError`
    that names the file."""
    path = Path(path)
    if not path.is_file():
        raise InkstrokeError(f"{path}: no such agent file")
    try:
        with zipfile.ZipFile(path) as z:
            data = json.loads(z.read("data"))
    except (zipfile.BadZipFile, KeyError, UnicodeDecodeError, json.JSONDecodeError, OSError) as e:
        raise InkstrokeError(
            f"{path}: not a readable agent checkpoint (an SB3 zip with 'data'): {e}"
        ) from None
    if not isinstance(data, dict):
        raise InkstrokeError(f"{path}: not an SB3 agent (its 'data' is not a JSON object)")
    # SAC and PPO save their own hyper-parameters: that tells them apart
    algo = "sac" if "target_entropy" in data else "ppo" if "clip_range" in data else None
    if algo is None:
        raise InkstrokeError(f"{path}: not an SB3 SAC or PPO agent")
    if algo == "ppo" and "brush_knots" in data:
        from inkstroke.rl.knot_agent import check_knot_agent

        try:
            model = PPO.load(path, device="cpu")
        except Exception as e:  # SB3 and torch raise anything from pickle to zip errors
            raise InkstrokeError(
                f"{path}: the agent checkpoint is corrupt ({type(e).__name__}: {e})"
            ) from None
        return check_knot_agent(model, path)
    if "brush_env" not in data or "brush_observe" not in data:
        raise InkstrokeError(
            f"{path}: an SB3 {algo.upper()} agent, but not a BrushWrite one (no environment settings)"
        )
    try:
        model = ALGOS[algo].load(path, device="cpu")
    except Exception as e:  # SB3 and torch raise anything from pickle to zip errors
        raise InkstrokeError(
            f"{path}: the agent checkpoint is corrupt ({type(e).__name__}: {e})"
        ) from None
    try:
        env = BrushWriteEnv(chars=["永"], **model.brush_env)
        expected = observing(env, model.brush_observe).observation_space
    except (AttributeError, TypeError, InkstrokeError) as e:
        raise InkstrokeError(
            f"{path}: the agent's environment settings are unusable ({e})"
        ) from None
    if model.observation_space != expected:
        raise InkstrokeError(
            f"{path}: the agent observes {model.observation_space}, but its environment gives {expected}"
        )
    return BrushAgent(model, model.brush_env, model.brush_observe, path)


# -------------------------------------------------------------- evaluation
@dataclass
class Comparison:
    """IoU and seconds per character for each method, over the same characters."""

    chars: list[str]
    iou: dict[str, list[float]] = field(default_factory=dict)
    seconds: dict[str, list[float]] = field(default_factory=dict)  # motion and its picture
    motion_seconds: dict[str, list[float]] = field(default_factory=dict)  # the motion alone

    def add(self, method: str, iou: float, seconds: float, motion_seconds: float) -> None:
        self.iou.setdefault(method, []).append(iou)
        self.seconds.setdefault(method, []).append(seconds)
        self.motion_seconds.setdefault(method, []).append(motion_seconds)

    def summary(self) -> list[dict]:
        return [
            {
                "method": m,
                "chars": len(self.iou[m]),
                "iou": float(np.mean(self.iou[m])),
                "iou_std": float(np.std(self.iou[m])),
                "seconds": float(np.mean(self.seconds[m])),
                "motion_seconds": float(np.mean(self.motion_seconds[m])),
            }
            for m in self.iou
        ]


def optimised_motion(char: str, target: np.ndarray, steps: int) -> Trajectory:
    """Trajectory optimisation of ``char`` with ``steps`` Adam steps in all (the
    default two-stage schedule, scaled; each stage keeps at least one step),
    without the extra pictures and scores :func:`write_character` makes."""
    from inkstroke.calligraphy.optimize import (
        OptimizeConfig,
        fit_motion,
        motion_to_trajectory,
        optimize_motion,
    )
    from inkstroke.calligraphy.profiles import default_trajectory
    from inkstroke.calligraphy.targets import start_lines

    base = OptimizeConfig()
    config = base.scaled(steps / sum(s.steps for s in base.stages))
    reference = default_trajectory(start_lines(char), char=char)
    return motion_to_trajectory(optimize_motion(fit_motion(reference), target, config), char)


def compare_methods(
    chars: Sequence[str],
    agents: dict[str, object] | None = None,
    optimise_steps: Sequence[int] = (),
    size: int = 256,
    progress: Callable[[int, str], None] | None = None,
) -> Comparison:
    """IoU against the Kaiti target at ``size`` and CPU time per character of the
    raw medians, each agent of ``agents`` (name: agent) and trajectory
    optimisation with each budget of ``optimise_steps``.

    Every method gets the same target picture, made before its clock starts;
    its time runs from the character's centre lines to its motion
    (``motion_seconds``: what a robot or plotter needs) and on to the
    picture the score reads (``seconds``): every trajectory is rendered by
    the numpy brush at ``size``, so the methods differ only in their motion."""
    from inkstroke.calligraphy import brush
    from inkstroke.calligraphy.metrics import iou
    from inkstroke.calligraphy.profiles import default_trajectory
    from inkstroke.calligraphy.targets import start_lines, target_image
    from inkstroke.rl.knot_agent import KnotAgent

    result = Comparison(list(chars))
    clock = time.process_time  # CPU seconds: wall time means little on a shared machine
    # one untimed round first: imports, caches and torch's first calls cost
    # every method a one-off that a character's time should not carry
    for i, char in enumerate([*chars[:1], *chars]):
        if i == 1:
            result = Comparison(list(chars))
        if progress is not None and i > 0:
            progress(i - 1, char)
        target = target_image(char, size)
        fine = target if size == 256 else target_image(char, 256)
        methods = {"medians": lambda c: default_trajectory(start_lines(c), char=c)}
        for name, agent in (agents or {}).items():
            methods[name] = (
                partial(agent.write, target=fine) if isinstance(agent, KnotAgent) else agent.write
            )
        for n in optimise_steps:
            methods[f"optimised {n} steps"] = partial(optimised_motion, target=fine, steps=n)
        for name, write in methods.items():
            start = clock()
            motion = write(char)
            made = clock()
            image = brush.render(motion, size)
            result.add(name, iou(image, target), clock() - start, made - start)
    return result
