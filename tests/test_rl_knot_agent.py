"""The stroke-level agent: demonstrations from trajectory optimisation that
resume, cloning and PPO that write a loadable agent, and the shipped agent
against the medians and the optimiser on held-out characters."""

import numpy as np
import pytest

from inkstroke.cli.main import main
from inkstroke.errors import InkstrokeError
from inkstroke.rl.agent import compare_methods, held_out_characters, load_agent
from inkstroke.rl.demos import load_demonstrations, write_demonstrations
from inkstroke.rl.env import character_split
from inkstroke.rl.knot_agent import DEFAULT_KNOT_AGENT, KnotAgent, KnotTrainConfig, train_knot_agent
from inkstroke.rl.knots import FEATURES
from test_rl_agent import damaged_copy

TINY = dict(
    chars=2,
    net=(32, 32),
    bc_epochs=3,
    timesteps=64,
    n_envs=1,
    n_steps=32,
    batch_size=32,
    critic_warmup=32,
    checkpoint_every=32,
)


@pytest.fixture(scope="module")
def demos(tmp_path_factory):
    out = tmp_path_factory.mktemp("demos")
    write_demonstrations(out, ["永", "丑"], steps=0.05)
    return out


def test_demonstrations_are_shards_that_resume(demos):
    (shard,) = demos.glob("shard-*.npz")
    stamp = shard.stat().st_mtime_ns
    write_demonstrations(demos, ["永", "丑"], steps=0.05)  # nothing left to do
    assert shard.stat().st_mtime_ns == stamp
    data = load_demonstrations(demos)
    assert data["features"].shape == (len(data["actions"]), FEATURES)
    assert set(data["chars"]) == {"永", "丑"} and (np.abs(data["actions"]) <= 1).all()
    assert (data["iou"] > 0.8).all()  # even a short optimisation beats the medians' ~0.8
    with pytest.raises(InkstrokeError, match="no demonstration shards"):
        load_demonstrations(demos / "nothing")


def test_training_clones_then_runs_ppo(demos, tmp_path):
    data = load_demonstrations(demos)
    path = train_knot_agent(tmp_path, data, KnotTrainConfig(**TINY))
    assert (tmp_path / "cloned.zip").is_file() and list((tmp_path / "checkpoints").iterdir())
    assert list((tmp_path / "tb").rglob("events.out.tfevents.*"))
    agent = load_agent(path)
    assert isinstance(agent, KnotAgent)
    fit = agent.model.brush_knots["behaviour_cloning"]
    assert fit["val_mse"] < fit["val_mse_of_zero"] * 2  # learned something, not garbage
    char = held_out_characters(5)[1]
    traj = agent.write(char)
    traj.validate()
    assert traj.char == char


def test_the_shipped_agent_beats_the_medians_and_matches_a_short_optimisation():
    chars = held_out_characters(20)[:4]
    assert not set(chars) & set(character_split("train"))
    result = compare_methods(chars, {"knots": load_agent(DEFAULT_KNOT_AGENT)}, optimise_steps=[2])
    medians, agent, optimised = (
        np.array(result.iou[k]) for k in ("medians", "knots", "optimised 2 steps")
    )
    assert (agent > medians + 0.05).all()
    assert agent.mean() > optimised.mean()


def test_features_of_the_wrong_shape_are_refused():
    agent = load_agent(DEFAULT_KNOT_AGENT)
    with pytest.raises(InkstrokeError, match=rf"shape \(N, {FEATURES}\), got \(3, 10\)"):
        agent.corrections(np.zeros((3, 10), dtype=np.float32))
    bad = np.zeros((2, FEATURES), dtype=np.float32)
    bad[1, 5] = np.inf
    with pytest.raises(InkstrokeError, match="finite"):
        agent.corrections(bad)


def test_a_damaged_knot_agent_is_refused(tmp_path):
    damaged = damaged_copy(DEFAULT_KNOT_AGENT, tmp_path / "damaged.zip")
    with pytest.raises(InkstrokeError, match="damaged.zip: the agent checkpoint is corrupt"):
        load_agent(damaged)


def test_cli_demos_and_train_knots(tmp_path, demos, capsys):
    assert main(["rl", "demos", "-o", str(tmp_path / "d"), "--chars", "1", "--parts", "0"]) == 2
    assert "--chars and --parts" in capsys.readouterr().err
    assert main(["rl", "train-knots", "-o", str(tmp_path / "a"), "--demos", str(tmp_path)]) == 2
    assert "no demonstration shards" in capsys.readouterr().err
    assert not (tmp_path / "a").exists()  # nothing written for a bad folder
    assert main(["rl", "eval", str(DEFAULT_KNOT_AGENT), "--text", "丑"]) == 0
    assert "brushknots_ppo" in capsys.readouterr().out


def test_an_interrupted_run_resumes_from_its_checkpoint(demos, tmp_path):
    data = load_demonstrations(demos)
    first = KnotTrainConfig(**{**TINY, "timesteps": 32})
    train_knot_agent(tmp_path, data, first)
    assert load_agent(tmp_path / "agent.zip").model.num_timesteps == 32

    def no_cloning():
        raise AssertionError("a resumed run must not clone again")

    path = train_knot_agent(tmp_path, no_cloning, KnotTrainConfig(**TINY), resume=True)
    agent = load_agent(path)
    assert agent.model.num_timesteps == 64 and agent.model.brush_knots["ppo_steps"] == 64
    assert "hardware" in agent.model.brush_knots["provenance"]
