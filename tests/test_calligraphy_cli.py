import json

import numpy as np
from PIL import Image

from inkstroke.calligraphy.trajectory import load_trajectory
from inkstroke.cli.main import main


def test_writes_picture_trajectory_and_scores(tmp_path, capsys):
    png, traj = tmp_path / "yong.png", tmp_path / "yong.json"
    rc = main(
        [
            "calligraphy",
            "永",
            "-o",
            str(png),
            "--trajectory",
            str(traj),
            "--size",
            "128",
            "--steps",
            "20",
        ]
    )
    assert rc == 0
    out = capsys.readouterr().out
    assert "IoU" in out and "SSIM" in out and "永" in out
    pixels = np.asarray(Image.open(png))
    assert pixels.shape == (128, 128)
    assert 0.05 < (pixels < 128).mean() < 0.4  # black ink on white
    loaded = load_trajectory(traj)
    assert loaded.char == "永" and len(loaded.strokes) == 5


def test_several_characters_and_replay(tmp_path):
    png, traj = tmp_path / "two.png", tmp_path / "t.json"
    assert (
        main(
            [
                "calligraphy",
                "永 书",
                "-o",
                str(png),
                "--trajectory",
                str(traj),
                "--steps",
                "0",
                "--size",
                "64",
            ]
        )
        == 0
    )
    assert np.asarray(Image.open(png)).shape == (64, 128)
    assert sorted(p.name for p in tmp_path.glob("t-*.json")) == ["t-书.json", "t-永.json"]
    again = tmp_path / "again.png"
    assert (
        main(
            [
                "calligraphy",
                "永",
                "-o",
                str(again),
                "--replay",
                str(tmp_path / "t-永.json"),
                "--size",
                "64",
            ]
        )
        == 0
    )
    replayed = np.asarray(Image.open(again)).astype(int)
    assert (
        np.abs(replayed - np.asarray(Image.open(png))[:, :64]).max() <= 1
    )  # JSON keeps 4 decimals


def test_bad_input_exits_2_without_output(tmp_path, capsys):
    bad = tmp_path / "nan.json"
    bad.write_text(
        json.dumps(
            {
                "format": "inkstroke-brush-trajectory",
                "version": 1,
                "frame": "mmah1024",
                "y_axis": "down",
                "units": "frame",
                "char": "x",
                "strokes": [[[0, 1, 2, 3], [1, 5, float("nan"), 3]]],
            }
        )
    )
    png = tmp_path / "out.png"
    assert main(["calligraphy", "x", "-o", str(png), "--replay", str(bad)]) == 2
    assert "nan.json: stroke 0, point 1: y is nan" in capsys.readouterr().err
    assert main(["calligraphy", "\ue000", "-o", str(png), "--steps", "0"]) == 2
    assert "neither" in capsys.readouterr().err
    assert main(["calligraphy", "永", "-o", str(tmp_path / "out.jpg"), "--steps", "0"]) == 2
    assert main(["calligraphy", "永", "-o", str(tmp_path / "no" / "out.png")]) == 2
    assert list(tmp_path.iterdir()) == [bad]


def test_default_steps_are_the_default_schedule():
    from inkstroke.calligraphy.optimize import OptimizeConfig
    from inkstroke.cli.calligraphy import DEFAULT_STEPS

    assert DEFAULT_STEPS == sum(stage.steps for stage in OptimizeConfig().stages)


def test_the_knot_agent_corrects_the_motion_in_one_call(tmp_path):
    from inkstroke.calligraphy.metrics import iou
    from inkstroke.calligraphy.optimize import write_character
    from inkstroke.rl.agent import load_agent
    from inkstroke.rl.knot_agent import DEFAULT_KNOT_AGENT

    agent = load_agent(DEFAULT_KNOT_AGENT)
    result = write_character("风", 128, config=None, agent=agent)
    assert result.optimised is not None
    assert result.metrics["iou"] > result.raw_metrics["iou"] + 0.1
    assert iou(result.image, result.target) == result.metrics["iou"]
    png, traj = tmp_path / "feng.png", tmp_path / "feng.json"
    assert main(["calligraphy", "风", "-o", str(png), "--agent", "--trajectory", str(traj)]) == 0
    saved, direct = load_trajectory(traj), agent.write("风")
    assert len(saved.strokes) == len(direct.strokes)
    assert all(np.allclose(a, b, atol=1e-3) for a, b in zip(saved.strokes, direct.strokes))
