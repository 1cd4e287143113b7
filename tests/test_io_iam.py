"""IAM-OnDB: line stroke files labelled from the ascii CSR section."""

import shutil
import xml.etree.ElementTree as ET
from pathlib import Path

import numpy as np
import pytest

from inkstroke.errors import InkstrokeError
from inkstroke.io import importer
from inkstroke.io.iam import iter_iam

ROOT = Path(__file__).parent / "fixtures" / "iam"


def xml_points(path: Path) -> list[np.ndarray]:
    """The fixture's strokes read independently, straight from the XML."""
    strokes = ET.parse(path).getroot().find("StrokeSet")
    return [np.array([[float(p.get("x")), float(p.get("y"))] for p in s]) for s in strokes]


def test_lines_are_labelled_in_order_with_their_writers():
    inks = list(importer("iam")(ROOT))
    assert [i.meta["id"] for i in inks] == ["a01-000u-01", "a01-000u-02", "a01-001w-01"]
    assert [i.text for i in inks] == [
        "A MOVE to stop Mr. Gaitskell from",
        "nominating any more Labour life Peers",
        "Griffiths, M P for Manchester Exchange.",
    ]
    assert [i.writer for i in inks] == ["10077", "10077", "10039"]  # original/ and forms.txt
    assert all(i.y_axis == "down" and i.source == "iam" for i in inks)
    expected = xml_points(ROOT / "lineStrokes/a01/a01-000/a01-000u-02.xml")
    assert len(inks[1].strokes) == len(expected)
    for a, b in zip(inks[1].strokes, expected, strict=True):
        assert np.array_equal(a, b)


def test_times_are_seconds_from_the_first_point():
    ink = next(iter_iam(ROOT))
    assert ink.times[0][0] == 0
    t = np.concatenate(ink.times)
    assert np.all(np.diff(t) > 0) and t[1] == pytest.approx(0.01)
    assert t[-1] < 10  # not the raw clock of ~1.5e7 s


@pytest.fixture
def root(tmp_path):
    shutil.copytree(ROOT, tmp_path / "iam")
    return tmp_path / "iam"


def test_lines_without_transcription_are_skipped_and_writer_may_be_unknown(root):
    extra = root / "lineStrokes/a01/a01-001/a01-001w-02.xml"
    shutil.copy(root / "lineStrokes/a01/a01-001/a01-001w-01.xml", extra)
    (root / "forms.txt").unlink()
    inks = list(iter_iam(root))
    assert [i.meta["id"] for i in inks] == ["a01-000u-01", "a01-000u-02", "a01-001w-01"]
    assert inks[2].writer is None and inks[0].writer == "10077"


LINE = ROOT / "lineStrokes/a01/a01-000/a01-000u-01.xml"


@pytest.mark.parametrize(
    "old, new, message",
    [
        ('x="713"', 'x="7a3"', r"a01-000u-01.xml: stroke 0, point 1: x='7a3' is not a number"),
        ('y="1279"', 'y="NaN"', r"stroke 0, point 1: y='NaN' is not finite"),
        ('y="1279"', "", r"stroke 0, point 1: y=None is not a number"),
        ("</Stroke>", "</Strok>", r"a01-000u-01.xml:\d+: malformed XML \(mismatched tag"),
        (
            "<StrokeSet>",
            "<StrokeSet>\n<Stroke>\x01</Stroke>",
            r"a01-000u-01.xml:10: malformed XML \(not well",
        ),
        ("StrokeSet", "Strokes", "not an IAM-OnDB stroke file"),
        ("ISO-8859-1", "ISO-8859-x", r"a01-000u-01.xml:1: unsupported XML encoding"),
    ],
)
def test_bad_stroke_files_are_located(root, old, new, message):
    line = root / LINE.relative_to(ROOT)
    line.write_bytes(line.read_bytes().decode("latin-1").replace(old, new).encode("latin-1"))
    with pytest.raises(InkstrokeError, match=message):
        list(iter_iam(root))


def test_bad_layouts(root, tmp_path):
    ascii_file = root / "ascii/a01/a01-000/a01-000u.txt"
    ascii_file.write_text(ascii_file.read_text().replace("CSR:", "XSR:"))
    with pytest.raises(InkstrokeError, match="a01-000u.txt: no CSR: section"):
        list(iter_iam(root))
    with pytest.raises(InkstrokeError, match="no lineStrokes/ folder"):
        list(iter_iam(tmp_path))
    (root / "forms.txt").write_text("a01-001w\n")
    with pytest.raises(InkstrokeError, match=r"forms.txt:1: expected 'form-id writer-id'"):
        list(iter_iam(root))
