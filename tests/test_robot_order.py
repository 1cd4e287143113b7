"""Greedy stroke ordering: shorter pen-up travel, strokes kept intact."""

from pathlib import Path

import numpy as np
import pytest

from inkstroke.errors import InkstrokeError
from inkstroke.ink import Ink
from inkstroke.io.jsonink import read_json
from inkstroke.robot.brush import read_motion
from inkstroke.robot.frame import Paper, place
from inkstroke.robot.order import greedy_order, plan_order, reorder, travel_length

FIXTURES = Path(__file__).parent / "fixtures" / "robot"


def test_greedy_reverses_a_stroke_when_its_tail_is_nearer():
    strokes = [np.array([[10.0, 0.0], [0.0, 0.0]]), np.array([[20.0, 0.0], [30.0, 0.0]])]
    assert greedy_order(strokes, start=(0, 0)) == [(0, True), (1, False)]
    assert greedy_order(strokes, start=(0, 0), allow_reverse=False) == [(0, False), (1, False)]


def test_shuffled_grid_gets_much_shorter_and_keeps_every_stroke():
    rng = np.random.default_rng(0)
    strokes = [
        np.array([[x, y], [x + 3, y]], dtype=float)
        for y in range(0, 50, 10)
        for x in range(0, 50, 10)
    ]
    order = rng.permutation(len(strokes))
    ink = Ink([strokes[i] for i in order], times=[np.array([0.0, 1.0])] * len(strokes))
    ordered, before, after = plan_order(ink)
    assert after < 0.5 * before
    assert after == pytest.approx(travel_length(ordered.strokes))
    key = lambda s: tuple(sorted(map(tuple, s.round(6))))  # noqa: E731
    assert sorted(map(key, ordered.strokes)) == sorted(map(key, ink.strokes))
    for t in ordered.times:
        assert np.all(np.diff(t) >= 0)


def test_real_handwriting_travel_is_not_made_longer():
    ink = place(
        read_json(FIXTURES / "unipen_line.json"), Paper.parse("A4", orientation="landscape")
    )
    ordered, before, after = plan_order(ink)
    assert after <= before
    assert len(ordered.strokes) == len(ink.strokes)


def test_brush_order_is_kept_and_cannot_be_forced():
    ink = read_motion(FIXTURES / "brush_yong.json")
    kept, before, after = plan_order(ink)
    assert kept is ink and before == after
    with pytest.raises(InkstrokeError, match="brush trajectory keeps its stroke order"):
        plan_order(ink, optimize=True)


def test_reversed_strokes_carry_their_channels():
    ink = Ink([np.array([[5.0, 0.0], [1.0, 0.0]])], times=[[0.0, 2.0]], pressures=[[0.1, 0.9]])
    out = reorder(ink, start=(0, 0))
    assert out.strokes[0][0] == pytest.approx([1.0, 0.0])
    assert out.pressures[0] == pytest.approx([0.9, 0.1])
    assert out.times[0] == pytest.approx([0.0, 2.0])
