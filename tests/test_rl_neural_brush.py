"""The neural brush: simulator samples, the shipped network's agreement with
the simulator on held-out strokes, its gradients, training, and bad files."""

import numpy as np
import pytest
import torch

from inkstroke.calligraphy.brush import DEFAULT_BRUSH
from inkstroke.cli.main import main
from inkstroke.errors import InkstrokeError
from inkstroke.rl.agent import held_out_characters
from inkstroke.rl.neural_brush import (
    DEFAULT_WEIGHTS,
    WINDOW,
    NeuralBrushConfig,
    compose,
    evaluate_neural_brush,
    iou_batch,
    load_neural_brush,
    save_neural_brush,
    simulate_moves,
    stroke_moves,
    train_neural_brush,
)


def test_simulated_moves_are_reproducible_and_fit_their_window():
    a, ink = simulate_moves(40, seed=3)
    b, _ = simulate_moves(40, seed=3)
    assert np.array_equal(a, b) and a.shape == (40, 9) and ink.shape == (40, WINDOW, WINDOW)
    assert ink[:, [0, -1]].max() == 0 and ink[:, :, [0, -1]].max() == 0  # nothing cut off
    first = (a[:, 8] == 0) & np.isclose(a[:, 6:8], DEFAULT_BRUSH.entry).all(axis=1)
    assert 0 < first.sum() < 40  # some moves start a stroke, most continue one


def test_move_windows_compose_into_the_stroke():
    moves = stroke_moves("永", 4)
    assert len(moves.params) > 3
    assert iou_batch(compose(moves.ink, moves.corners), moves.stroke) > 0.999


def test_shipped_network_agrees_with_the_simulator_on_held_out_strokes():
    net = load_neural_brush()
    figures = evaluate_neural_brush(net, held_out_characters(20)[:2])
    assert figures["stroke_iou_mean"] >= 0.9
    assert figures["move_iou_mean"] >= 0.8
    assert figures["speedup"] > 1.0


def test_network_is_differentiable_in_the_move():
    net = load_neural_brush()
    moves = torch.tensor(stroke_moves("永", 0).params, dtype=torch.float32, requires_grad=True)
    net(moves).sum().backward()
    assert torch.isfinite(moves.grad).all() and moves.grad[:, :6].abs().sum() > 0


def test_training_lowers_the_loss(tmp_path):
    losses = []
    config = NeuralBrushConfig(samples=200, steps=40, batch=8, width=16)
    net = train_neural_brush(config, progress=lambda i, n, loss: losses.append(loss))
    assert len(losses) == 40 and np.mean(losses[-5:]) < np.mean(losses[:5])
    save_neural_brush(net, tmp_path / "nb.safetensors")
    again = load_neural_brush(tmp_path / "nb.safetensors")
    x = torch.tensor(simulate_moves(4, 1)[0], dtype=torch.float32)
    with torch.no_grad():
        assert torch.equal(net(x), again(x))


def test_bad_weight_files_are_refused(tmp_path):
    junk = tmp_path / "junk.safetensors"
    junk.write_bytes(b"\x00" * 100)
    with pytest.raises(InkstrokeError, match="junk.safetensors: not a safetensors file"):
        load_neural_brush(junk)
    from safetensors.torch import save_file

    other = tmp_path / "other.safetensors"
    save_file({"w": torch.zeros(3)}, str(other))
    with pytest.raises(InkstrokeError, match="not an inkstroke neural brush"):
        load_neural_brush(other)
    with pytest.raises(InkstrokeError, match="no such neural brush file"):
        load_neural_brush(tmp_path / "missing.safetensors")
    assert main(["rl", "neural-brush", "eval", str(junk), "--chars", "1"]) == 2


def test_cli_eval_reports_iou(capsys):
    assert DEFAULT_WEIGHTS.is_file()
    assert main(["rl", "neural-brush", "eval", "--chars", "1"]) == 0
    out = capsys.readouterr().out
    assert "stroke_iou_mean" in out and "speedup" in out
