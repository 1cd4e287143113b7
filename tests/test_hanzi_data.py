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


def test_build_dataset_keeps_stroke_order_and_saves(small_hanzi, tmp_path):
    assert small_hanzi.chars == ["永", "十", "口", "說"]
    assert small_hanzi.counts.tolist() == [5, 2, 3, 14]
    ten = small_hanzi.strokes[small_hanzi.chars.index("十")]
    assert ten[0, -1, 0] > ten[0, 0, 0]  # the horizontal first, left to right
    assert ten[1, -1, 1] > ten[1, 0, 1]  # then the vertical, downwards (y down)
    assert not ten[2:].any()  # padding
    small_hanzi.save(tmp_path / "d.npz")
    back = data.HanziData.load(tmp_path / "d.npz")
    assert back.chars == small_hanzi.chars
    np.testing.assert_array_equal(back.images, small_hanzi.images)
    with pytest.raises(InkstrokeError, match="not a hanzi dataset"):
        data.HanziData.load(tmp_path / "missing.npz")


def test_augmentation_moves_image_and_strokes_together(small_hanzi):
    idx = np.arange(len(small_hanzi.chars))
    g = torch.Generator().manual_seed(3)
    for _ in range(3):
        batch = make_batch(small_hanzi, idx, HanziConfig(), aug=g)
        for k, n in enumerate(small_hanzi.counts):
            points = batch["strokes"][k, :n].reshape(-1, 2).numpy()
            image = batch["images"][k].numpy()
            assert on_ink(points, (image[0] > 0.2) | (image[1] > 0.2)) > 0.9
    images = torch.from_numpy(small_hanzi.images).float() / 255
    strokes = torch.from_numpy(small_hanzi.strokes)
    moved, _ = augment(images, strokes, torch.Generator().manual_seed(0))
    assert not torch.equal(moved, images)


def test_register_recovers_a_known_affine_map(small_hanzi):
    skeleton = small_hanzi.images[0, 1]
    a, b = data.register(skeleton, skeleton)
    np.testing.assert_allclose(a, np.eye(2), atol=1e-6)
    np.testing.assert_allclose(b, 0, atol=1e-6)
    shifted = np.roll(skeleton, (2, -3), axis=(0, 1))  # 2 pixels down, 3 left
    a, b = data.register(skeleton, shifted)
    np.testing.assert_allclose(a, np.eye(2), atol=0.02)
    np.testing.assert_allclose(b * data.SIZE, [-3, 2], atol=0.3)
    assert data.register(skeleton, small_hanzi.images[2, 1]) is None  # 永 is not 口
    assert data.register(skeleton, np.zeros_like(skeleton)) is None


def test_other_fonts_carry_the_strokes_over(small_hanzi, tmp_path):
    gothic = Path("/usr/share/fonts/opentype/ipafont-gothic/ipag.ttf")
    if not gothic.is_file():
        pytest.skip("IPA Gothic is not installed")
    small_hanzi = data.HanziData(small_hanzi.chars, small_hanzi.images, small_hanzi.strokes, small_hanzi.counts)  # the fixture stays as it is
    small_hanzi.add_fonts([gothic])
    assert small_hanzi.other_fonts == [str(gothic)] and small_hanzi.other_has.shape == (1, 4)
    assert small_hanzi.other_has[0, :3].all()  # 永十口; 說 is not in a JIS font
    for i in np.flatnonzero(small_hanzi.other_has[0]):
        points = small_hanzi.other_strokes[0, i, : small_hanzi.counts[i]].reshape(-1, 2)
        assert on_ink(points, small_hanzi.other_images[0, i, 0]) > 0.9
    small_hanzi.save(tmp_path / "d.npz")
    back = data.HanziData.load(tmp_path / "d.npz")
    np.testing.assert_array_equal(back.other_strokes, small_hanzi.other_strokes)
    idx = np.arange(len(small_hanzi.chars))
    batch = make_batch(back, idx, HanziConfig(), aug=torch.Generator().manual_seed(1))
    assert batch["images"].shape == (4, 2, data.SIZE, data.SIZE)
