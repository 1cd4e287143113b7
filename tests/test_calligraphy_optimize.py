from pathlib import Path

import numpy as np
import pytest
import torch

from inkstroke.calligraphy import brush
from inkstroke.calligraphy.metrics import iou
from inkstroke.calligraphy.optimize import (
    LAND_REACH,
    OptimizeConfig,
    fit_motion,
    motion_to_trajectory,
    write_character,
)
from inkstroke.calligraphy.profiles import default_trajectory
from inkstroke.calligraphy.targets import fit_lines_to, start_lines, target_image
from inkstroke.calligraphy.trajectory import load_trajectory, save_trajectory
from inkstroke.errors import InkstrokeError
from inkstroke.ink import Ink
from inkstroke.io.font import fill_polygons
from inkstroke.io.hanzi import character_ink, outline_polygons

QUICK = OptimizeConfig().scaled(0.4)


@pytest.fixture(autouse=True)
def one_thread():
    torch.set_num_threads(1)


def test_spline_fit_keeps_the_default_motion():
    raw = default_trajectory(character_ink("永"))
    motion = fit_motion(raw)
    lengths = [np.linalg.norm(np.diff(s[:, 1:3], axis=0), axis=1).sum() for s in raw.strokes]
    for c, length in zip(motion.controls, lengths, strict=True):
        assert abs(len(c) - (length / 40 + 3)) <= 1.5  # about one control point per 40 units
    refit = motion_to_trajectory(motion, "永").validate()
    assert iou(brush.render(refit, 256), brush.render(raw, 256)) > 0.9
    # the landing move sets the tip: it starts LAND_REACH away along the default entry direction
    first = refit.strokes[0]
    np.testing.assert_allclose(
        first[0, 1:3] - first[1, 1:3], LAND_REACH * np.array(brush.DEFAULT_BRUSH.entry), atol=1e-9
    )
    assert first[0, 3] == first[1, 3] == 0.0


def test_optimising_yong_matches_the_kaiti_glyph(tmp_path):
    result = write_character("永", 256, config=QUICK)
    assert result.raw_metrics["iou"] < 0.8
    assert result.metrics["iou"] > 0.93
    assert result.metrics["dice"] > result.raw_metrics["dice"]
    assert result.metrics["ssim"] > result.raw_metrics["ssim"]
    # the saved trajectory alone reproduces the picture
    path = tmp_path / "yong.json"
    save_trajectory(result.optimised, path)
    again = brush.render(load_trajectory(path), 256)
    assert iou(again, result.image) > 0.99
    assert np.array_equal(result.target > 0.5, target_image("永", 256) > 0.5)


def test_a_character_without_medians_starts_from_the_glyph_skeleton():
    lines = start_lines("あ")
    assert lines.source == "font" and len(lines.strokes) >= 2
    result = write_character("あ", 128, config=OptimizeConfig().scaled(0.2))
    assert result.metrics["iou"] > result.raw_metrics["iou"] + 0.05


def test_outline_target_is_the_same_kaiti():
    glyph, outlines = target_image("永", 128), target_image("永", 128, kind="outlines")
    assert iou(glyph, outlines) > 0.98


def test_no_data_and_no_glyph_is_a_clear_error():
    with pytest.raises(InkstrokeError, match="neither"):
        write_character("\ue000", config=None)
    with pytest.raises(InkstrokeError, match="one character"):
        write_character("永永", config=None)
    with pytest.raises(InkstrokeError, match="unknown target"):
        target_image("永", 64, kind="clouds")


def ink_box(image):
    rows, cols = np.nonzero(image > 0.5)
    return np.array([cols.min(), rows.min(), cols.max(), rows.max()])


def test_medians_are_fitted_to_another_fonts_glyph_box():
    mincho = Path("/usr/share/fonts/opentype/ipafont-mincho/ipam.ttf")
    if not mincho.is_file():
        pytest.skip("fonts-ipafont-mincho is not installed")
    lines = character_ink("永")
    same = fit_lines_to(lines, "永", target_image("永", 256))
    assert max(np.abs(a - b).max() for a, b in zip(same.strokes, lines.strokes, strict=True)) < 8
    # the Kaiti outlines, moved like the medians, cover the box of the Mincho glyph
    target = target_image("永", 256, font=mincho)
    outlines = Ink(outline_polygons("永"), y_axis="up")
    moved = fill_polygons(fit_lines_to(outlines, "永", target).strokes, 256, nonzero=False)
    assert np.abs(ink_box(moved) - ink_box(target)).max() <= 2
    assert (
        np.abs(ink_box(fill_polygons(outlines.strokes, 256, nonzero=False)) - ink_box(target)).max()
        > 10
    )
