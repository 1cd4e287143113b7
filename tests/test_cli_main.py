"""The command line's shared rules: one line and exit 2 for every bad input,
numbers checked before a command runs."""

from pathlib import Path

import numpy as np
import pytest

from inkstroke.cli.main import SEED_LIMIT, main
from inkstroke.ink import Ink
from inkstroke.io.jsonink import write_json


def one_line_error(capsys, needle: str) -> str:
    err = capsys.readouterr().err
    assert err.startswith("error: ") and err.count("\n") == 1 and "Traceback" not in err, err
    assert needle in err, err
    return err


@pytest.fixture
def ink(tmp_path) -> Path:
    path = tmp_path / "in.json"
    write_json(Ink([np.array([[0.0, 0.0], [1.0, 1.0], [2.0, 0.0]])], text="v"), path)
    return path


@pytest.mark.parametrize("args, needle", [
    (["render", "{ink}", "-o", "{tmp}/x.gif", "--duration", "nan"], "--duration must be a finite number, got nan"),
    (["render", "{ink}", "-o", "{tmp}/x.png", "--ink-height", "inf"], "--ink-height must be a finite number, got inf"),
    (["robot", "gcode", "{ink}", "-o", "{tmp}/x.gcode", "--margin", "nan"], "--margin must be a finite number"),
    (["robot", "gcode", "{ink}", "-o", "{tmp}/x.gcode", "--offset", "0", "nan"], "--offset must be a finite number"),
    (["write", "hi", "-o", "{tmp}/x.svg", "--seed", "-1"], f"--seed must be between 0 and {SEED_LIMIT}, got -1"),
    (["write", "hi", "-o", "{tmp}/x.svg", "--seed", str(2**70)], f"--seed must be between 0 and {SEED_LIMIT}"),
])
def test_non_finite_numbers_and_bad_seeds_are_refused_before_the_command_runs(ink, tmp_path, capsys, args, needle):
    out_dir = tmp_path / "out"
    out_dir.mkdir()
    args = [a.replace("{ink}", str(ink)).replace("{tmp}", str(out_dir)) for a in args]
    assert main(args) == 2
    one_line_error(capsys, needle)
    assert list(out_dir.iterdir()) == []


@pytest.mark.parametrize("args, needle", [
    (["write", "hi", "-o", "x.svg", "--no-such-option"], "No such option: --no-such-option"),
    (["write", "hi", "-o", "x.svg", "--candidates", "17"], "'--candidates'"),
    (["write", "hi", "-o", "x.svg", "--stroke-width", "thick"], "'--stroke-width'"),
    (["no-such-command"], "No such command"),
])
def test_usage_errors_are_one_line_with_a_pointer_to_help(tmp_path, capsys, monkeypatch, args, needle):
    monkeypatch.chdir(tmp_path)
    assert main(args) == 2
    assert "--help')" in one_line_error(capsys, needle)
    assert list(tmp_path.iterdir()) == []
