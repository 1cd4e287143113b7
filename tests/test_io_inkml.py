"""InkML: CROHME-style trace groups, channel formats, difference encodings."""

from pathlib import Path

import numpy as np
import pytest

from inkstroke.errors import InkstrokeError
from inkstroke.ink import Ink
from inkstroke.io import importer, read_ink
from inkstroke.io.inkml import iter_inkml, read_inkml, write_inkml

FIXTURES = Path(__file__).parent / "fixtures" / "inkml"


def test_crohme_file_gives_one_ink_per_labelled_symbol():
    inks = list(importer("inkml")(FIXTURES / "crohme_expression.inkml"))
    assert [i.text for i in inks] == ["a", "+", "1"]  # not the "Segmentation" wrapper
    assert [len(i.strokes) for i in inks] == [1, 2, 1]
    assert all(i.writer == "ivc_w17" and i.y_axis == "down" for i in inks)
    assert inks[0].strokes[0][:2].tolist() == [[985, 3317], [984, 3312]]
    assert inks[1].strokes[1][-1].tolist() == [1075, 3344]
    assert inks[2].meta == {"file": "crohme_expression.inkml", "group": "7"}


def test_read_inkml_gives_the_whole_document():
    ink = read_ink(FIXTURES / "crohme_expression.inkml")
    assert ink.text == "$a+1$" and len(ink.strokes) == 4 and ink.num_points == 32


def test_channels_in_any_order_contexts_and_differences():
    (ink,) = iter_inkml(FIXTURES / "channels_and_differences.inkml")
    assert ink.text == "hi" and ink.units == "mm"
    assert len(ink.strokes) == 3  # the pen-up trace is left out
    first, second, third = ink.strokes
    assert first.tolist() == [[10, 5], [10, 15], [10, 25], [10, 35]]  # T X Y F order
    np.testing.assert_allclose(ink.times[0], [0, 0.01, 0.02, 0.03])  # ms -> s
    np.testing.assert_allclose(ink.pressures[0], [0.2, 0.5, 0.6, 0.4])
    # '...' first differences, then "..." second differences
    assert second.tolist() == [[10, 20], [12, 19], [14, 17]]
    np.testing.assert_allclose(ink.times[1], [0.1, 0.11, 0.12])
    np.testing.assert_allclose(ink.pressures[1], [0.3, 0.5, 0.7])
    # no commas, prefixes stay in force per channel until changed
    assert third.tolist() == [[20, 22], [20, 26], [21, 26], [22, 30]]
    np.testing.assert_allclose(ink.pressures[2], [0.5, 0.5, 0.5, 0.1])


def test_the_specifications_compact_example():
    ink = read_inkml(FIXTURES / "spec_example.inkml")
    a, b = ink.strokes
    # (1125, 18432), then velocity (23, 43), then accelerations (7, -8), (3, -5), ...
    assert a[:4].tolist() == [[1125, 18432], [1148, 18475], [1178, 18510], [1211, 18540]]
    assert len(a) == 8 and len(b) == 11 and b[-1].tolist() == [10, 140]


def test_write_read_round_trip_is_exact(tmp_path):
    rng = np.random.default_rng(3)
    strokes = [rng.normal(0, 100, (n, 2)) for n in (3, 1, 12)]
    strokes[0][0] = [100.0, -3.0]  # integral values are written without ".0"
    ink = Ink(
        strokes,
        times=[np.sort(rng.uniform(0, 9, len(s))) for s in strokes],
        pressures=[rng.uniform(0, 1, len(s)) for s in strokes],
        text="<a & b>",
        writer="w9",
        units="mm",
    )
    path = tmp_path / "out.inkml"
    write_inkml(ink, path)
    assert "100 -3 " in path.read_text()
    back = read_inkml(path)
    assert back.text == ink.text and back.writer == "w9" and back.units == "mm"
    for name in ("strokes", "times", "pressures"):
        for a, b in zip(getattr(back, name), getattr(ink, name), strict=True):
            assert np.array_equal(a, b)


