"""BrushKnots-v0: the Gymnasium API, rewards that add up to the stroke's gain,
observations that do not depend on the actions, and refused bad actions."""

import gymnasium as gym
import numpy as np
import pytest
from gymnasium.utils.env_checker import check_env

import inkstroke.rl  # noqa: F401  (registers the environments)
from inkstroke.errors import InkstrokeError
from inkstroke.rl.knot_env import KnotWriteEnv
from inkstroke.rl.knots import FEATURES


def test_check_env_passes_and_the_env_is_registered():
    env = gym.make("inkstroke/BrushKnots-v0", chars=["永", "丑"])
    check_env(env.unwrapped)
    obs, info = env.reset(seed=3)
    assert obs.shape == (FEATURES,) and env.observation_space.contains(obs)
    assert info["char"] in "永丑"


def test_returns_add_up_to_the_gain_and_observations_ignore_actions():
    env = KnotWriteEnv(chars=["永"])
    runs = []
    for scale in (0.0, 0.6):
        obs, info = env.reset(options={"char": "永", "stroke": 4})
        seen, total, done = [obs], 0.0, False
        rng = np.random.default_rng(0)
        while not done:
            obs, reward, done, truncated, step_info = env.step(
                scale * rng.uniform(-1, 1, 4).astype(np.float32)
            )
            assert not truncated
            seen.append(obs)
            total += reward
        assert total == pytest.approx(100 * step_info["gain"], abs=1e-6)
        runs.append((seen, total))
    assert all(np.array_equal(a, b) for a, b in zip(runs[0][0], runs[1][0], strict=True))
    assert runs[0][1] == pytest.approx(0.0) and runs[1][1] < -0.2  # random pushes lose ink


def test_rendering_shows_the_page():
    env = KnotWriteEnv(chars=["永"], render_mode="rgb_array")
    env.reset(seed=0)
    frame = env.render()
    assert frame.shape == (128, 128, 3) and frame.dtype == np.uint8 and frame.min() < 50


def test_bad_actions_and_settings_are_refused():
    env = KnotWriteEnv(chars=["永"])
    with pytest.raises(InkstrokeError, match="call reset"):
        env.step(np.zeros(4, dtype=np.float32))
    env.reset(seed=0)
    with pytest.raises(InkstrokeError, match="outside the action space"):
        env.step(np.array([0, 0, 2, 0], dtype=np.float32))
    with pytest.raises(InkstrokeError, match="4 finite numbers"):
        env.step(np.zeros(3, dtype=np.float32))
    with pytest.raises(InkstrokeError, match="stroke 9 is out of range"):
        env.reset(options={"char": "永", "stroke": 9})
    with pytest.raises(InkstrokeError, match="size 16 is out of range"):
        KnotWriteEnv(size=16)
    big = KnotWriteEnv(chars=["永"], size=320)  # neither divides 256 nor is a multiple of it
    assert big.reset(seed=0)[1]["score"] > 0 and big.target.shape == (320, 320)
