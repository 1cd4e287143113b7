"""Arm trajectories: limits on speed and acceleration, approach and retreat heights,
pen states, brush depth, the ink-dipping routine, the files, and refusals."""

import csv
import json
from itertools import pairwise
from pathlib import Path

import numpy as np
import pytest

from inkstroke.errors import InkstrokeError
from inkstroke.ink import Ink
from inkstroke.io.hershey import hershey_ink
from inkstroke.robot.arm import ArmProfile, Inkstone, Motion, plan_arm
from inkstroke.robot.brush import read_motion
from inkstroke.robot.frame import Paper, place

FIXTURES = Path(__file__).parent / "fixtures" / "robot"
PANDA = ArmProfile.load("panda")


def _hello(height=15.0, paper="A4"):
    sheet = Paper.parse(paper, orientation="landscape")
    return place(hershey_ink("Hello"), sheet, height_mm=height), sheet


def test_speed_and_acceleration_stay_within_the_limits():
    ink, paper = _hello()
    motion = Motion(draw_speed_mm_s=30, travel_speed_mm_s=120, accel_mm_s2=600, dt_s=0.005)
    traj = plan_arm(ink, paper, PANDA, motion)
    dt = np.diff(traj.t)
    assert np.all(dt > 0) and dt.max() <= 0.005 + 1e-9
    speed = np.linalg.norm(np.diff(traj.position_mm, axis=0), axis=1) / dt
    assert speed.max() <= 120 * 1.001
    drawing = traj.segment[1:] == "draw"
    assert speed[drawing].max() <= 30 * 1.001
    assert speed[drawing].max() > 25  # and it does get up to speed
    # speed along the path changes no faster than the acceleration allows (speeds are
    # averages over sample intervals, so compare them at the intervals' midpoints)
    mid = (traj.t[1:] + traj.t[:-1]) / 2
    along = np.abs(np.diff(speed)) / np.diff(mid)
    assert np.percentile(along, 99) <= 600 * 1.05


def test_heights_pen_states_and_stroke_order():
    ink, paper = _hello()
    motion = Motion(approach_mm=12, retreat_mm=7)
    traj = plan_arm(ink, paper, PANDA, motion)
    z = traj.position_mm[:, 2]
    assert np.all(z[traj.pen] == pytest.approx(0.0))
    assert z.max() == pytest.approx(12)
    for i, stroke in enumerate(ink.strokes):
        rows = np.flatnonzero((traj.stroke == i) & (traj.segment == "draw"))
        if len(rows):
            np.testing.assert_allclose(traj.position_mm[rows[-1], :2], stroke[-1], atol=1e-9)
        approach = np.flatnonzero((traj.stroke == i) & (traj.segment == "approach"))
        # straight down onto the first point from the approach height
        np.testing.assert_allclose(
            traj.position_mm[approach, :2], np.tile(stroke[0], (len(approach), 1)), atol=1e-9
        )
        retreat = np.flatnonzero((traj.stroke == i) & (traj.segment == "retreat"))
        assert traj.position_mm[retreat[-1], 2] == pytest.approx(7)
    # pen-down samples lie on the strokes: every one is within reach of its stroke's polyline
    drawn = traj.position_mm[traj.pen & (traj.segment == "draw"), :2]
    pts = ink.resample(0.05).points()
    nearest = np.min(np.linalg.norm(drawn[:, None, :] - pts[None, :, :], axis=2), axis=1)
    assert nearest.max() < 0.05
    # the transitions of the pen follow the ink: one pen-down run per stroke
    runs = np.count_nonzero(np.diff(traj.pen.astype(int)) == 1) + int(traj.pen[0])
    assert runs == len(ink.strokes)


def test_brush_depth_lowers_the_tip_and_the_dip_routine_is_inserted():
    paper = Paper.parse("A4")
    ink = place(read_motion(FIXTURES / "brush_yong.json"), paper, height_mm=120)
    stone = Inkstone.beside(paper, every=2, drags=4, press_mm=2.5, radius_mm=25)
    traj = plan_arm(ink, paper, PANDA, Motion(dt_s=0.02), inkstone=stone)
    # z follows the press depth, scaled to mm with the ink
    for i, depth in enumerate(ink.pressures):
        rows = (traj.stroke == i) & (traj.segment == "draw")
        assert -traj.position_mm[rows, 2].min() == pytest.approx(depth.max(), abs=0.05)
    # dips before strokes 0, 2 and 4: three visits to the stone
    dipping = traj.segment == "dip"
    visits = np.count_nonzero(np.diff(dipping.astype(int)) == 1) + int(dipping[0])
    assert visits == 3
    first = np.flatnonzero(traj.stroke == 0)[0]
    assert dipping[:first].any() and not dipping[first : np.flatnonzero(traj.stroke == 1)[0]].any()
    # pressed to flatten the tip at the centre, then drags of decreasing extent
    cx, cy = stone.center_mm
    on_stone = traj.position_mm[dipping]
    assert on_stone[:, 2].min() == pytest.approx(-2.5)
    touching = on_stone[on_stone[:, 2] <= 1e-9]
    reach = np.hypot(touching[:, 0] - cx, touching[:, 1] - cy)
    assert reach.max() == pytest.approx(25, abs=0.01)
    first_visit = traj.position_mm[:first]
    first_visit = first_visit[first_visit[:, 2] <= 1e-9]
    ends = []  # the farthest reach of each drag, in order
    r = np.hypot(first_visit[:, 0] - cx, first_visit[:, 1] - cy)
    for k in range(1, len(r)):
        if r[k] < 1e-6 < r[k - 1]:
            ends.append(r[k - 1])
    ends.append(r[-1])
    assert len(ends) == 4 and all(a > b for a, b in pairwise(ends))
    assert not traj.pen[dipping].any()


