"""G-code read back by an independent parser (gcodeparser) draws what the ink holds."""

from pathlib import Path

import numpy as np
import pytest
from gcodeparser import parse_gcode_lines

from inkstroke.errors import InkstrokeError
from inkstroke.ink import Ink
from inkstroke.io.hershey import hershey_ink
from inkstroke.io.jsonink import read_json
from inkstroke.robot.brush import read_motion
from inkstroke.robot.frame import Paper, place
from inkstroke.robot.gcode import PlotterProfile, to_gcode
from inkstroke.robot.order import plan_order

FIXTURES = Path(__file__).parent / "fixtures" / "robot"


def replay(program: str, z_down: float | None = None):
    """Pen-down polylines (x, y, z) and the pen transitions, as a machine would run them.

    With ``z_down`` the pen is down while Z is at or below it (a Z machine), otherwise
    M3 lowers and M5 raises it (a servo machine). Also checks the modal state GRBL
    needs: mm and absolute coordinates before any motion, a feed before any G1, and no
    rapid move while the pen is down.
    """
    pos = {"X": None, "Y": None, "Z": None}
    feed, modes, down, strokes, transitions = None, set(), False, [], []
    for line in parse_gcode_lines(program):
        cmd, params = line.command_str, line.params
        here = (pos["X"], pos["Y"])
        if cmd in ("G21", "G90"):
            modes.add(cmd)
        elif cmd in ("G0", "G1"):
            assert modes == {"G21", "G90"}, "motion before G21/G90"
            pos.update({k: float(v) for k, v in params.items() if k in pos})
            feed = float(params["F"]) if "F" in params else feed
            if cmd == "G1":
                assert feed is not None and feed > 0, f"G1 without a feed at line {line.line_index}"
            now = down if z_down is None else (pos["Z"] is not None and pos["Z"] <= z_down + 1e-9)
            point = (pos["X"], pos["Y"], pos["Z"])
            if now and not down:
                transitions.append(("down", point[:2]))
                strokes.append([point])
            elif down and not now:
                transitions.append(("up", here))
            elif now and ("X" in params or "Y" in params):
                assert cmd == "G1", f"rapid move with the pen down at line {line.line_index}"
                strokes[-1].append(point)
            down = now
        elif cmd == "M3" and z_down is None:
            transitions.append(("down", here))
            strokes.append([(*here, pos["Z"])])
            down = True
        elif cmd == "M5" and z_down is None:
            if down:
                transitions.append(("up", here))
            down = False
    return [np.array(s, dtype=float) for s in strokes], transitions


def _dedup(stroke):
    keep = np.ones(len(stroke), dtype=bool)
    keep[1:] = np.any(np.abs(np.diff(stroke, axis=0)) > 1e-9, axis=1)
    return stroke[keep]


@pytest.mark.parametrize("profile", ["grbl-servo", "grbl-z"])
def test_hello_world_reads_back_within_0_05_mm(profile):
    machine = PlotterProfile.load(profile)
    paper = Paper.parse("A4", origin_mm=(20.0, 30.0))
    ink = place(hershey_ink("Hello world"), paper, height_mm=15)
    program = to_gcode(ink, paper, machine)
    strokes, transitions = replay(program, None if profile == "grbl-servo" else machine.z_down_mm)

    assert len(strokes) == len(ink.strokes) == 17  # H3 e1 l1 l1 o1, w4 o1 r2 l1 d2
    worst = 0.0
    for got, want in zip(strokes, ink.strokes, strict=True):
        want = _dedup(want) + (20.0, 30.0)
        assert got.shape[0] == want.shape[0]
        worst = max(worst, float(np.abs(got[:, :2] - want).max()))
    assert worst <= 0.05
    # one pen-down at each stroke's first point, one pen-up at its last, alternating
    assert [t for t, _ in transitions] == ["down", "up"] * len(ink.strokes)
    for k, want in enumerate(ink.strokes):
        assert transitions[2 * k][1] == pytest.approx(tuple(want[0] + (20, 30)), abs=0.05)
        assert transitions[2 * k + 1][1] == pytest.approx(tuple(want[-1] + (20, 30)), abs=0.05)


