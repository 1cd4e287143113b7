import numpy as np
import pytest

from inkstroke.calligraphy.metrics import compare, dice, iou, ssim
from inkstroke.errors import InkstrokeError


def test_overlap_scores_of_known_shapes():
    a = np.zeros((10, 10))
    b = np.zeros((10, 10))
    a[0:4, 0:4] = 1.0  # 16 pixels
    b[2:6, 0:4] = 0.8  # 16 pixels, 8 shared
    assert iou(a, b) == pytest.approx(8 / 24)
    assert dice(a, b) == pytest.approx(16 / 32)
    assert iou(a, a * 0.4) == 0.0  # pale ink below one half is not ink
    assert iou(np.zeros((4, 4)), np.zeros((4, 4))) == 1.0


def test_ssim_is_one_for_equal_pictures_and_lower_otherwise():
    rng = np.random.default_rng(0)
    a = rng.random((32, 32))
    assert ssim(a, a) == pytest.approx(1.0)
    assert ssim(a, np.roll(a, 3, axis=1)) < 0.5
    scores = compare(a, a)
    assert set(scores) == {"iou", "dice", "ssim"}


def test_shapes_must_agree():
    with pytest.raises(InkstrokeError, match=r"\(4, 4\) image with a \(5, 5\) target"):
        iou(np.zeros((4, 4)), np.zeros((5, 5)))


def test_soft_iou_answers_to_partial_ink():
    from inkstroke.calligraphy.metrics import soft_iou

    target = np.zeros((8, 8))
    target[2:6, 2:6] = 1.0
    assert soft_iou(target, target) == 1.0 and soft_iou(target * 0, target * 0) == 1.0
    assert soft_iou(target * 0.5, target) == pytest.approx(0.5)  # iou() would say 0 or 1
