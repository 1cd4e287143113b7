from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.spatial import cKDTree

from inkstroke.errors import InkstrokeError
from inkstroke.io import hanzi, importer
from inkstroke.io.font import (
    MMAH_TOP,
    font_has_glyph,
    glyph_centerlines,
    glyph_image,
    mmah_to_pixels,
    svg_path_polygons,
)

HANZI = Path(__file__).parent / "fixtures" / "hanzi"
DEJAVU = Path("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf")


def font(path: Path) -> Path:
    if not path.is_file():
        pytest.skip(f"font {path} is not installed")
    return path


@pytest.fixture(scope="module")
def dejavu() -> Path:
    return font(DEJAVU)


@pytest.fixture(scope="module")
def gkai() -> Path:
    return font(Path(hanzi.KAITI_FONTS[0][0]))


@pytest.fixture(scope="module")
def ukai() -> Path:
    return font(Path(hanzi.KAITI_FONTS[1][0]))


def test_cmap_lookup(dejavu, gkai):
    assert font_has_glyph("L", dejavu) and not font_has_glyph("永", dejavu)
    assert font_has_glyph("永", gkai)


def test_missing_glyph_names_char_and_font(dejavu):
    with pytest.raises(InkstrokeError, match=r"DejaVuSans\.ttf.*'永'"):
        glyph_image("永", dejavu)
    with pytest.raises(InkstrokeError, match="'永'"):
        list(importer("font")(dejavu, text="a永"))


def test_a_file_that_is_no_font_is_refused(tmp_path):
    bad = tmp_path / "broken.ttf"
    bad.write_bytes(b"\x00\x01\x00\x00 not really a font")
    with pytest.raises(InkstrokeError, match="broken.ttf"):
        font_has_glyph("a", bad)


def test_glyph_image_sits_on_the_mmah_baseline_and_keeps_holes(dejavu):
    size = 256
    rows, _ = np.nonzero(glyph_image("L", dejavu, size))
    assert rows.max() + 1 == MMAH_TOP * size / 1024  # the flat foot of L rests on y = 0
    image = glyph_image("O", dejavu, size)
    assert image.dtype == bool and image.shape == (size, size)
    rows, cols = np.nonzero(image)
    centre = (int(rows.mean()), int(cols.mean()))
    assert not image[centre]  # the counter of the O stays empty (winding rule)
    assert image[centre[0], cols.min() + 2]
    assert glyph_image(" ", dejavu, size).sum() == 0


def test_glyph_image_fit_frame_fills_the_image(dejavu):
    image = glyph_image("L", dejavu, 128, frame="fit")
    rows, cols = np.nonzero(image)
    assert rows.max() - rows.min() > 100  # the tall side spans the image less its margins
    with pytest.raises(InkstrokeError, match="unknown glyph frame"):
        glyph_image("L", dejavu, frame="page")


@pytest.mark.parametrize(
    "char, count", [("L", 1), ("T", 2), ("+", 2), ("x", 2), ("o", 1), ("i", 2)]
)
def test_latin_centre_lines_have_the_expected_stroke_count(dejavu, char, count):
    ink = glyph_centerlines(char, dejavu)
    assert len(ink) == count
    assert (ink.text, ink.units, ink.y_axis) == (char, "mmah1024", "up")


def test_centre_lines_run_inside_the_glyph(dejavu):
    for char in "LoAk&":
        ink = glyph_centerlines(char, dejavu).resample(step=4)
        image = glyph_image(char, dejavu, 512)
        px = np.floor(mmah_to_pixels(ink.points(), 512)).astype(int)
        assert image[px[:, 1], px[:, 0]].mean() > 0.97


def test_closed_letter_gives_a_closed_stroke_and_strokes_run_like_writing(dejavu):
    (ring,) = glyph_centerlines("o", dejavu).strokes
    assert np.linalg.norm(ring[0] - ring[-1]) < 1
    bar, stem = glyph_centerlines("T", dejavu).strokes  # top band first
    assert bar[-1, 0] > bar[0, 0]  # left to right
    assert stem[0, 1] > stem[-1, 1]  # top to bottom (y up)


def test_hanzi_centre_lines_follow_the_make_me_a_hanzi_medians(gkai, ukai):
    # Medians and glyphs share one frame, so the skeleton lands on the medians.
    for char, path, strokes in [
        ("十", gkai, 2),
        ("口", gkai, 3),
        ("永", gkai, None),
        ("說", ukai, None),
    ]:
        lines = glyph_centerlines(char, path).resample(step=4).points()
        medians = hanzi.character_ink(char, HANZI).resample(step=4).points()
        assert cKDTree(medians).query(lines)[0].mean() < 8, char
        assert cKDTree(lines).query(medians)[0].mean() < 8, char
        if strokes:
            assert len(glyph_centerlines(char, path)) == strokes


def test_font_collection_uses_the_first_face(ukai):
    assert glyph_image("說", ukai, 64).sum() > 200


def test_iter_font_default_is_printable_ascii(dejavu):
    inks = list(importer("font")(dejavu, text="a b\tc", size=128))
    assert [i.text for i in inks] == ["a", "b", "c"]
    assert all(len(i) >= 1 and i.source == "font" for i in inks)


@pytest.mark.slow
def test_iter_font_every_ascii_glyph(dejavu):
    inks = list(importer("font")(dejavu))
    assert len(inks) == 94
    assert all(len(i) >= 1 for i in inks)


@settings(max_examples=200, deadline=None)
@given(st.text(alphabet="MmLlQqCcZzHhVvAaSsTt0123456789 .,-e", max_size=40))
def test_svg_path_data_parses_or_is_refused(d):
    try:
        polygons = svg_path_polygons(d)
    except InkstrokeError as e:
        assert "bad SVG path data" in str(e)
    else:
        assert all(p.ndim == 2 and p.shape[1] == 2 and len(p) >= 3 for p in polygons)
