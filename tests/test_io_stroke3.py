"""Stroke-3: sketch-rnn .npz, single .npy, and folders of lines with sentences."""

import zipfile
from pathlib import Path

import numpy as np
import pytest

from inkstroke.errors import InkstrokeError
from inkstroke.ink import Ink
from inkstroke.io import importer
from inkstroke.io.stroke3 import iter_stroke3, write_stroke3_npz

FIXTURES = Path(__file__).parent / "fixtures" / "stroke3"


def test_sketch_rnn_npz_matches_numpys_own_loader():
    inks = list(importer("stroke3")(FIXTURES / "cat.npz"))
    # The fixture's train split is pickled the numpy 1 way, as sketch-rnn's files are.
    with np.load(FIXTURES / "cat.npz", allow_pickle=True, encoding="latin1") as data:
        expected = [(split, d) for split in ("train", "valid", "test") for d in data[split]]
    assert len(inks) == len(expected) == 6
    for ink, (split, d) in zip(inks, expected, strict=True):
        assert ink.meta["split"] == split and ink.text == "cat" and ink.y_axis == "down"
        assert np.array_equal(ink.to_stroke3(), d)
    assert [i.meta["index"] for i in inks] == [0, 1, 2, 0, 0, 1]


def test_single_npy():
    (ink,) = iter_stroke3(FIXTURES / "single.npy")
    assert np.array_equal(ink.to_stroke3(), np.load(FIXTURES / "single.npy"))
    assert len(ink.strokes) == 3


def test_folder_pairs_lines_with_sentences_in_natural_order():
    inks = list(iter_stroke3(FIXTURES / "lines", y_axis="up"))
    assert [(i.meta["file"], i.text) for i in inks] == [
        ("line1.npy", "first line"),
        ("line2.npy", "second line"),
        ("line10.npy", "tenth line"),
    ]
    pen_dx_dy = np.load(FIXTURES / "lines" / "line10.npy")
    assert np.array_equal(inks[2].to_stroke3(), pen_dx_dy[:, [1, 2, 0]])
    assert inks[0].y_axis == "up"


def test_write_npz_round_trip(tmp_path):
    ints = Ink([np.array([[3, 4], [5, 9]]), np.array([[-2, 0]])], meta={"split": "test"})
    floats = Ink([np.array([[0.5, 0.25], [1.75, -3.0]])])
    path = tmp_path / "out.npz"
    write_stroke3_npz([ints, floats], path)
    with np.load(path, allow_pickle=True) as data:
        assert data["train"].dtype == object and len(data["valid"]) == 0
        assert data["test"][0].dtype == np.int16  # sketch-rnn's own dtype when exact
        assert data["train"][0].dtype == np.float64
    back = list(iter_stroke3(path))
    assert [i.meta["split"] for i in back] == ["train", "test"]
    assert [s.tolist() for s in back[0].strokes] == [s.tolist() for s in floats.strokes]
    assert [s.tolist() for s in back[1].strokes] == [s.tolist() for s in ints.strokes]
    with pytest.raises(InkstrokeError, match="unknown split"):
        write_stroke3_npz([Ink([np.zeros((1, 2))], meta={"split": "dev"})], tmp_path / "x.npz")
    assert not (tmp_path / "x.npz").exists()


class Exploit:
    def __init__(self, marker: Path):
        self.marker = marker

    def __reduce__(self):
        return (open, (str(self.marker), "w"))


def test_pickled_code_in_an_npz_is_refused_not_run(tmp_path):
    marker = tmp_path / "pwned"
    evil = np.empty(1, dtype=object)
    evil[0] = Exploit(marker)
    np.savez(tmp_path / "evil.npz", train=evil)
    with pytest.raises(InkstrokeError, match=r"evil.npz: train: .*refusing to load io.open"):
        list(iter_stroke3(tmp_path / "evil.npz"))
    assert not marker.exists()


@pytest.mark.parametrize(
    "array, message",
    [
        (np.zeros((4, 2)), r"expected a non-empty \(n, 3\) stroke-3 array"),
        (np.zeros((0, 3)), "non-empty"),
        (np.array([[1.0, np.nan, 0.0]]), "NaN or infinite"),
        (np.array([["a", "b", "c"]]), "numeric"),
    ],
)
def test_bad_arrays(tmp_path, array, message):
    np.save(tmp_path / "bad.npy", array)
    with pytest.raises(InkstrokeError, match=message) as e:
        list(iter_stroke3(tmp_path / "bad.npy"))
    assert "bad.npy" in str(e.value)


def test_bad_files_and_folders(tmp_path):
    (tmp_path / "junk.npz").write_bytes(b"PK\x03\x04 not really")
    with pytest.raises(InkstrokeError, match="junk.npz: not a readable .npz"):
        list(iter_stroke3(tmp_path / "junk.npz"))
    with zipfile.ZipFile(tmp_path / "other.npz", "w") as z:
        z.writestr("x.npy", b"")
    with pytest.raises(InkstrokeError, match="no train/valid/test"):
        list(iter_stroke3(tmp_path / "other.npz"))
    (tmp_path / "short.npy").write_bytes(b"\x93NUMPY\x01\x00")
    with pytest.raises(InkstrokeError, match="short.npy: not a readable .npy"):
        list(iter_stroke3(tmp_path / "short.npy"))
    lines = tmp_path / "lines"
    lines.mkdir()
    np.save(lines / "a.npy", np.array([[1, 0, 0]]))
    with pytest.raises(InkstrokeError, match="no sentences.txt"):
        list(iter_stroke3(lines))
    (lines / "sentences.txt").write_text("one\ntwo\n")
    with pytest.raises(InkstrokeError, match="2 lines for 1 .npy files"):
        list(iter_stroke3(lines))
    (lines / "sentences.txt").write_bytes(b"\xff\n")
    with pytest.raises(InkstrokeError, match=r"sentences.txt:1: not valid UTF-8"):
        list(iter_stroke3(lines))
    with pytest.raises(InkstrokeError, match="expected a .npz or .npy"):
        list(iter_stroke3(lines / "sentences.txt"))
