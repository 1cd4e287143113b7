"""The JSON interchange format: exact round trips and strict, located errors."""

import json
from pathlib import Path

import numpy as np
import pytest

from inkstroke.errors import InkstrokeError
from inkstroke.ink import Ink
from inkstroke.io import read_ink
from inkstroke.io.jsonink import ink_from_dict, ink_to_dict, read_json, write_json

FIXTURES = Path(__file__).parent / "fixtures" / "json"


def test_reads_the_fixture_with_every_optional_key():
    ink = read_json(FIXTURES / "hello.json")
    raw = json.loads((FIXTURES / "hello.json").read_text(encoding="utf-8"))
    assert ink.text == "héllo" and ink.writer == "w7"
    assert ink.y_axis == "up" and ink.units == "mm"
    assert [s.tolist() for s in ink.strokes] == raw["strokes"]
    assert [t.tolist() for t in ink.times] == raw["times"]
    assert [p.tolist() for p in ink.pressures] == raw["pressures"]


def test_minimal_file_and_read_ink_dispatch():
    ink = read_ink(FIXTURES / "minimal.json")
    assert ink.text is None and ink.times is None and ink.pressures is None
    assert [s.tolist() for s in ink.strokes] == [[[1, 2], [3, 4]], [[5, 6]]]


def test_write_read_round_trip_is_exact(tmp_path):
    rng = np.random.default_rng(0)
    strokes = [rng.normal(0, 1e3, (n, 2)) for n in (1, 7, 30)]
    ink = Ink(
        strokes,
        times=[np.sort(rng.uniform(0, 5, len(s))) for s in strokes],
        pressures=[rng.uniform(0, 1, len(s)) for s in strokes],
        text='quote " and \\ and 漢字',
        writer="w1",
        source="unipen",
        units="mm",
        y_axis="up",
        meta={"split": "valid", "n": 3},
    )
    path = tmp_path / "ink.json"
    write_json(ink, path)
    back = read_json(path)
    for name in ("strokes", "times", "pressures"):
        for a, b in zip(getattr(back, name), getattr(ink, name), strict=True):
            assert np.array_equal(a, b)
    for name in ("text", "writer", "source", "units", "y_axis", "meta"):
        assert getattr(back, name) == getattr(ink, name)
    assert ink_from_dict(ink_to_dict(ink), "x").meta == ink.meta


def test_write_refuses_nan_and_leaves_the_old_file(tmp_path):
    path = tmp_path / "ink.json"
    path.write_text("old")
    bad = Ink([np.array([[0.0, np.inf]])])
    with pytest.raises(InkstrokeError, match="NaN or infinite"):
        write_json(bad, path)
    assert path.read_text() == "old"
    assert [p.name for p in tmp_path.iterdir()] == ["ink.json"]


def write(tmp_path, text: str | bytes) -> Path:
    path = tmp_path / "bad.json"
    path.write_bytes(text if isinstance(text, bytes) else text.encode())
    return path


OK = '"y_axis": "down", "text": null, "units": "unit"'


@pytest.mark.parametrize(
    "content, message",
    [
        (
            '{"strokes": [[[0, 0]], [[1, 2], [3, 4], [5, "6"]]], ' + OK + "}",
            r"strokes\[1\]\[2\]\[1\] must be a number",
        ),
        ('{"strokes": [[[0, 0], [1]]], ' + OK + "}", r"strokes\[0\]\[1\] must be a point"),
        ('{"strokes": [[[0, true]]], ' + OK + "}", r"strokes\[0\]\[0\]\[1\] must be a number"),
        ('{"strokes": [[]], ' + OK + "}", r"strokes\[0\] must be a non-empty list"),
        ('{"strokes": [[[0, NaN]]], ' + OK + "}", "NaN is not valid JSON"),
        ('{"strokes": [[[0, -Infinity]]], ' + OK + "}", "Infinity is not valid JSON"),
        (
            '{"strokes": [[[0, 1e999]]], ' + OK + "}",
            r"strokes\[0\]\[0\]\[1\] is not a finite number",
        ),
        ('{"strokes": [[[0, 1' + "0" * 400 + "]]], " + OK + "}", "not a finite number"),
        ('{"strokes": [[[0, 1]]], "text": null}', "missing required key 'y_axis'"),
        ('{"strokes": [[[0, 1]]], "y_axis": "sideways"}', "y_axis must be"),
        ('{"strokes": [[[0, 1]]], "y_axis": "up", "stroke": 1}', "unknown key 'stroke'"),
        (
            '{"strokes": [[[0, 1]]], "y_axis": "up", "times": [[0, 1]]}',
            r"times\[0\] must hold one number per point",
        ),
        (
            '{"strokes": [[[0, 1]]], "y_axis": "up", "pressures": [[null]]}',
            r"pressures\[0\]\[0\] must be a number",
        ),
        ('{"strokes": [[[0, 1]]], "y_axis": "up", "text": 5}', "text must be a string"),
        ("[1, 2]", "top level must be a JSON object"),
        ('{"strokes": [[[0, 1]]],\n "y_axis": "up",\n', r"bad.json:3: invalid JSON"),
        ("   \n", "empty file"),
        (
            b'{"text": "\xff", "strokes": [[[0, 1]]], "y_axis": "up"}',
            r"bad.json:1: not valid UTF-8",
        ),
        (b"\n\n" + b"[" * 100000, "invalid JSON"),
        ('{"strokes": [[[0, 0], [1e300, 1]]], "y_axis": "up"}', r"stroke 0 holds a coordinate beyond"),
    ],
)
def test_errors_name_the_file_and_the_json_path(tmp_path, content, message):
    with pytest.raises(InkstrokeError, match=message) as e:
        read_json(write(tmp_path, content))
    assert "bad.json" in str(e.value)


def test_missing_file_and_folder(tmp_path):
    with pytest.raises(InkstrokeError, match="no such file"):
        read_json(tmp_path / "nope.json")
    with pytest.raises(InkstrokeError, match="folder"):
        read_json(tmp_path)
