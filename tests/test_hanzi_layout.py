import numpy as np
import pytest

from inkstroke.errors import InkstrokeError
from inkstroke.hanzi.layout import cells, layout
from inkstroke.ink import Ink


def box_ink() -> Ink:
    """One stroke around the em square's drawing area, y up, row 0 at y = 900."""
    return Ink([np.array([[0.0, 900.0], [1024.0, 900.0], [1024.0, -124.0]])], units="mmah1024", y_axis="up")


def test_rows_run_left_to_right_and_wrap():
    assert cells("永字八") == [(0, 0), (0, 1), (0, 2)]
    assert cells("永字\n八") == [(0, 0), (0, 1), None, (1, 0)]
    assert cells("永字八法", per_line=3) == [(0, 0), (0, 1), (0, 2), (1, 0)]


def test_columns_run_down_then_right_to_left():
    assert cells("永字八法", "columns", per_line=2) == [(0, 1), (1, 1), (0, 0), (1, 0)]
    assert cells("永字\n八\n", "columns") == [(0, 1), (1, 1), None, (0, 0), None]


def test_bad_layout_options_are_refused():
    with pytest.raises(InkstrokeError, match="direction"):
        cells("永", "diagonal")
    with pytest.raises(InkstrokeError, match="per_line"):
        cells("永", per_line=-1)
    with pytest.raises(InkstrokeError, match="2 inks for 1"):
        layout("永", [None, None])
    with pytest.raises(InkstrokeError, match="cell must be positive"):
        layout("永", [box_ink()], cell=0)


def test_layout_places_each_character_in_its_cell():
    page = layout("永 字", [box_ink(), None, box_ink()], cell=20.0, gap=2.0, margin=10.0)
    assert page.units == "mm" and page.y_axis == "down" and page.text == "永 字"
    assert len(page.strokes) == 2  # the space leaves its cell empty
    first, second = page.strokes
    np.testing.assert_allclose(first[0], [10.0, 10.0])  # the em's top left at the margin
    np.testing.assert_allclose(first[-1], [30.0, 30.0])  # one cell across, one down
    np.testing.assert_allclose(second[0], [10.0 + 2 * 22.0, 10.0])
    assert page.meta["grid"] == [1, 3]
    assert page.meta["page_mm"] == pytest.approx([2 * 10 + 3 * 22 - 2, 2 * 10 + 20])
    tall = layout("永字", [box_ink(), box_ink()], "columns")
    assert tall.meta["grid"] == [2, 1] and tall.strokes[1][0, 1] > tall.strokes[0][0, 1]
    with pytest.raises(InkstrokeError, match="mmah1024"):
        layout("永", [box_ink().copy(units="mm")])
