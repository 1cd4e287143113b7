"""How close a rendering is to its target glyph: IoU, Dice and SSIM.

IoU and Dice compare the inked areas (density above one half); SSIM compares
the grey pictures, so it also sees tone, dry streaks and soft edges.
"""

from __future__ import annotations

import numpy as np

from inkstroke.errors import InkstrokeError


def _masks(pred: np.ndarray, target: np.ndarray, threshold: float) -> tuple[np.ndarray, np.ndarray]:
    if pred.shape != target.shape:
        raise InkstrokeError(f"cannot compare a {pred.shape} image with a {target.shape} target")
    return np.asarray(pred) > threshold, np.asarray(target) > threshold


def iou(pred: np.ndarray, target: np.ndarray, threshold: float = 0.5) -> float:
    """Intersection over union of the inked pixels (1.0 when both are blank)."""
    a, b = _masks(pred, target, threshold)
    union = np.count_nonzero(a | b)
    return 1.0 if union == 0 else np.count_nonzero(a & b) / union


def soft_iou(pred: np.ndarray, target: np.ndarray) -> float:
    """Σ min / Σ max of two ink-density pictures (1.0 when both are blank):
    unlike :func:`iou` it answers to sub-pixel changes, which a reward needs."""
    union = np.maximum(pred, target).sum()
    return 1.0 if union == 0 else float(np.minimum(pred, target).sum() / union)


def dice(pred: np.ndarray, target: np.ndarray, threshold: float = 0.5) -> float:
    """2 |A & B| / (|A| + |B|) of the inked pixels (1.0 when both are blank)."""
    a, b = _masks(pred, target, threshold)
    total = np.count_nonzero(a) + np.count_nonzero(b)
    return 1.0 if total == 0 else 2.0 * np.count_nonzero(a & b) / total


def ssim(pred: np.ndarray, target: np.ndarray) -> float:
    """Structural similarity of the two density pictures (7-pixel windows)."""
    from skimage.metrics import structural_similarity

    _masks(pred, target, 0.5)
    return float(
        structural_similarity(
            np.asarray(pred, dtype=np.float64), np.asarray(target, dtype=np.float64), data_range=1.0
        )
    )


def compare(pred: np.ndarray, target: np.ndarray) -> dict[str, float]:
    """``{"iou", "dice", "ssim"}`` of a density picture against a target."""
    return {"iou": iou(pred, target), "dice": dice(pred, target), "ssim": ssim(pred, target)}
