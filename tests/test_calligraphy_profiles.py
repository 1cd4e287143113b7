import numpy as np
import pytest

from inkstroke.calligraphy.profiles import (
    CORNER_PAUSE,
    DEFAULT_Z,
    default_trajectory,
    exit_kind,
    y_down,
    z_profile,
)
from inkstroke.errors import InkstrokeError
from inkstroke.ink import Ink
from inkstroke.io.hanzi import character_ink


def test_exits_of_yong_follow_the_kaiti_habits():
    # 永: dot, horizontal-turn-hook, horizontal-left-fall, left-fall, right-fall
    medians = [y_down(m) for m in character_ink("永").strokes]
    assert [exit_kind(m) for m in medians] == ["blunt", "taper", "taper", "taper", "sweep"]


def test_z_profile_presses_in_and_lifts_by_exit_kind():
    xs = np.linspace(0, 400, 101)
    flat = np.column_stack([xs, np.full_like(xs, 300)])  # a horizontal stroke: blunt end
    z = z_profile(flat, [])
    assert z[0] < 0.5 * DEFAULT_Z  # light landing
    assert z[10:50].max() > DEFAULT_Z  # press at the entry
    assert z[-1] < z[-5] and z[-5] > DEFAULT_Z  # press, then lift a little
    falling = np.column_stack([400 - xs, 100 + xs])  # down to the left: tapers to a point
    zt = z_profile(falling, [])
    assert zt[-1] < 0.15 * DEFAULT_Z and np.all(np.diff(zt[-20:]) <= 0)
    sweep = np.column_stack([100 + xs, 100 + 0.6 * xs])  # right-falling: swells before it lifts
    zs = z_profile(sweep, [])
    assert zs[-12:].max() > 1.4 * DEFAULT_Z and zs[-1] < 0.3 * DEFAULT_Z


def test_default_trajectory_of_yong():
    traj = default_trajectory(character_ink("永"))
    traj.validate()
    assert traj.char == "永" and len(traj.strokes) == 5
    first = traj.strokes[0]
    assert first[0, 3] == 0.0 and first[1, 3] > 0  # lands, then presses
    # y down: the dot (top of the character) has small y; x unchanged
    assert first[1, 2] == pytest.approx(900 - 824) and first[1, 1] == pytest.approx(428)
    steps = np.diff(traj.strokes[1][:, 0])
    assert steps.max() >= CORNER_PAUSE  # the horizontal-turn-hook pauses at its corners
    assert traj.strokes[1][0, 0] > first[-1, 0]  # the brush flies between strokes


def test_centre_lines_must_be_y_up_and_finite():
    with pytest.raises(InkstrokeError, match="y up"):
        default_trajectory(Ink([np.array([[0, 0], [1, 1.0]])], y_axis="down"))
    with pytest.raises(InkstrokeError, match="centre line 0"):
        default_trajectory([np.array([[0, 0], [np.nan, 1.0]])])
    with pytest.raises(InkstrokeError, match="z0"):
        default_trajectory([np.array([[0, 0], [1, 1.0]])], z0=0.0)
