"""Plotter SVG: sized in mm, one polyline per stroke, read back by svgelements (and vpype
when it is installed)."""

import numpy as np
import pytest
import svgelements

from inkstroke.errors import InkstrokeError
from inkstroke.io.hershey import hershey_ink
from inkstroke.robot.frame import Paper, place
from inkstroke.robot.plotter_svg import plotter_svg


def _placed():
    paper = Paper.parse("A5", orientation="landscape")
    return place(hershey_ink("Hi there"), paper, height_mm=20), paper


def test_svg_geometry_is_in_millimetres(tmp_path):
    ink, paper = _placed()
    path = tmp_path / "hi.svg"
    path.write_text(plotter_svg(ink, paper))
    doc = svgelements.SVG.parse(str(path), ppi=25.4)  # 1 px per mm: user units are mm
    assert (doc.width, doc.height) == pytest.approx((210, 148))
    lines = [e for e in doc.elements() if isinstance(e, svgelements.Polyline)]
    assert len(lines) == len(ink.strokes)
    for line, stroke in zip(lines, ink.strokes, strict=True):
        pts = np.array([(p.x, p.y) for p in line.points])
        want = np.column_stack([stroke[:, 0], paper.height_mm - stroke[:, 1]])  # SVG grows y down
        np.testing.assert_allclose(pts, want, atol=1e-3)


def test_a_dot_is_a_zero_length_line():
    paper = Paper.parse("A6")
    from inkstroke.ink import Ink

    ink = place(Ink([np.array([[0.0, 0.0], [5.0, 5.0]]), np.array([[2.0, 8.0]])]), paper)
    text = plotter_svg(ink, paper)
    dot = text.splitlines()[-3]
    a, b = dot.split('"')[1].split()
    assert a == b


def test_unplaced_ink_is_refused():
    with pytest.raises(InkstrokeError, match="placed on paper in mm"):
        plotter_svg(hershey_ink("a"), Paper.parse("A4"))


def test_vpype_reads_it(tmp_path):
    vpype = pytest.importorskip("vpype")
    ink, paper = _placed()
    path = tmp_path / "hi.svg"
    path.write_text(plotter_svg(ink, paper))
    doc = vpype.read_multilayer_svg(str(path), quantization=0.05)
    lines = [line for layer in doc.layers.values() for line in layer]
    assert len(lines) == len(ink.strokes)
    # vpype works in CSS pixels (96 per inch)
    first = np.array([[p.real, p.imag] for p in lines[0]]) * 25.4 / 96
    want = np.column_stack([ink.strokes[0][:, 0], paper.height_mm - ink.strokes[0][:, 1]])
    np.testing.assert_allclose(first[[0, -1]], want[[0, -1]], atol=0.05)
