"""UNIPEN importer: component numbering, dirt, errors, and real data when cached."""

import shutil
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from inkstroke.errors import InkstrokeError
from inkstroke.ink import Ink
from inkstroke.io.unipen import is_single_line, iter_unipen

FIXTURE = Path(__file__).parent / "fixtures" / "unipen"
REAL = Path.home() / ".cache" / "inkstroke" / "unipen" / "train_r01_v07"


def by_source(inks):
    return {ink.source.removeprefix("unipen:"): ink for ink in inks}


def pts(ink):
    return [s.tolist() for s in ink.strokes]


@pytest.fixture
def tree(tmp_path):
    """A writable copy of the fixture dataset."""
    root = tmp_path / "unipen"
    shutil.copytree(FIXTURE, root)
    return root


def test_dataset_import_numbers_pen_up_blocks_and_skips_empty_ones():
    report = []
    inks = by_source(iter_unipen(FIXTURE, report=report))
    # components of tst/data/w1.dat: 0 down, 1 up, 2 down (3-number line), 3 down (0,0),
    # 4 up, 5 down, 6 down, 7 up; the empty pen-up blocks are not counted
    assert pts(inks["data/6/tst/w1.dat:0-2"]) == [[[1, 1], [2, 2], [3, 3]], [[10, 10], [11, 12]]]
    # starts on a pen-up block: a reader counting pen-down blocks only gets this wrong
    assert pts(inks["data/6/tst/w1.dat:4-5"]) == [[[21, 21], [22, 22], [23, 23], [24, 24]]]
    assert len(inks["data/6/tst/w1.dat:0,5-6"].strokes) == 3
    assert pts(inks["data/6/tst/w1.dat:5:1-6:0"]) == [[[22, 22], [23, 23], [24, 24]], [[30, 30]]]
    assert len(inks["data/8/tst/w1.dat:0-7"].strokes) == 4  # the (0,0) block is not drawn
    # a segment over a placeholder block only has no ink; the duplicate in data/7 is dropped
    assert "data/6/tst/w1.dat:3" not in inks and "data/7/tst/w1.dat:0-2" not in inks
    assert len(inks) == 9
    assert report == [
        "data/8/tst/gone.dat:3: missing include file tst/data/gone.dat; "
        "skipped 2 segments of data/8/tst/gone.dat"
    ]


def test_labels_writers_and_metadata():
    inks = by_source(iter_unipen(FIXTURE, report=[]))
    assert inks["data/6/tst/w1.dat:4-5"].text == 'say "hi"'
    assert inks["data/6/tst/w1.dat:0,5-6"].text == "a\\b"
    assert inks["data/6/tst/w1.dat:5:1-6:0"].text == "mn"  # kai's \@ marker stripped
    assert inks["data/7/tst/w1.dat:6"].text == "x"  # a literal TAB in the label
    ink = inks["data/6/tst/w1.dat:0-2"]
    assert (ink.writer, ink.units, ink.y_axis) == ("tst/Alice_0002", "device", "up")
    assert ink.meta == {
        "category": 6,
        "site": "tst",
        "quality": "OK",
        "ppi": 1000.0,
        "ppi_y": 1000.0,
    }
    assert ink.times is None and ink.pressures is None
    # apd and ape share writers, with session suffixes
    assert (
        inks["data/6/apd/e1.dat:0"].writer
        == inks["data/6/ape/e2.dat:0"].writer
        == "apb/Eric_Behnke"
    )


def test_start_set_resets_numbering_and_coord_may_come_after_the_ink():
    ink = by_source(iter_unipen(FIXTURE, report=[]))["data/6/sit/t1.dat:1"]
    # X Y T P from the doc included after the pen data; the repeated point is dropped,
    # the time going backwards is kept
    assert pts(ink) == [[[5, -5], [6, -6], [7, -8]]]
    assert ink.times[0].tolist() == [100, 90, 120]
    assert ink.pressures[0].tolist() == [7, 8, 9]
    assert ink.meta["ppi"] == pytest.approx(50 * 25.4)


def test_categories_order_dedup_and_single_file():
    first = by_source(iter_unipen(FIXTURE, categories=(7, 6), report=[]))
    assert "data/7/tst/w1.dat:0-2" in first and "data/6/tst/w1.dat:0-2" not in first
    both = by_source(iter_unipen(FIXTURE, categories=(6, 7), report=[], dedup=False))
    assert "data/7/tst/w1.dat:0-2" in both and "data/6/tst/w1.dat:0-2" in both
    single = list(iter_unipen(FIXTURE / "data" / "6" / "tst" / "w1.dat", categories=(8,)))
    assert [i.text for i in single] == ["ab", 'say "hi"', "a\\b", "mn"]
    assert single[0].meta["category"] == 6


BAD_DATA = [
    ("10 10\n", "10 ten\n", "non-numeric pen line"),
    ("10 10\n", "10 nan\n", "NaN or infinite"),
    ("10 10\n", "10 \x00\x9f\xff\n", "non-numeric pen line"),
    ("10 10\n", "10\n", "fewer numbers than .COORD"),
]
BAD_SEGMENT = [
    ('"ab"', '"ab', "unterminated quote"),
    ("0-2 OK", "0-99 OK", "out of bounds"),
    ("5:1-6:0", "5:9-6:0", "out of bounds"),
    ("0-2 OK", "2-0 OK", "runs backwards"),
]