def test_reordered_handwriting_draws_the_same_strokes():
    paper = Paper.parse("A4", orientation="landscape")
    ink = place(read_json(FIXTURES / "unipen_line.json"), paper)
    ordered, before, after = plan_order(ink)
    strokes, _ = replay(to_gcode(ordered, paper, PlotterProfile.load("grbl-servo")))
    assert len(strokes) == len(ink.strokes)
    for got, want in zip(strokes, ordered.strokes, strict=True):
        np.testing.assert_allclose(got[:, :2], _dedup(want), atol=0.05)
    # every original stroke is drawn once, maybe backwards
    unused = list(range(len(ink.strokes)))
    for got in strokes:
        for i in unused:
            orig = _dedup(ink.strokes[i])
            if len(orig) == len(got) and (
                np.allclose(got[:, :2], orig, atol=0.05)
                or np.allclose(got[::-1, :2], orig, atol=0.05)
            ):
                unused.remove(i)
                break
    assert unused == []


def test_brush_depth_goes_below_z0_on_a_z_machine():
    paper = Paper.parse("A4")
    ink = place(read_motion(FIXTURES / "brush_yong.json"), paper, height_mm=100)
    machine = PlotterProfile.load("grbl-z")
    strokes, transitions = replay(to_gcode(ink, paper, machine), z_down=machine.z_down_mm)
    assert len(strokes) == 5
    for got, depth in zip(strokes, ink.pressures, strict=True):
        np.testing.assert_allclose(-got[:, 2], depth, atol=0.001)
    assert max(-s[:, 2].min() for s in strokes) > 1.0  # it really presses


def test_limits_are_checked_before_writing():
    paper = Paper.parse("A4")
    ink = place(hershey_ink("Hi"), paper)
    servo = PlotterProfile.load("grbl-servo")
    with pytest.raises(InkstrokeError, match="feed 9000 mm/min is beyond the limits"):
        to_gcode(ink, paper, servo, feed_mm_min=9000)
    big = Paper.parse("A3", orientation="landscape")
    with pytest.raises(InkstrokeError, match="does not fit on the 300 x 400 mm bed"):
        to_gcode(place(hershey_ink("Hi"), big), big, servo)
    deep = place(
        Ink(
            [np.array([[0.0, 0.0], [50.0, 0.0]])],
            pressures=[[0.0, 9.0]],
            meta={"pressure": "depth"},
        ),
        paper,
        scale=1.0,
    )
    with pytest.raises(InkstrokeError, match="presses .* mm deep"):
        to_gcode(deep, paper, PlotterProfile.load("grbl-z"))


def test_profiles_from_files_and_their_errors(tmp_path):
    good = tmp_path / "mine.json"
    good.write_text(
        '{"kind": "plotter", "name": "mine", "bed_mm": [100, 100], '
        '"pen": {"mode": "servo", "down": ["M3 S40"], "up": ["M3 S90"]}, '
        '"draw_feed_mm_min": 900, "max_feed_mm_min": 1000}'
    )
    machine = PlotterProfile.load(good)
    assert machine.pen_down == ("M3 S40",) and machine.bed_mm == (100.0, 100.0)
    bad = tmp_path / "bad.json"
    bad.write_text('{"kind": "plotter", "bed_mm": [100, 100], "pen": {"mode": "servo", "up": []}}')
    with pytest.raises(InkstrokeError, match="bad.json: pen: missing 'down'"):
        PlotterProfile.load(bad)
    with pytest.raises(InkstrokeError, match="no plotter profile named 'nope'.*grbl-servo, grbl-z"):
        PlotterProfile.load("nope")
    with pytest.raises(InkstrokeError, match="its kind is 'arm', but 'plotter'"):
        PlotterProfile.load("panda")
