"""The simulated Franka Panda (PyBullet, DIRECT) writes a real handwritten line and a
brush character within 1 mm, and notices what it cannot reach.

Waypoints are kept to a few hundred (a coarse ``dt``) so the file stays quick; the
full-rate runs are marked slow."""

import dataclasses
from pathlib import Path

import numpy as np
import pytest

from inkstroke.io.jsonink import read_json
from inkstroke.robot.arm import ArmProfile, Inkstone, Motion, plan_arm
from inkstroke.robot.brush import read_motion
from inkstroke.robot.frame import Paper, place
from inkstroke.robot.simulate import simulate, trace_image

FIXTURES = Path(__file__).parent / "fixtures" / "robot"
PANDA = ArmProfile.load("panda")


def _line(dt):
    paper = Paper.parse("A4", orientation="landscape")
    ink = place(read_json(FIXTURES / "unipen_line.json"), paper, height_mm=15)
    return plan_arm(ink, paper, PANDA, Motion(draw_speed_mm_s=60, dt_s=dt)), paper


def _character(dt):
    paper = Paper.parse("A4")
    ink = place(read_motion(FIXTURES / "brush_yong.json"), paper, height_mm=100)
    stone = Inkstone.beside(paper, every=3)
    return plan_arm(ink, paper, PANDA, Motion(dt_s=dt), inkstone=stone), paper


def _ink_pixels(image, paper, px_per_mm=4.0):
    """Dark pixels over the sheet (the inkstone beside it is cut off)."""
    grey = np.asarray(image.convert("L"))[:, : int(paper.width_mm * px_per_mm)]
    return grey < 80


def test_handwritten_line_is_tracked_within_1_mm():
    traj, paper = _line(dt=0.06)
    assert 200 <= len(traj) <= 600
    sim = simulate(traj, PANDA, paper)
    r = sim.report
    assert r["unreachable"] == 0
    assert r["rms_mm"] <= 1.0 and r["draw_rms_mm"] <= 1.0
    assert r["max_mm"] == pytest.approx(sim.error_mm.max(), abs=1e-3)
    assert r["joint_margin_min_rad"] > 0.1
    # the traced ink covers the commanded strokes: each drawn waypoint has a black pixel near it
    image = trace_image(sim, traj, paper)
    dark = _ink_pixels(image, paper)
    drawn = traj.position_mm[traj.pen]
    cols = np.clip((drawn[:, 0] * 4).astype(int), 0, dark.shape[1] - 1)
    rows = np.clip(((paper.height_mm - drawn[:, 1]) * 4).astype(int), 0, dark.shape[0] - 1)
    near = [
        dark[max(r - 2, 0) : r + 3, max(c - 2, 0) : c + 3].any()
        for r, c in zip(rows, cols, strict=True)
    ]
    assert np.mean(near) > 0.98
    assert dark.mean() < 0.05  # and it is a line, not a smear


def test_brush_character_with_dipping_is_tracked_within_1_mm():
    traj, paper = _character(dt=0.1)
    assert 200 <= len(traj) <= 700
    sim = simulate(traj, PANDA, paper)
    r = sim.report
    assert r["unreachable"] == 0 and r["rms_mm"] <= 1.0 and r["draw_rms_mm"] <= 1.0
    # the tip really pressed: below the surface by the calligraphy depth
    pressed = sim.tip_mm[traj.segment == "draw", 2]
    assert pressed.min() < -2.0
    # a brush trace is wider than a pen line
    image = trace_image(sim, traj, paper)
    assert image.width > paper.width_mm * 4  # the inkstone is drawn beside the sheet
    assert _ink_pixels(image, paper).mean() > 0.005


def test_points_out_of_reach_are_reported():
    # A profile whose planning envelope is too generous: the IK finds out.
    loose = dataclasses.replace(
        PANDA, reach={**PANDA.reach, "max_radius_m": 1.5}, paper_center_m=(0.86, 0.0, 0.0)
    )
    paper = Paper.parse("A6")
    ink = place(read_json(FIXTURES / "unipen_line.json"), paper)
    traj = plan_arm(ink, paper, loose, Motion(dt_s=0.1, draw_speed_mm_s=80))
    sim = simulate(traj, loose, paper)
    far = np.hypot(traj.position_m[:, 0], traj.position_m[:, 1]) > 0.82
    assert far.any()
    assert sim.report["unreachable"] >= far.sum()
    assert sim.report["first_unreachable"] is not None
    assert sim.ik_residual_mm[far].min() > 1.0


@pytest.mark.slow
@pytest.mark.parametrize("make", [_line, _character])
def test_full_rate_runs_stay_within_1_mm(make):
    traj, paper = make(dt=0.01)
    sim = simulate(traj, PANDA, paper)
    assert sim.report["unreachable"] == 0 and sim.report["rms_mm"] <= 1.0
