from pathlib import Path

import numpy as np
import pytest
import torch

from inkstroke.errors import InkstrokeError
from inkstroke.hanzi import data
from inkstroke.hanzi.model import HanziConfig
from inkstroke.hanzi.train import augment, make_batch
from inkstroke.io import hanzi

HANZI = Path(__file__).parent / "fixtures" / "hanzi"


def kaiti(char: str) -> Path:
    try:
        return hanzi.kaiti_font_path(char)
    except InkstrokeError as e:
        pytest.skip(str(e))


def on_ink(points: np.ndarray, image: np.ndarray) -> float:
    """Share of unit-frame points that fall on an inked pixel (or next to one)."""
    ink = image > 0
    grown = ink.copy()
    for axis in (0, 1):
        for step in (1, -1):
            grown |= np.roll(ink, step, axis=axis)
    px = np.clip((points * data.SIZE).astype(int), 0, data.SIZE - 1)
    return float(grown[px[:, 1], px[:, 0]].mean())


@pytest.fixture(scope="module")
def small() -> data.HanziData:
    for font in (data.GKAI, data.UKAI):
        if not font.is_file():
            pytest.skip(f"{font} is not installed")
    return data.build_dataset(HANZI, chars=["永", "十", "口", "說"])


def test_unit_frame_fills_the_square_and_maps_back():
    polygons = [np.array([[100.0, 0.0], [500.0, 0.0], [500.0, 800.0], [100.0, 800.0]])]
    frame = data.UnitFrame.of(polygons)
    unit = frame.to_unit(polygons[0])
    assert unit[:, 1].min() == pytest.approx(data.MARGIN)  # the taller side fills the frame
    assert unit[:, 1].max() == pytest.approx(1 - data.MARGIN)
    assert unit[:, 0].mean() == pytest.approx(0.5)  # the narrow side is centred
    assert unit[0, 1] > unit[2, 1]  # y up in the em, y down in the frame
    np.testing.assert_allclose(frame.to_mmah(unit), polygons[0], atol=1e-9)


def test_glyph_input_lines_up_with_the_medians():
    image, frame = data.glyph_input("永", kaiti("永"))
    assert image.shape == (2, data.SIZE, data.SIZE) and image.dtype == np.uint8
    assert 0 < (image[1] > 0).sum() < (image[0] > 0).sum()  # the skeleton is thinner than the glyph
    medians = hanzi.character_ink("永", HANZI).strokes
    points = np.concatenate([data.resample_stroke(frame.to_unit(m), 20) for m in medians])
    assert on_ink(points, image[0]) > 0.95


def test_glyph_input_names_the_font_that_lacks_the_character():
    font = kaiti("永")
    with pytest.raises(InkstrokeError, match=r"no glyph for '\\U0001f600'|no glyph for '😀'"):
        data.glyph_input("\U0001f600", font)
    with pytest.raises(InkstrokeError, match="one character"):
        data.glyph_input("永字", font)


def test_resample_stroke_spaces_points_evenly():
    out = data.resample_stroke(np.array([[0.0, 0.0], [3.0, 0.0], [3.0, 1.0]]), 5)
    assert len(out) == 5
    np.testing.assert_allclose(np.linalg.norm(np.diff(out, axis=0), axis=1), 1.0)
    np.testing.assert_allclose(out[[0, -1]], [[0, 0], [3, 1]])
    np.testing.assert_allclose(data.resample_stroke(np.array([[2.0, 5.0]]), 4), [[2, 5]] * 4)


def test_held_out_split_is_a_stable_tenth():
    chars = [chr(c) for c in range(0x4E00, 0x4E00 + 5000)]
    held = [c for c in chars if data.is_held_out(c)]
    assert 0.08 < len(held) / len(chars) < 0.12
    assert held == [c for c in chars if data.is_held_out(c)]


def test_build_dataset_keeps_stroke_order_and_saves(small, tmp_path):
    assert small.chars == ["永", "十", "口", "說"]
    assert small.counts.tolist() == [5, 2, 3, 14]
    ten = small.strokes[small.chars.index("十")]
    assert ten[0, -1, 0] > ten[0, 0, 0]  # the horizontal first, left to right
    assert ten[1, -1, 1] > ten[1, 0, 1]  # then the vertical, downwards (y down)
    assert not ten[2:].any()  # padding
    small.save(tmp_path / "d.npz")
    back = data.HanziData.load(tmp_path / "d.npz")
    assert back.chars == small.chars
    np.testing.assert_array_equal(back.images, small.images)
    with pytest.raises(InkstrokeError, match="not a hanzi dataset"):
        data.HanziData.load(tmp_path / "missing.npz")


def test_augmentation_moves_image_and_strokes_together(small):
    idx = np.arange(len(small.chars))
    g = torch.Generator().manual_seed(3)
    for _ in range(3):
        batch = make_batch(small, idx, HanziConfig(), aug=g)
        for k, n in enumerate(small.counts):
            points = batch["strokes"][k, :n].reshape(-1, 2).numpy()
            image = batch["images"][k].numpy()
            assert on_ink(points, (image[0] > 0.2) | (image[1] > 0.2)) > 0.9
    images = torch.from_numpy(small.images).float() / 255
    strokes = torch.from_numpy(small.strokes)
    moved, _ = augment(images, strokes, torch.Generator().manual_seed(0))
    assert not torch.equal(moved, images)
