"""Brush trajectory JSON as the robot reads it: the fixture holds the medians of 永
(hanzi-writer-data, y = 900 - y) with a press depth per point, in the calligraphy
engine's exact layout."""

import json
from pathlib import Path

import numpy as np
import pytest

from inkstroke.errors import InkstrokeError
from inkstroke.io.jsonink import write_json
from inkstroke.robot.brush import brush_trajectory_json, parse_brush_trajectory, read_motion

FIXTURES = Path(__file__).parent / "fixtures" / "robot"
YONG = FIXTURES / "brush_yong.json"


def test_reads_the_fixture_as_a_depth_ink():
    ink = read_motion(YONG)
    assert ink.text == "永" and len(ink.strokes) == 5 and ink.y_axis == "down"
    assert ink.meta["pressure"] == "depth"
    raw = json.loads(YONG.read_text(encoding="utf-8"))["strokes"]
    assert ink.strokes[1][2] == pytest.approx(raw[1][2][1:3])
    assert ink.pressures[1][2] == pytest.approx(raw[1][2][3])
    assert ink.times[4][-1] == pytest.approx(raw[4][-1][0])


def test_round_trip_through_json():
    ink = read_motion(YONG)
    again = parse_brush_trajectory(brush_trajectory_json(ink))
    for a, b in zip(ink.strokes, again.strokes, strict=True):
        np.testing.assert_allclose(a, b, atol=1e-4)
    assert again.text == "永"


def _doc(**changes):
    doc = {
        "format": "inkstroke-brush-trajectory",
        "version": 1,
        "frame": "mmah1024",
        "y_axis": "down",
        "units": "frame",
        "char": "一",
        "strokes": [[[0.0, 100, 400, 0.0], [0.5, 900, 400, 20.0]]],
    }
    doc.update(changes)
    return doc


@pytest.mark.parametrize(
    "changes, message",
    [
        ({"strokes": [[[0.0, 100, float("nan"), 0.0]]]}, "stroke 0 point 0 holds a NaN"),
        (
            {"strokes": [[[0.0, 100, 400, 0.0], [0.1, 120, 400, -2.0]]]},
            "stroke 0 point 1 has a negative press depth",
        ),
        (
            {"strokes": [[[0.5, 100, 400, 0.0], [0.1, 120, 400, 2.0]]]},
            "stroke 0 point 1: time runs backwards",
        ),
        ({"strokes": [[[0.0, 100, 400]]]}, r"stroke 0 point 0 must be \[t, x, y, z\]"),
        ({"strokes": []}, "non-empty list"),
        ({"version": 2}, "version 2"),
        ({"y_axis": "left"}, "y_axis"),
    ],
)
def test_bad_trajectories_name_the_fault(changes, message):
    with pytest.raises(InkstrokeError, match=message):
        parse_brush_trajectory(_doc(**changes), where="x.json")


def test_nan_in_a_file_is_caught(tmp_path):
    path = tmp_path / "nan.json"
    path.write_text(json.dumps(_doc()).replace("20.0", "NaN"))
    with pytest.raises(InkstrokeError, match=r"nan.json: stroke 0 point 1 holds a NaN"):
        read_motion(path)


def test_plain_json_inks_go_to_the_ink_reader(tmp_path):
    from inkstroke.ink import Ink

    path = tmp_path / "ink.json"
    write_json(Ink([np.array([[0.0, 0.0], [1.0, 2.0]])], text="a"), path)
    ink = read_motion(path)
    assert ink.text == "a" and ink.pressures is None