@pytest.mark.parametrize("old,new,message", BAD_DATA + BAD_SEGMENT)
def test_malformed_input_raises_for_a_file_and_is_reported_in_a_dataset(tree, old, new, message):
    target = tree / (
        "include/tst/data/w1.dat" if (old, new, message) in BAD_DATA else "data/6/tst/w1.dat"
    )
    text = target.read_text(encoding="latin-1")
    assert old in text
    target.write_text(text.replace(old, new, 1), encoding="latin-1")
    with pytest.raises(InkstrokeError, match=message) as err:
        list(iter_unipen(tree / "data" / "6" / "tst" / "w1.dat"))
    assert "w1.dat:" in str(err.value)  # names the file and line
    report = []
    inks = list(iter_unipen(tree, report=report))
    assert any(message in r for r in report)
    assert any(i.text == "late coord" for i in inks)  # the import went on


def test_line_numbers_in_errors(tree):
    target = tree / "include/tst/data/w1.dat"
    target.write_text(target.read_text().replace("31 31", "31 x"))
    with pytest.raises(InkstrokeError, match=r"tst/data/w1.dat:33: non-numeric"):
        list(iter_unipen(tree / "data" / "6" / "tst" / "w1.dat"))


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(data=st.data())
def test_random_mutations_give_inks_or_inkstroke_errors(tree, data):
    files = [
        tree / "include/tst/data/w1.dat",
        tree / "data/6/tst/w1.dat",
        tree / "include/tst/tst.doc",
    ]
    originals = {f: f.read_bytes() for f in files}
    try:
        for f in files:
            raw = bytearray(originals[f])
            for _ in range(data.draw(st.integers(0, 4))):
                at = data.draw(st.integers(0, len(raw)))
                kind = data.draw(st.sampled_from(["replace", "insert", "delete"]))
                junk = data.draw(
                    st.binary(min_size=1, max_size=6)
                    | st.sampled_from(
                        [
                            b"\n",
                            b".PEN_UP\n",
                            b".PEN_DOWN\n",
                            b"-",
                            b":",
                            b",",
                            b'"',
                            b"\\",
                            b"\t",
                            b"nan",
                            b"1e999",
                        ]
                    )
                )
                if kind == "insert":
                    raw[at:at] = junk
                elif kind == "delete":
                    del raw[at : at + len(junk)]
                else:
                    raw[at : at + len(junk)] = junk
            f.write_bytes(bytes(raw))
        try:
            for ink in iter_unipen(tree / "data/6/tst/w1.dat", report=[]):
                assert isinstance(ink, Ink) and ink.num_points > 0
                ink.check_finite()
        except InkstrokeError:
            pass
        list(iter_unipen(tree, report=[]))  # a dataset import never raises on bad data
    finally:
        for f, raw in originals.items():
            f.write_bytes(raw)


def wave_word(x0: float, y0: float, n: int = 4) -> list[np.ndarray]:
    t = np.linspace(0, 1, 60)
    return [np.column_stack([x0 + 40 * i + 30 * t, y0 + 10 * np.sin(12 * t)]) for i in range(n)]


def test_is_single_line_tells_a_line_from_a_column_of_words():
    line = Ink(wave_word(0, 0) + wave_word(200, 3) + [np.array([[50.0, 25.0], [51.0, 26.0]])])
    assert is_single_line(line)
    column = Ink(wave_word(0, 0) + wave_word(0, -60) + wave_word(0, -120))
    assert not is_single_line(column)
    # descenders of the first line reach into the second: no clean gap, a deep valley
    descenders = [np.array([[x, -8.0], [x, -33.0]]) for x in (15.0, 95.0)]
    assert not is_single_line(Ink(wave_word(0, 0) + descenders + wave_word(0, -40)))
    assert is_single_line(Ink(wave_word(0, 0) + descenders))


needs_real = pytest.mark.skipif(not (REAL / "include").is_dir(), reason="UNIPEN not extracted")


@needs_real
def test_real_file_matches_a_hand_count():
    inks = list(iter_unipen(REAL / "data/6/int/l.dat"))
    first = inks[0]
    # components 8-15 of include/int/data/l.dat, counted with awk: 8 pen-down blocks, 365 points
    assert (first.text, first.source) == ("ability", "unipen:data/6/int/l.dat:8-15")
    assert (len(first.strokes), first.num_points) == (8, 365)
    assert first.strokes[0][0].tolist() == [0, 23] and first.strokes[-1][0].tolist() == [358, 3]
    assert first.meta == {
        "category": 6,
        "site": "int",
        "quality": "?",
        "ppi": 500.0,
        "ppi_y": 500.0,
    }
    assert len(inks) == sum(
        1
        for line in (REAL / "data/6/int/l.dat").read_text().splitlines()
        if line.startswith(".SEGMENT")
    )
    for ink in inks:
        x0, y0, x1, y1 = ink.bounds()
        assert 0 < x1 - x0 < 3000 and 0 < y1 - y0 < 1000  # a word at 500 ppi, not a stray point


@needs_real
def test_real_kai_labels_drop_the_delayed_stroke_marker():
    inks = list(iter_unipen(REAL / "data/7/kai/kai2/scoh4.dat"))
    assert [i.text for i in inks[:4]] == ["man", "is", "the", "feeble"]
    assert (len(inks[0].strokes), inks[0].num_points) == (1, 117)
    assert all("@" not in i.text and "\\" not in i.text for i in inks)
