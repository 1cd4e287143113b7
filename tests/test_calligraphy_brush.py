import numpy as np
import pytest

from inkstroke.calligraphy.brush import BrushParams, ema, render, resample_stroke, tuft_along
from inkstroke.calligraphy.profiles import default_trajectory
from inkstroke.errors import InkstrokeError
from inkstroke.io.hanzi import character_ink


def line(x0, x1, y, z, t0=0.0, lead=16.0):
    """A horizontal stroke at depth z, led by a touch-down move that sets the tip trailing."""
    xs = np.linspace(x0, x1, 50)
    rows = [[t0, x0 - lead, y, 0.0], [t0 + 0.05, x0, y, 0.0]]
    rows += [[t0 + 0.1 + 0.01 * i, x, y, z] for i, x in enumerate(xs)]
    return np.array(rows)


def test_footprint_width_and_drag_follow_the_calibration():
    z = 50.0
    params = BrushParams(splay_gain=0.0)
    ink = render([line(200, 800, 500, z)], size=1024, params=params) > 0.5  # 1 pixel = 1 frame unit
    rows = np.flatnonzero(ink[:, 500])
    assert abs(len(rows) - 1.19 * z) <= 1.5
    assert abs(rows.mean() + 0.5 - 500) <= 1.0
    cols = np.flatnonzero(ink[500])
    r, drag = 0.595 * z, 0.665 * z
    assert abs(cols.max() + 1 - (800 + r)) <= 1.5  # the belly leads
    assert abs(cols.min() - (200 - r - drag)) <= 2.0  # the tip trails behind the first press


def test_footprint_grows_with_press_depth():
    widths = []
    for z in (20.0, 40.0, 80.0):
        ink = render([line(200, 800, 500, z)], size=512) > 0.5
        widths.append(np.count_nonzero(ink[:, 250]))
    assert widths[0] < widths[1] < widths[2]
    assert widths[2] == pytest.approx(2 * widths[1], rel=0.12)


def test_tip_direction_lags_behind_a_turn():
    z = 40.0
    right = np.column_stack([np.arange(0, 400.0), np.full(400, 300.0)])
    down = np.column_stack([np.full(400, 400.0), np.arange(300, 700.0)])
    xyz = np.column_stack([np.vstack([right, down]), np.full(800, z)])
    tip = tuft_along(xyz, BrushParams(), 1.0).tip
    corner = 400
    assert tip[corner - 1] @ [-1, 0] > 0.99  # trailing the first leg
    assert tip[corner + 10] @ [-1, 0] > tip[corner + 10] @ [
        0,
        -1,
    ]  # still mostly behind the old leg
    assert tip[corner + 200] @ [0, -1] > 0.95  # caught up with the new direction
    angles = np.arctan2(tip[corner : corner + 200, 1], tip[corner : corner + 200, 0])
    assert np.all(np.diff(np.unwrap(angles)) >= -1e-9)  # turns one way, smoothly


def test_ema_matches_its_recurrence():
    rng = np.random.default_rng(0)
    target, alpha = rng.normal(size=(300, 2)), rng.uniform(0, 1, 300)
    got = ema(target, alpha, np.array([1.0, -1.0]))
    u, want = np.array([1.0, -1.0]), []
    for a, v in zip(np.clip(alpha, 0, 0.999), target, strict=True):
        u = (1 - a) * u + a * v
        want.append(u)
    np.testing.assert_allclose(got, want, atol=1e-9)


def four_strokes():
    return [line(150, 850, y, 40.0, t0=2.0 * i) for i, y in enumerate((150, 350, 550, 750))]


def band(img, y, size):
    r = int(y * size / 1024)
    c0, c1 = int(300 * size / 1024), int(750 * size / 1024)
    return img[r - 3 : r + 4, c0:c1]


def test_ink_runs_dry_in_streaks_and_a_dip_restores_it():
    size = 512
    dry_params = BrushParams(ink_capacity=40_000.0, dip_every=0)
    dry = render(four_strokes(), size, dry_params, seed=1)
    wet = render(four_strokes(), size, BrushParams(ink_capacity=40_000.0, dip_every=1), seed=1)
    assert (band(wet, 550, size) > 0.9).mean() > 0.99
    first, third = band(dry, 150, size), band(dry, 550, size)
    assert (first > 0.9).mean() > 0.99  # a fresh brush
    assert 0.0 < (third > 0.5).mean() < 0.6  # streaky: some bristles still mark
    # streaks run along the motion: ink changes across the stroke, hardly along it
    assert np.abs(np.diff(third, axis=1)).mean() < 0.5 * np.abs(np.diff(third, axis=0)).mean()
    redipped = render(four_strokes(), size, BrushParams(ink_capacity=40_000.0, dip_every=2), seed=1)
    assert (band(redipped, 550, size) > 0.9).mean() > 0.99


def test_rendering_is_deterministic_given_a_seed():
    params = BrushParams(ink_capacity=40_000.0, dip_every=0, bleed=2.0)
    a = render(four_strokes(), 256, params, seed=7)
    b = render(four_strokes(), 256, params, seed=7)
    c = render(four_strokes(), 256, params, seed=8)
    assert np.array_equal(a, b)
    assert not np.array_equal(a, c)
    assert np.array_equal(
        a[:60] > 0.5, c[:60] > 0.5
    )  # the wet first stroke does not depend on the seed


def test_any_resolution_gives_the_same_picture():
    traj = default_trajectory(character_ink("永"))
    small = render(traj, 256)
    big = render(traj, 512).reshape(256, 2, 256, 2).mean(axis=(1, 3))
    both = (small > 0.5) & (big > 0.5)
    assert both.sum() / ((small > 0.5) | (big > 0.5)).sum() > 0.95
    assert render(traj, 37).shape == (37, 37)


def test_strokes_leaving_the_sheet_are_clipped():
    img = render([line(-300, 1400, 500, 60.0), line(500, 600, -900, 60.0, t0=1.0)], 64)
    assert img.shape == (64, 64)
    assert (img[31:33] > 0.5).all()
    assert 0.0 <= img.min() and img.max() <= 1.0


def test_resampling_lays_stamps_for_a_press_in_place():
    stroke = np.array([[0, 100, 100, 0.0], [1, 100, 100, 60.0]])
    assert len(resample_stroke(stroke, 4.0)) == 16
    assert render([stroke], 128)[12, 12] > 0.5


@pytest.mark.parametrize(
    ("bad", "message"),
    [
        (np.nan, "stroke 0, point 1: x is nan"),
        (-3.0, "stroke 0, point 1: z = -3 is out of range"),
        (900.0, "z = 900 is out of range"),
    ],
)
def test_bad_trajectories_are_refused(bad, message):
    stroke = np.array([[0, 100, 100, 10.0], [1, 200, 100, 10.0]])
    stroke[1, 1 if np.isnan(bad) else 3] = bad
    with pytest.raises(InkstrokeError, match=message):
        render([stroke], 64)


def test_a_bad_size_is_refused():
    with pytest.raises(InkstrokeError, match="size 0"):
        render([line(100, 200, 100, 10.0)], 0)
