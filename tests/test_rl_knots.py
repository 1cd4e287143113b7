"""Knots: where they sit, what a correction does to the motion, how an
optimised motion is read back as corrections, and what a policy sees."""

import numpy as np
import pytest

from inkstroke.calligraphy import brush
from inkstroke.calligraphy.metrics import iou
from inkstroke.calligraphy.optimize import Motion, fit_motion
from inkstroke.calligraphy.profiles import default_trajectory
from inkstroke.calligraphy.targets import start_lines, target_image
from inkstroke.errors import InkstrokeError
from inkstroke.rl.knots import (
    ACROSS,
    ACTION_SCALE,
    ALONG,
    FEATURES,
    KNOT_SPACING,
    apply_corrections,
    corrections_of,
    knot_features,
    plan_knots,
)


@pytest.fixture(scope="module")
def reference():
    return default_trajectory(start_lines("永"), char="永")


def test_knots_sit_along_each_stroke_ends_included(reference):
    plan = plan_knots(reference)
    assert len(plan.strokes) == len(reference.strokes) == 5
    for i, arc in enumerate(plan.arcs):
        s = plan.s[plan.stroke == i]
        assert s[0] == 0 and s[-1] == pytest.approx(arc[-1])
        assert np.diff(s).max() <= KNOT_SPACING + 1e-9
        assert plan.first[plan.stroke == i].sum() == 1 and plan.first[plan.stroke == i][0]
        assert plan.last[plan.stroke == i][-1]
    assert np.allclose(np.linalg.norm(plan.tangent, axis=1), 1)
    assert np.allclose((plan.tangent * plan.normal).sum(axis=1), 0)


def test_a_shift_across_moves_the_path_by_its_scale(reference):
    plan = plan_knots(reference)
    zero = apply_corrections(plan, np.zeros((len(plan), 4)))
    actions = np.zeros((len(plan), 4))
    actions[:, 1] = 0.5
    moved = apply_corrections(plan, actions)
    for a, b, n in zip(zero.strokes, moved.strokes, plan.strokes, strict=True):
        shift = np.linalg.norm(b[2:, 1:3] - a[2:, 1:3], axis=1)  # after the touch-down rows
        assert len(a) == len(b) == len(n) + 2
        assert np.median(shift) == pytest.approx(0.5 * ACTION_SCALE[1], abs=1.0)
    deeper = actions * 0
    deeper[:, 2] = 0.25
    pressed = apply_corrections(plan, deeper)
    dz = pressed.strokes[0][2:, 3] - zero.strokes[0][2:, 3]
    assert np.allclose(dz, 0.25 * ACTION_SCALE[2])


def test_zero_corrections_write_the_medians(reference):
    plan = plan_knots(reference)
    zero = brush.render(apply_corrections(plan, np.zeros((len(plan), 4))), 256)
    assert iou(zero, brush.render(reference, 256)) > 0.9


def test_an_optimised_motion_reads_back_as_its_corrections(reference):
    plan = plan_knots(reference)
    start = fit_motion(reference)
    shifted = Motion([c + [0.0, 8.0, 12.0] for c in start.controls], start.tips, start.lengths)
    actions = corrections_of(plan, start, shifted)
    # 8 units down, seen in each knot's frame; 12 deeper
    down = np.column_stack([plan.tangent[:, 1], plan.normal[:, 1]]) * 8 / ACTION_SCALE[:2]
    assert np.allclose(actions[:, :2], down, atol=1e-6)
    assert np.allclose(actions[:, 2], 12 / ACTION_SCALE[2])
    moved = apply_corrections(plan, actions)
    for a, n in zip(moved.strokes, plan.strokes, strict=True):
        assert np.allclose(a[2:, 1:3] - n[:, :2], [0.0, 8.0], atol=1e-6)


def test_features_see_the_target_around_each_knot(reference):
    plan = plan_knots(reference)
    target = target_image("永", 256)
    feats = knot_features(plan, target)
    assert feats.shape == (len(plan), FEATURES) and feats.dtype == np.float32
    grid = feats[:, : len(ALONG) * len(ACROSS)].reshape(len(plan), len(ALONG), len(ACROSS))
    centre = grid[:, len(ALONG) // 2, len(ACROSS) // 2]
    assert centre.mean() > 0.8  # the medians run inside the glyph
    own = feats[:, len(ALONG) * len(ACROSS) : 2 * len(ALONG) * len(ACROSS)]
    assert own.reshape(len(plan), len(ALONG), len(ACROSS))[:, 3, 8].min() > 0.9
    # nothing but the character goes in: the same features every time
    assert np.array_equal(feats, knot_features(plan_knots(reference), target))


def test_bad_corrections_and_targets_are_refused(reference):
    plan = plan_knots(reference)
    with pytest.raises(InkstrokeError, match=r"expected \(\d+, 4\) knot corrections"):
        apply_corrections(plan, np.zeros((3, 4)))
    bad = np.zeros((len(plan), 4))
    bad[0, 0] = np.nan
    with pytest.raises(InkstrokeError, match="finite"):
        apply_corrections(plan, bad)
    with pytest.raises(InkstrokeError, match="square picture"):
        knot_features(plan, np.zeros((64, 32)))
