import json

import numpy as np
import pytest

from inkstroke.calligraphy.trajectory import Trajectory, load_trajectory, save_trajectory
from inkstroke.errors import InkstrokeError


def sample() -> Trajectory:
    return Trajectory(
        [
            np.array(
                [[0.0, 100.0, 200.0, 0.0], [0.1, 100.0, 200.0, 30.0], [0.5, 400.0, 210.0, 40.0]]
            ),
            np.array([[0.9, 300.0, 100.0, 0.0], [1.4, 310.0, 600.0, 55.5]]),
        ],
        char="永",
    )


def test_json_layout_is_exactly_the_robot_format(tmp_path):
    path = tmp_path / "yong.json"
    save_trajectory(sample(), path)
    data = json.loads(path.read_text(encoding="utf-8"))
    assert list(data) == ["format", "version", "frame", "y_axis", "units", "char", "strokes"]
    assert data["format"] == "inkstroke-brush-trajectory"
    assert (data["version"], data["frame"], data["y_axis"], data["units"]) == (
        1,
        "mmah1024",
        "down",
        "frame",
    )
    assert data["char"] == "永"
    assert data["strokes"][1] == [[0.9, 300.0, 100.0, 0.0], [1.4, 310.0, 600.0, 55.5]]
    assert "永" in path.read_text(encoding="utf-8")  # written as UTF-8, not escaped


def test_round_trip(tmp_path):
    path = tmp_path / "t.json"
    save_trajectory(sample(), path)
    back = load_trajectory(path)
    assert back.char == "永"
    assert len(back.strokes) == 2
    for a, b in zip(back.strokes, sample().strokes, strict=True):
        np.testing.assert_allclose(a, b)
    assert back.duration == pytest.approx(1.4)
    assert back.xy_pixels(512)[0][2].tolist() == [200.0, 105.0]


def write_raw(tmp_path, strokes, **fields):
    data = {
        "format": "inkstroke-brush-trajectory",
        "version": 1,
        "frame": "mmah1024",
        "y_axis": "down",
        "units": "frame",
        "char": "x",
        "strokes": strokes,
    }
    data.update(fields)
    path = tmp_path / "bad.json"
    path.write_text(
        json.dumps(data)
    )  # json writes NaN as the bare word NaN, which Python reads back
    return path


@pytest.mark.parametrize(
    ("strokes", "message"),
    [
        ([[[0, 1, 2, 3], [1, float("nan"), 2, 3]]], r"stroke 0, point 1: x is nan"),
        ([[[0, 1, 2, 3]], [[1, 1, 2, 3], [2, 1, None, 3]]], r"stroke 1, point 1: y is nan"),
        (
            [[[0, 1, 2, 3], [1, 1, 2, -0.5]]],
            r"stroke 0, point 1: z = -0.5 is out of range \[0, 200\]",
        ),
        ([[[0, 1, 2, 3], [1, 1, 2, 250]]], r"z = 250 is out of range"),
        (
            [[[0, 1, 2, 3], [1, 1, 2, 3]], [[0.5, 1, 2, 3]]],
            r"stroke 1, point 0: time 0.5 s runs backwards",
        ),
        ([[[0, 1, 2]]], r"stroke 0 must be rows of \[t, x, y, z\]"),
        ([[]], r"stroke 0 must be rows"),
        ([[[0, 1e6, 2, 3]]], r"far outside"),
        ({"a": 1}, r"\"strokes\" must be a non-empty list"),
        ([], r"\"strokes\" must be a non-empty list"),
    ],
)
def test_bad_files_name_the_file_stroke_and_point(tmp_path, strokes, message):
    path = write_raw(tmp_path, strokes)
    with pytest.raises(InkstrokeError, match=message) as err:
        load_trajectory(path)
    assert str(path) in str(err.value)


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"format": "other"}, "not an inkstroke-brush-trajectory"),
        ({"version": 2}, "version 2"),
        ({"y_axis": "up"}, "y_axis must be 'down'"),
        ({"frame": "em"}, "frame must be 'mmah1024'"),
    ],
)
def test_wrong_headers_are_refused(tmp_path, fields, message):
    with pytest.raises(InkstrokeError, match=message):
        load_trajectory(write_raw(tmp_path, [[[0, 1, 2, 3]]], **fields))


def test_unreadable_files(tmp_path):
    with pytest.raises(InkstrokeError, match="no such file"):
        load_trajectory(tmp_path / "missing.json")
    (tmp_path / "junk.json").write_text("{not json")
    with pytest.raises(InkstrokeError, match="junk.json: not JSON"):
        load_trajectory(tmp_path / "junk.json")


def test_saving_a_bad_trajectory_writes_nothing(tmp_path):
    bad = sample()
    bad.strokes[0][1, 3] = np.nan
    path = tmp_path / "out.json"
    with pytest.raises(InkstrokeError, match="out.json: stroke 0, point 1: z is nan"):
        save_trajectory(bad, path)
    assert list(tmp_path.iterdir()) == []