def test_y_up_inks_are_written_y_down(tmp_path):
    up = Ink([np.array([[0.0, 1.0], [2.0, 5.0]])], y_axis="up")
    write_inkml(up, tmp_path / "up.inkml")
    back = read_inkml(tmp_path / "up.inkml")
    assert back.y_axis == "down" and back.strokes[0].tolist() == [[0, -1], [2, -5]]


def test_folder_reads_every_inkml_file_in_name_order(tmp_path):
    for name, text in (("b.inkml", "second"), ("a.inkml", "first")):
        write_inkml(Ink([np.array([[0.0, 0.0], [1.0, 1.0]])], text=text), tmp_path / name)
    (tmp_path / "notes.txt").write_text("not ink")
    assert [i.text for i in iter_inkml(tmp_path)] == ["first", "second"]
    (tmp_path / "empty").mkdir()
    with pytest.raises(InkstrokeError, match="no .inkml files"):
        list(iter_inkml(tmp_path / "empty"))


DOC = '<ink xmlns="http://www.w3.org/2003/InkML">\n{}\n</ink>\n'


@pytest.mark.parametrize(
    "body, message",
    [
        ("<trace>1 2, 3 4</trace>\n<trace>5 6, 7 <8</trace>", r"bad.inkml:3: malformed XML"),
        ('<trace xml:id="s2">1 2, 3 x</trace>', r"trace 0 \(id 's2'\): cannot read a value"),
        ("<trace>1 2, 3 nan</trace>", "NaN or infinite"),
        ("<trace>1 2, 3 1e999</trace>", "NaN or infinite"),
        ("<trace>1 2, 3 4 5 6</trace>", "point 1 has 4 values, expected 2"),
        ("<trace>1 2 3</trace>", "3 values do not split into points of 2"),
        ("<trace>'1 2, 3 4</trace>", "point 0 holds a difference"),
        (
            '<traceGroup><annotation type="truth">x</annotation><traceView traceDataRef="#t9"/></traceGroup>',
            "unknown #t9",
        ),
        ('<trace contextRef="#nope">1 2</trace>', "unknown context"),
        ('<traceFormat><channel name="X"/></traceFormat><trace>1</trace>', "no Y channel"),
        (
            '<traceView traceDataRef="#g"/><traceGroup xml:id="g"><traceView traceDataRef="#g"/></traceGroup>',
            "nest too deep",
        ),
    ],
)
def test_errors_name_the_file_and_the_trace(tmp_path, body, message):
    path = tmp_path / "bad.inkml"
    path.write_text(DOC.format(body))
    with pytest.raises(InkstrokeError, match=message) as e:
        list(iter_inkml(path))
    assert "bad.inkml" in str(e.value)


def test_not_inkml_and_bad_encoding(tmp_path):
    (tmp_path / "svg.inkml").write_text('<svg xmlns="http://www.w3.org/2000/svg"/>')
    with pytest.raises(InkstrokeError, match="not an InkML document"):
        read_inkml(tmp_path / "svg.inkml")
    (tmp_path / "enc.inkml").write_bytes(
        b'<ink>\n<annotation type="truth">\xff\xfe</annotation></ink>'
    )
    with pytest.raises(InkstrokeError, match=r"enc.inkml:2: malformed XML"):
        read_inkml(tmp_path / "enc.inkml")
    (tmp_path / "decl.inkml").write_text('<?xml version="1.0" encoding="UTF-x"?><ink/>')
    with pytest.raises(InkstrokeError, match=r"decl.inkml:1: unsupported XML encoding"):
        read_inkml(tmp_path / "decl.inkml")
    with pytest.raises(InkstrokeError, match="no such file"):
        list(iter_inkml(tmp_path / "missing.inkml"))
