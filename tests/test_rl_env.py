"""The BrushWrite environment: Gymnasium's API to the letter, the residual
action around the medians, rewards that track the IoU, and clear errors."""

import gymnasium as gym
import numpy as np
import pytest
from gymnasium.utils.env_checker import check_env

import inkstroke.rl  # noqa: F401 (registers the environment)
from inkstroke.calligraphy import brush
from inkstroke.calligraphy.metrics import iou
from inkstroke.calligraphy.profiles import default_trajectory
from inkstroke.calligraphy.targets import start_lines
from inkstroke.errors import InkstrokeError
from inkstroke.rl import ENV_ID
from inkstroke.rl.env import (
    BrushWriteEnv,
    character_split,
    check_observation,
    reference_rows,
    waypoints,
)


def run(env, char, policy, **options):
    obs, info = env.reset(options={"char": char, **options})
    total, steps, done = 0.0, 0, False
    while not done:
        obs, reward, done, truncated, info = env.step(policy(obs))
        assert not truncated
        total += reward
        steps += 1
    return total, steps, info


def zero(obs):
    return np.zeros(3, dtype=np.float32)


def test_check_env_passes():
    env = gym.make(ENV_ID, chars=["永", "中"], render_mode="rgb_array")
    check_env(env.unwrapped, skip_render_check=False)


def test_registered_and_vectorised():
    env = gym.make(ENV_ID, chars=["永"])
    obs, _ = env.reset(seed=0)
    assert env.observation_space.contains(obs)
    vec = gym.make_vec(ENV_ID, num_envs=3, vectorization_mode="sync", chars=["永", "中"])
    obs, _ = vec.reset(seed=1)
    assert obs["image"].shape == (3, 3, 64, 64) and obs["state"].shape == (3, 60)
    obs, rewards, terminated, truncated, _ = vec.step(np.zeros((3, 3), dtype=np.float32))
    assert rewards.shape == (3,) and obs["patch"].shape == (3, 3, 16, 16)


def test_seeding_is_reproducible():
    chars = character_split("train")[:50]
    a, b = BrushWriteEnv(chars=chars, max_strokes=1), BrushWriteEnv(chars=chars, max_strokes=1)
    (oa, ia), (ob, ib) = a.reset(seed=7), b.reset(seed=7)
    assert ia == ib and all(np.array_equal(oa[k], ob[k]) for k in oa)
    firsts = {a.reset(seed=s)[1]["char"] for s in range(8)}
    assert len(firsts) > 1


def test_zero_corrections_write_the_medians():
    env = BrushWriteEnv(chars=["永"], reward="iou")
    total, steps, info = run(env, "永", zero)
    medians = brush.render(default_trajectory(start_lines("永")), 64)
    assert iou(brush.render(env.trajectory(), 64), medians) == 1.0
    # the incremental canvas agrees with the simulator's own rendering
    p = env.pad
    assert iou(env.canvas[p:-p, p:-p], medians) > 0.95
    # rewards telescope to the final IoU, in percent points
    assert total == pytest.approx(100 * info["iou"], abs=1e-6)
    assert steps > len(env.refs)  # several moves a stroke


def test_reward_tracks_the_target():
    env = BrushWriteEnv(chars=["永"])
    good, _, good_info = run(env, "永", zero)
    bad, _, bad_info = run(env, "永", lambda obs: np.array([1.0, 1.0, -1.0], dtype=np.float32))
    assert bad < good - 5 and bad_info["iou"] < good_info["iou"]


def test_baseline_reward_is_zero_on_the_reference():
    env = BrushWriteEnv(chars=["永"], baseline=True)
    total, _, _ = run(env, "永", zero)
    assert total == pytest.approx(0.0, abs=1e-9)
    worse, _, _ = run(env, "永", lambda obs: np.array([0.0, 0.0, -1.0], dtype=np.float32))
    assert worse < -1.0


def test_stroke_episodes_start_on_the_strokes_before():
    env = BrushWriteEnv(chars=["永"], max_strokes=1)
    obs, info = env.reset(options={"char": "永", "start_stroke": 3})
    assert info["strokes"] == (3, 4)
    assert obs["image"][1].max() > 200  # strokes 0-2 are on the canvas
    _, steps, _ = run(env, "永", zero, start_stroke=3)
    assert steps == len(waypoints(reference_rows("永")[3], env.spacing)) - 1
    with pytest.raises(InkstrokeError, match="start stroke 9 is out of range"):
        env.reset(options={"char": "永", "start_stroke": 9})


def test_leaving_the_paper_is_penalised():
    env = BrushWriteEnv(chars=["永"], max_offset=2000.0, off_paper=5.0)
    env.reset(options={"char": "永"})
    _, reward, _, _, info = env.step(np.array([1.0, 0.0, 0.0], dtype=np.float32))
    assert info["off_paper"] and reward <= -5.0
    env.reset(options={"char": "永"})
    _, reward, _, _, info = env.step(np.zeros(3, dtype=np.float32))
    assert not info["off_paper"] and reward > -5.0


@pytest.mark.parametrize(
    "action, message",
    [
        (np.zeros(2), r"shape \(3,\)"),
        (np.array([0.0, np.nan, 0.0]), "not finite"),
        (np.array([0.0, 0.0, 1.5]), "outside the action space.*Δz = 1.5"),
        ("left", "3 numbers"),
    ],
)
def test_bad_actions_are_refused(action, message):
    env = BrushWriteEnv(chars=["永"])
    env.reset(seed=0)
    with pytest.raises(InkstrokeError, match=message):
        env.step(action)


def test_step_after_the_end_is_refused():
    env = BrushWriteEnv(chars=["永"])
    with pytest.raises(InkstrokeError, match="call reset"):
        env.step(np.zeros(3))
    run(env, "永", zero)
    with pytest.raises(InkstrokeError, match="episode is over"):
        env.step(np.zeros(3))


def test_bad_settings_and_observations_are_refused():
    with pytest.raises(InkstrokeError, match="size 8"):
        BrushWriteEnv(chars=["永"], size=8)
    with pytest.raises(InkstrokeError, match="unknown reward"):
        BrushWriteEnv(chars=["永"], reward="mse")
    env = BrushWriteEnv(chars=["永"])
    obs, _ = env.reset(seed=0)
    check_observation(obs, env.observation_space)
    obs["image"] = obs["image"][:, :32]
    with pytest.raises(InkstrokeError, match=r"'image' has shape \(3, 32, 64\)"):
        check_observation(obs, env.observation_space)
    with pytest.raises(InkstrokeError, match="lacks state"):
        check_observation({"image": 0, "patch": 0}, env.observation_space)


def test_render_shows_target_and_ink():
    env = BrushWriteEnv(chars=["永"], render_mode="rgb_array")
    run(env, "永", zero)
    rgb = env.render()
    assert rgb.shape == (64, 64, 3) and rgb.dtype == np.uint8
    assert rgb.min() < 60 and (rgb[..., 0] > rgb[..., 1]).any()  # black ink, pale red target


def test_character_split_is_disjoint():
    train, test = set(character_split("train")), set(character_split("test"))
    assert not train & test and 0.05 < len(test) / (len(train) + len(test)) < 0.15
