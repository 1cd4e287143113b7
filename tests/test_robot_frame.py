"""The paper frame: sizes, orientation, margins, and placing inks on the sheet in mm."""

import numpy as np
import pytest

from inkstroke.errors import InkstrokeError
from inkstroke.ink import Ink
from inkstroke.robot.frame import Paper, is_depth_ink, place


def test_named_sizes_orientation_and_custom():
    a4 = Paper.parse("a4")
    assert (a4.width_mm, a4.height_mm) == (210, 297)
    land = Paper.parse("A4", orientation="landscape")
    assert (land.width_mm, land.height_mm) == (297, 210)
    custom = Paper.parse("300x200", orientation="portrait", margin_mm=5)
    assert (custom.width_mm, custom.height_mm) == (200, 300)
    assert custom.printable == (5, 5, 195, 295)


@pytest.mark.parametrize(
    "spec, kwargs, message",
    [
        ("B7", {}, "use a name"),
        ("A6", {"margin_mm": 60}, "leaves nothing"),
        ("A4", {"orientation": "diagonal"}, "orientation"),
    ],
)
def test_bad_paper(spec, kwargs, message):
    with pytest.raises(InkstrokeError, match=message):
        Paper.parse(spec, **kwargs)


def _ell(y_axis):
    # An "L": a tall stem, then a foot at the bottom (bottom = larger y when y grows down).
    bottom = 10.0 if y_axis == "down" else 0.0
    top = 0.0 if y_axis == "down" else 10.0
    return Ink(
        [np.array([[0, top], [0, bottom]]), np.array([[0, bottom], [4, bottom]])], y_axis=y_axis
    )


@pytest.mark.parametrize("y_axis", ["down", "up"])
def test_place_fills_the_printable_area_upright_and_keeps_aspect(y_axis):
    paper = Paper.parse("A5", margin_mm=10)
    placed = place(_ell(y_axis), paper)
    x0, y0, x1, y1 = placed.bounds()
    px0, py0, px1, py1 = paper.printable
    assert placed.units == "mm" and placed.y_axis == "up"
    assert (x1 - x0) / (y1 - y0) == pytest.approx(0.4)
    assert y1 - y0 == pytest.approx(py1 - py0)  # the tall ink fills the height
    assert px0 <= x0 and x1 <= px1
    assert (x0 + x1) / 2 == pytest.approx(paper.width_mm / 2)
    # the foot is at the bottom of the page in the y-up paper frame
    foot = placed.strokes[1]
    assert foot[:, 1] == pytest.approx([y0, y0])
    assert placed.meta["mm_per_unit"] == pytest.approx((py1 - py0) / 10)


def test_place_at_a_height_and_top_left():
    paper = Paper.parse("A4", margin_mm=15)
    placed = place(_ell("down"), paper, height_mm=20, align="top-left")
    x0, y0, x1, y1 = placed.bounds()
    assert (x0, y1) == pytest.approx((15, 297 - 15))
    assert (x1 - x0, y1 - y0) == pytest.approx((8, 20))


def test_text_that_does_not_fit_is_refused():
    wide = Ink([np.array([[0.0, 0.0], [100.0, 10.0]])])
    with pytest.raises(InkstrokeError, match="does not fit on the paper.*200.0 x 20.0 mm"):
        place(wide, Paper.parse("A6"), scale=2.0)
    with pytest.raises(InkstrokeError, match="does not fit"):
        place(wide, Paper.parse("A6"), height_mm=30)


def test_depth_is_scaled_with_the_ink():
    brush = Ink(
        [np.array([[0.0, 0.0], [10.0, 0.0], [20.0, 5.0]])],
        pressures=[[0.0, 2.0, 1.0]],
        meta={"pressure": "depth"},
    )
    assert is_depth_ink(brush)
    placed = place(brush, Paper.parse("A4"), scale=3.0)
    assert placed.pressures[0] == pytest.approx([0.0, 6.0, 3.0])
    force = brush.copy(meta={})
    assert place(force, Paper.parse("A4"), scale=3.0).pressures[0] == pytest.approx([0.0, 2.0, 1.0])


def test_non_finite_and_empty_inks_are_refused():
    with pytest.raises(InkstrokeError, match="NaN"):
        place(Ink([np.array([[0.0, np.nan], [1.0, 1.0]])]), Paper.parse("A4"))
    with pytest.raises(InkstrokeError, match="no points"):
        place(Ink([]), Paper.parse("A4"))