def test_csv_and_json_outputs(tmp_path):
    ink, paper = _hello()
    traj = plan_arm(ink, paper, PANDA, Motion(dt_s=0.02))
    traj.write(tmp_path / "w.csv")
    traj.write(tmp_path / "w.json")
    with open(tmp_path / "w.csv", newline="") as f:
        rows = list(csv.DictReader(f))
    assert len(rows) == len(traj)
    assert set(rows[0]) == {
        "t_s",
        "x_m",
        "y_m",
        "z_m",
        "qx",
        "qy",
        "qz",
        "qw",
        "pen",
        "segment",
        "stroke",
    }
    doc = json.loads((tmp_path / "w.json").read_text())
    assert doc["format"] == "inkstroke-arm-trajectory" and doc["paper"]["yaw_deg"] == -90
    k = len(traj) // 2
    row = dict(zip(doc["columns"], doc["waypoints"][k], strict=True))
    assert float(rows[k]["x_m"]) == pytest.approx(row["x_m"])
    assert (row["qx"], row["qy"], row["qz"], row["qw"]) == (1.0, 0.0, 0.0, 0.0)
    # base frame: the paper's centre lies 0.5 m in front of the robot at table height
    back = PANDA.base_to_paper(traj.position_m, paper)
    np.testing.assert_allclose(back, traj.position_mm, atol=1e-9)
    centre = PANDA.paper_to_base(np.array([[paper.width_mm / 2, paper.height_mm / 2, 0.0]]), paper)
    np.testing.assert_allclose(centre, [[0.5, 0.0, 0.0]])
    with pytest.raises(InkstrokeError, match="as .csv or .json"):
        traj.write(tmp_path / "w.txt")
    assert not (tmp_path / "w.txt").exists()


@pytest.mark.parametrize(
    "motion, message",
    [
        (Motion(draw_speed_mm_s=900), "draw speed 900 mm/s is beyond the limits of arm panda"),
        (Motion(travel_speed_mm_s=0), "travel speed 0 mm/s is beyond"),
        (Motion(accel_mm_s2=5000), "acceleration 5000 mm/s² is beyond"),
        (Motion(approach_mm=0), "approach height must be positive"),
    ],
)
def test_limits_are_refused_before_planning(motion, message):
    ink, paper = _hello()
    with pytest.raises(InkstrokeError, match=message):
        plan_arm(ink, paper, PANDA, motion)


def test_unreachable_workspace_is_refused():
    # A2 portrait filled with a tall letter: its top lies ~0.8 m from the arm's axis.
    paper = Paper.parse("A2")
    ink = place(hershey_ink("H"), paper)
    with pytest.raises(
        InkstrokeError, match=r"arm panda cannot reach stroke \d+ at paper .* 0.32-0.75 m"
    ):
        plan_arm(ink, paper, PANDA)
    # an inkstone far off the sheet
    ink, paper = _hello()
    with pytest.raises(
        InkstrokeError, match=r"cannot reach the dip move at paper \(730.0, 100.0, 0.0\) mm"
    ):
        plan_arm(ink, paper, PANDA, inkstone=Inkstone(center_mm=(700.0, 100.0)))


def test_too_deep_a_press_is_refused():
    paper = Paper.parse("A4")
    deep = Ink(
        [np.array([[0.0, 0.0], [30.0, 0.0]])], pressures=[[0.0, 12.0]], meta={"pressure": "depth"}
    )
    with pytest.raises(InkstrokeError, match="press 12.00 mm into the paper"):
        plan_arm(place(deep, paper, scale=1.0), paper, PANDA)


def test_arm_profile_errors(tmp_path):
    with pytest.raises(InkstrokeError, match="its kind is 'plotter', but 'arm'"):
        ArmProfile.load("grbl-z")
    data = json.loads(
        (Path(__file__).parents[1] / "src/inkstroke/robot/profiles/panda.json").read_text()
    )
    data["tool_quaternion_xyzw"] = [1.0, 1.0, 0.0, 0.0]
    bad = tmp_path / "arm.json"
    bad.write_text(json.dumps(data))
    with pytest.raises(
        InkstrokeError, match="arm.json: 'tool_quaternion_xyzw' must be a unit quaternion"
    ):
        ArmProfile.load(bad)
