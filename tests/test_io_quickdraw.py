"""QuickDraw ndjson, simplified and raw."""

import json
from pathlib import Path

import numpy as np
import pytest

from inkstroke.errors import InkstrokeError
from inkstroke.io import importer
from inkstroke.io.quickdraw import iter_quickdraw

FIXTURES = Path(__file__).parent / "fixtures" / "quickdraw"


def records(name: str) -> list[dict]:
    return [json.loads(line) for line in (FIXTURES / name).read_text().splitlines()]


def test_simplified_drawings():
    inks = list(importer("quickdraw")(FIXTURES / "simplified_cat.ndjson"))
    recs = records("simplified_cat.ndjson")
    assert [i.text for i in inks] == ["cat", "cat", "house"]
    assert inks[1].meta == {"countrycode": "DE", "recognized": False, "key_id": "5201136883597313"}
    for ink, rec in zip(inks, recs, strict=True):
        assert ink.writer is None and ink.times is None and ink.y_axis == "down"
        assert [s.T.tolist() for s in ink.strokes] == rec["drawing"]


def test_raw_drawings_have_times_in_seconds():
    inks = list(iter_quickdraw(FIXTURES / "raw_face.ndjson"))
    rec = records("raw_face.ndjson")[0]
    assert len(inks) == 2 and inks[0].text == "face"
    assert inks[0].strokes[0][:, 0].tolist() == rec["drawing"][0][0]  # fractional pixels kept
    np.testing.assert_allclose(inks[0].times[1], np.array(rec["drawing"][1][2]) / 1000)


def test_folder_reads_every_ndjson_file():
    assert len(list(iter_quickdraw(FIXTURES))) == 5


GOOD = '{"word": "cat", "drawing": [[[1, 2], [3, 4]]]}'


@pytest.mark.parametrize(
    "lines, message",
    [
        (
            [GOOD, '{"word": "cat", "drawing": [[[1, 2], [3]]]}'],
            r"x.ndjson:2: drawing\[0\]: must be",
        ),
        (
            [GOOD, "", '{"word": "cat", "drawing": [[[1, 2], [3, "4"]]]}'],
            r"x.ndjson:3: drawing\[0\]",
        ),
        (
            [GOOD, '{"word": "cat", "drawing": [[[1, 2], [3, 4]], [[1], [2], [3]]]}'],
            r":2: some strokes have times",
        ),
        ([GOOD, '{"word": "cat", "drawing": []}'], r":2: 'drawing' must be a non-empty list"),
        ([GOOD, '{"word": "cat", "drawing": [[[1, NaN], [3, 4]]]}'], r":2: invalid JSON \(NaN"),
        (
            [GOOD, '{"word": "cat", "drawing": [[[1, 1e999], [3, 4]]]}'],
            r":2: drawing\[0\]: holds a NaN",
        ),
        ([GOOD, '{"word": 7, "drawing": [[[1, 2], [3, 4]]]}'], r":2: 'word' must be a string"),
        ([GOOD, '{"word": "cat", "drawing": [[[1, 2], [3, 4]]'], r":2: invalid JSON"),
        (['["cat"]'], r":1: a drawing record must be a JSON object"),
        ([], "no drawings"),
    ],
)
def test_errors_name_the_file_and_line(tmp_path, lines, message):
    path = tmp_path / "x.ndjson"
    path.write_text("".join(line + "\n" for line in lines))
    with pytest.raises(InkstrokeError, match=message):
        list(iter_quickdraw(path))


def test_invalid_utf8_is_located(tmp_path):
    path = tmp_path / "x.ndjson"
    path.write_bytes(GOOD.encode() + b'\n{"word": "\xe9", "drawing": [[[1], [2]]]}\n')
    with pytest.raises(InkstrokeError, match=r"x.ndjson:2: not valid UTF-8"):
        list(iter_quickdraw(path))
