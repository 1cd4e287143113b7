"""Robot output figures: G-code read back, travel saved by reordering, and the simulated
Panda's tracking error on a handwritten line and a brush character.

    nice -n 15 python benchmarks/robot.py [--images docs/images/robot]

The handwritten line is a real UNIPEN line (tests/fixtures/robot/unipen_line.json);
the character is the calligraphy engine's default trajectory for 永 when the
hanzi-writer-data package is at hand, else the fixture built from its medians.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np
from gcodeparser import parse_gcode_lines

from inkstroke.io.hershey import hershey_ink
from inkstroke.io.jsonink import read_json
from inkstroke.robot.arm import ArmProfile, Inkstone, Motion, plan_arm
from inkstroke.robot.brush import parse_brush_trajectory, read_motion
from inkstroke.robot.frame import Paper, place
from inkstroke.robot.gcode import PlotterProfile, to_gcode
from inkstroke.robot.order import plan_order
from inkstroke.robot.simulate import simulate, trace_image

ROOT = Path(__file__).resolve().parents[1]
FIXTURES = ROOT / "tests" / "fixtures" / "robot"


def gcode_readback() -> None:
    """Largest distance between the ink and the pen-down path a G-code parser reads."""
    paper = Paper.parse("A4")
    ink = place(hershey_ink("Hello world"), paper, height_mm=15)
    program = to_gcode(ink, paper, PlotterProfile.load("grbl-servo"))
    strokes, pos, down = [], {"X": 0.0, "Y": 0.0}, False
    for line in parse_gcode_lines(program):
        cmd = line.command_str
        if cmd in ("G0", "G1"):
            pos.update({k: float(v) for k, v in line.params.items() if k in pos})
            if down:
                strokes[-1].append((pos["X"], pos["Y"]))
        elif cmd in ("M3", "M5"):
            down = cmd == "M3"
            if down:
                strokes.append([(pos["X"], pos["Y"])])
    worst = max(
        float(np.abs(np.array(got) - want).max())
        for got, want in zip(strokes, ink.strokes, strict=True)
    )
    print(
        f"G-code 'Hello world' (grbl-servo, {len(program.splitlines())} lines): "
        f"{len(strokes)}/{len(ink.strokes)} strokes, max deviation {worst:.4f} mm"
    )


def travel() -> None:
    cases = [
        ("UNIPEN line", read_json(FIXTURES / "unipen_line.json")),
        ("Hershey 'Hello world'", hershey_ink("Hello world")),
    ]
    paper = Paper.parse("A4", orientation="landscape")
    for name, ink in cases:
        _, before, after = plan_order(place(ink, paper), (0.0, 0.0))
        print(
            f"pen-up travel, {name} on {paper.name}: {before:.1f} -> {after:.1f} mm "
            f"({100 * (1 - after / before):.1f}% less)"
        )


def character():
    try:
        from inkstroke.calligraphy.profiles import default_trajectory
        from inkstroke.calligraphy.trajectory import FORMAT
        from inkstroke.io.hanzi import character_ink

        traj = default_trajectory(character_ink("永"), char="永")
        doc = {"format": FORMAT, "version": 1, "y_axis": "down", "units": "frame", "char": "永"}
        doc["strokes"] = [s.tolist() for s in traj.strokes]
        return parse_brush_trajectory(doc, "calligraphy engine 永"), "calligraphy engine"
    except Exception as e:  # no hanzi data here: the fixture holds the same medians
        print(f"(calligraphy engine unavailable: {e}; using the fixture)")
        return read_motion(FIXTURES / "brush_yong.json"), "fixture"


def run(name, ink, paper, motion, stone=None, image=None, height=None):
    profile = ArmProfile.load("panda")
    placed = place(ink, paper, height_mm=height)
    traj = plan_arm(placed, paper, profile, motion, stone)
    start = time.perf_counter()
    sim = simulate(traj, profile, paper)
    took = time.perf_counter() - start
    r = sim.report
    print(
        f"{name}: {r['waypoints']} waypoints, {r['duration_s']:.1f} s of motion, simulated in "
        f"{took:.1f} s: RMS {r['rms_mm']:.3f} mm (drawing {r['draw_rms_mm']:.3f}), max "
        f"{r['max_mm']:.3f} mm, unreachable {r['unreachable']}, IK residual max "
        f"{r['ik_residual_max_mm']:.4f} mm, joint margin {r['joint_margin_min_rad']:.3f} rad "
        f"({r['joint_margin_min_joint']})"
    )
    if image is not None:
        trace_image(sim, traj, paper).save(image, optimize=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--images", type=Path, help="write the traced pictures here")
    args = parser.parse_args()
    gcode_readback()
    travel()
    out = args.images
    if out is not None:
        out.mkdir(parents=True, exist_ok=True)
    line = read_json(FIXTURES / "unipen_line.json")
    landscape = Paper.parse("A4", orientation="landscape")
    run(
        "handwritten line, 25 mm, 60 mm/s",
        line,
        landscape,
        Motion(draw_speed_mm_s=60),
        image=out / "handwritten_line.png" if out else None,
        height=25,
    )
    for speed in (150, 400):
        run(
            f"handwritten line, 25 mm, {speed} mm/s, 3000 mm/s²",
            line,
            landscape,
            Motion(draw_speed_mm_s=speed, travel_speed_mm_s=400, accel_mm_s2=3000),
            height=25,
        )
    brush, origin = character()
    portrait = Paper.parse("A4")
    run(
        f"brush 永 ({origin}), 120 mm, re-inked every 2 strokes",
        brush,
        portrait,
        Motion(),
        stone=Inkstone.beside(portrait, every=2),
        image=out / "calligraphy_yong.png" if out else None,
        height=120,
    )


if __name__ == "__main__":
    main()
