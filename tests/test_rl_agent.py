"""Agents: a tiny SAC run writes checkpoints, TensorBoard logs and an agent
that loads and writes characters; bad checkpoints and observations are refused."""

import zipfile

import numpy as np
import pytest
from typer.testing import CliRunner

from inkstroke.cli.main import app, main
from inkstroke.errors import InkstrokeError
from inkstroke.rl.agent import (
    TrainConfig,
    compare_methods,
    held_out_characters,
    load_agent,
    train,
)
from inkstroke.rl.env import BrushWriteEnv, character_split, reference_rows

TINY = dict(
    timesteps=64,
    n_envs=2,
    chars=3,
    batch_size=16,
    buffer_size=500,
    net=(32, 32),
    checkpoint_every=32,
    curriculum=((0.0, 1), (0.5, 0)),
)


@pytest.fixture(scope="module")
def agent_path(tmp_path_factory):
    out = tmp_path_factory.mktemp("sac")
    return train(out, TrainConfig(**TINY))


def test_training_writes_agent_checkpoints_and_logs(agent_path):
    out = agent_path.parent
    assert agent_path.name == "agent.zip" and agent_path.stat().st_size > 10_000
    assert sorted(p.name for p in (out / "checkpoints").iterdir()) == [
        "sac_32_steps.zip",
        "sac_64_steps.zip",
    ]
    logs = list((out / "tb").rglob("events.out.tfevents.*"))
    assert logs and logs[0].stat().st_size > 0


def test_agent_writes_a_held_out_character(agent_path):
    agent = load_agent(agent_path)
    char = held_out_characters(5)[0]
    assert char not in character_split("train")
    traj = agent.write(char)
    assert traj.char == char and len(traj.strokes) == len(reference_rows(char))
    traj.validate()
    # a checkpoint is an agent too
    checkpoint = load_agent(agent_path.parent / "checkpoints" / "sac_32_steps.zip")
    assert len(checkpoint.write(char).strokes) == len(traj.strokes)


def test_comparison_times_and_scores_every_method(agent_path):
    result = compare_methods(["永"], {"agent": load_agent(agent_path)}, optimise_steps=[2])
    rows = {r["method"]: r for r in result.summary()}
    assert set(rows) == {"medians", "agent", "optimised 2 steps"}
    assert all(0.3 < r["iou"] <= 1.0 and r["seconds"] > 0 for r in rows.values())


def test_observations_of_the_wrong_shape_are_refused(agent_path):
    agent = load_agent(agent_path)
    env = BrushWriteEnv(chars=["永"])
    obs, _ = env.reset(seed=0)
    action = agent.act(obs)
    assert env.action_space.contains(action)
    obs["state"] = obs["state"][:10]
    with pytest.raises(InkstrokeError, match=r"'state' has shape \(10,\)"):
        agent.act(obs)


def damaged_copy(agent, damaged):
    """A readable copy of an agent zip whose policy weights are garbage."""
    with zipfile.ZipFile(agent) as src, zipfile.ZipFile(damaged, "w") as dst:
        for item in src.infolist():
            data = src.read(item)
            dst.writestr(item, b"\x00" * 64 if item.filename == "policy.pth" else data)
    return damaged


def test_corrupt_checkpoints_are_refused(agent_path, tmp_path):
    garbage = tmp_path / "garbage.zip"
    garbage.write_bytes(b"not a zip at all")
    with pytest.raises(InkstrokeError, match="garbage.zip: not a readable agent checkpoint"):
        load_agent(garbage)
    truncated = tmp_path / "truncated.zip"
    truncated.write_bytes(agent_path.read_bytes()[:5000])
    with pytest.raises(InkstrokeError, match="truncated.zip"):
        load_agent(truncated)
    damaged = damaged_copy(agent_path, tmp_path / "damaged.zip")
    with pytest.raises(InkstrokeError, match="damaged.zip: the agent checkpoint is corrupt"):
        load_agent(damaged)
    with pytest.raises(InkstrokeError, match="no such agent file"):
        load_agent(tmp_path / "missing.zip")


def test_a_foreign_sb3_model_is_refused(tmp_path):
    from stable_baselines3 import PPO

    model = PPO("MlpPolicy", "Pendulum-v1", n_steps=64, device="cpu")
    model.save(tmp_path / "pendulum.zip")
    with pytest.raises(InkstrokeError, match="not a BrushWrite one"):
        load_agent(tmp_path / "pendulum.zip")


def test_cli_eval_and_its_errors(agent_path, tmp_path, capsys):
    result = CliRunner().invoke(app, ["rl", "eval", str(agent_path), "--text", "永"])
    assert result.exit_code == 0, result.output
    assert "medians" in result.output and "sac" in result.output  # named by its folder
    bad = tmp_path / "bad.zip"
    bad.write_bytes(b"PK\x03\x04 broken")
    assert main(["rl", "eval", str(bad), "--text", "永"]) == 2
    assert "bad.zip: not a readable agent checkpoint" in capsys.readouterr().err
    assert main(["rl", "eval", "--text", "永", "--optimise-steps", "x"]) == 2


def test_bad_training_settings_are_refused(tmp_path):
    with pytest.raises(InkstrokeError, match="unknown algorithm"):
        train(tmp_path, TrainConfig(algo="dqn"))
    with pytest.raises(InkstrokeError, match="cannot observe"):
        train(tmp_path, TrainConfig(observe=("canvas",)))


@pytest.mark.slow
def test_ppo_trains_and_loads(tmp_path):
    config = TrainConfig(**{**TINY, "algo": "ppo", "timesteps": 512, "batch_size": 64})
    agent = load_agent(train(tmp_path, config))
    assert agent.model.__class__.__name__ == "PPO"
    assert np.isfinite(agent.act(BrushWriteEnv(chars=["永"]).reset(seed=0)[0])).all()


def test_cli_train_writes_an_agent(tmp_path):
    out = tmp_path / "run"
    args = ["rl", "train", "-o", str(out), "--timesteps", "48", "--envs", "1", "--chars", "2"]
    assert main([*args, "--checkpoint-every", "24"]) == 0
    agent = load_agent(out / "agent.zip")
    assert agent.observe == ["state"] and agent.env_config["baseline"] is True
    assert main(["rl", "train", "-o", str(out), "--observe", "canvas"]) == 2


def test_shipped_agent_beats_the_medians_on_held_out_characters():
    chars = held_out_characters(20)[:4]
    result = compare_methods(chars, {"agent": load_agent()})
    medians, agent = (np.array(result.iou[k]) for k in ("medians", "agent"))
    assert (agent > medians).all() and agent.mean() > medians.mean() + 0.03
