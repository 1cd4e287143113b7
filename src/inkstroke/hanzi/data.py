"""Pairs of (glyph image, medians in stroke order) for the glyph-conditioned writer.

The glyph is the only thing the writer sees of a character, so that it can
write characters it never trained on, from any font. Two choices make one
font's glyph look like another's:

* **The unit frame.** The glyph's own bounding box is scaled (aspect kept) to
  fill a unit square with a small margin, y down. Fonts place and size their
  glyphs differently in the em; the frame removes that, and the medians go
  through the same map, so image and strokes stay aligned.
* **Two channels.** Channel 0 is the filled glyph (anti-aliased), channel 1 its
  one-pixel skeleton: a Mincho glyph and a Kaiti glyph differ in weight and
  serifs far more than in their centre lines.

Each median is resampled to ``POINTS`` points evenly spaced along it, so a
stroke is one fixed-size vector and a character a short sequence of them (at
most ``MAX_STROKES``).

Training pairs come from hanzi-writer-data (Make Me a Hanzi, Arphic Public
License): the glyph from the Kaiti font the data was drawn from (gkai00mp,
else UKai), or, for the few characters neither has, the union of the data's
own stroke outlines. The held-out split is a hash of the character, so it
never changes with the data's order or size.
"""

from __future__ import annotations

import hashlib
import io
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from inkstroke.errors import InkstrokeError
from inkstroke.io.font import fill_polygons, font_has_glyph, glyph_polygons

SIZE = 64  # glyph image side, pixels
MARGIN = 0.08  # blank border of the unit frame
POINTS = 10  # points per resampled stroke
MAX_STROKES = 32  # longer characters (a few dozen of 9,574) are left out of training
HELD_OUT = 0.1  # fraction of characters the glyph model never trains on
GKAI = Path("/usr/share/fonts/truetype/arphic-gkai00mp/gkai00mp.ttf")
UKAI = Path("/usr/share/fonts/truetype/arphic/ukai.ttc")


@dataclass(frozen=True)
class UnitFrame:
    """The map between the mmah frame (1024 em, y up) and the unit frame (y down):
    ``u = (x - cx) * scale + 0.5``, ``v = (cy - y) * scale + 0.5``."""

    cx: float
    cy: float
    scale: float

    @classmethod
    def of(cls, polygons: list[np.ndarray]) -> UnitFrame:
        pts = np.concatenate(polygons)
        lo, hi = pts.min(axis=0), pts.max(axis=0)
        span = max(float((hi - lo).max()), 1e-6)
        centre = (lo + hi) / 2
        return cls(float(centre[0]), float(centre[1]), (1 - 2 * MARGIN) / span)

    def to_unit(self, points: np.ndarray) -> np.ndarray:
        return np.column_stack(
            [(points[:, 0] - self.cx) * self.scale + 0.5, (self.cy - points[:, 1]) * self.scale + 0.5]
        )

    def to_mmah(self, points: np.ndarray) -> np.ndarray:
        return np.column_stack(
            [(points[:, 0] - 0.5) / self.scale + self.cx, self.cy - (points[:, 1] - 0.5) / self.scale]
        )


def render_glyph(polygons: list[np.ndarray], frame: UnitFrame, nonzero: bool = True) -> np.ndarray:
    """The (2, SIZE, SIZE) uint8 image of glyph polygons (mmah frame): filled
    (drawn at twice the size and averaged, so thin strokes stay visible) and
    skeleton. ``nonzero=False`` unites overlapping contours (stroke outlines)."""
    from skimage.morphology import skeletonize

    big = 2 * SIZE
    filled = fill_polygons(polygons, big, nonzero, to_pixels=lambda p: frame.to_unit(p) * big)
    skeleton = skeletonize(filled)
    pool = lambda a: a.reshape(SIZE, 2, SIZE, 2)  # noqa: E731
    ink = pool(filled.astype(np.float32)).mean(axis=(1, 3))
    skel = pool(skeleton).any(axis=(1, 3))
    return np.stack([np.round(ink * 255), skel * 255]).astype(np.uint8)


def glyph_input(char: str, font_path: str | Path) -> tuple[np.ndarray, UnitFrame]:
    """The model's view of ``char`` in a font: its image and unit frame; an
    error naming the font when it lacks the character or draws it blank."""
    if len(char) != 1:
        raise InkstrokeError(f"one character at a time, got {char!r}")
    if not font_has_glyph(char, font_path):
        raise InkstrokeError(f"{font_path}: the font has no glyph for {char!r} (U+{ord(char):04X})")
    polygons = glyph_polygons(char, font_path)
    if not polygons:
        raise InkstrokeError(f"{font_path}: the glyph of {char!r} (U+{ord(char):04X}) is blank")
    frame = UnitFrame.of(polygons)
    return render_glyph(polygons, frame), frame


def resample_stroke(points: np.ndarray, n: int = POINTS) -> np.ndarray:
    """``n`` points evenly spaced along a polyline (a dot repeats its point)."""
    points = np.asarray(points, dtype=np.float64)
    seg = np.linalg.norm(np.diff(points, axis=0), axis=1)
    arc = np.concatenate([[0.0], np.cumsum(seg)])
    if arc[-1] <= 0:
        return np.repeat(points[:1], n, axis=0)
    at = np.linspace(0.0, arc[-1], n)
    return np.column_stack([np.interp(at, arc, points[:, 0]), np.interp(at, arc, points[:, 1])])


def is_held_out(char: str, fraction: float = HELD_OUT) -> bool:
    """Whether ``char`` is in the held-out split: a hash, stable across runs."""
    h = int.from_bytes(hashlib.sha1(char.encode("utf-8")).digest()[:8], "big")
    return h / 2**64 < fraction


def training_glyph(char: str, source=None) -> tuple[list[np.ndarray], bool, str]:
    """(polygons, nonzero rule, where from) of a data character's glyph."""
    for font in (GKAI, UKAI):
        if font.is_file() and font_has_glyph(char, font):
            polygons = glyph_polygons(char, font)
            if polygons:
                return polygons, True, font.name
    from inkstroke.io.hanzi import outline_polygons

    return outline_polygons(char, source), False, "outlines"


@dataclass
class HanziData:
    """Every data character: ``images`` (N, 2, SIZE, SIZE) uint8 from the
    Kaiti, ``strokes`` (N, MAX_STROKES, POINTS, 2) float32 in the unit frame
    (zero-padded), ``counts`` (N,) strokes per character, and the characters.

    ``other_images`` (F, N, 2, SIZE, SIZE) are the glyphs of ``other_fonts``
    and ``other_strokes`` the medians carried over to them (blank where
    ``other_has`` (F, N) is False): other styles of the same characters, so
    that the model does not learn one font only.
    """

    chars: list[str]
    images: np.ndarray
    strokes: np.ndarray
    counts: np.ndarray
    other_fonts: list[str] = field(default_factory=list)
    other_images: np.ndarray | None = None
    other_strokes: np.ndarray | None = None
    other_has: np.ndarray | None = None

    def split(self, held_out: bool) -> np.ndarray:
        """Indices of the training (False) or held-out (True) characters."""
        return np.array([i for i, c in enumerate(self.chars) if is_held_out(c) == held_out])

    def add_fonts(self, fonts: list[str | Path], progress=None) -> None:
        """Render every character in each of ``fonts`` that has it, and carry
        its strokes over (see :func:`register`); a glyph the strokes do not
        fit (another form of the character) is left out."""
        images = np.zeros((len(fonts), *self.images.shape), dtype=np.uint8)
        strokes = np.zeros((len(fonts), *self.strokes.shape), dtype=np.float32)
        has = np.zeros((len(fonts), len(self.chars)), dtype=bool)
        for f, font in enumerate(fonts):
            for i, char in enumerate(self.chars):
                if font_has_glyph(char, font) and glyph_polygons(char, font):
                    image = glyph_input(char, font)[0]
                    fitted = register(self.images[i, 1], image[1])
                    if fitted is not None:
                        a, b = fitted
                        n = self.counts[i]
                        images[f, i] = image
                        strokes[f, i, :n] = self.strokes[i, :n] @ a.T + b
                        has[f, i] = True
                if progress is not None:
                    progress(1)
        self.other_fonts += [str(f) for f in fonts]
        if self.other_images is not None:
            images, strokes = np.concatenate([self.other_images, images]), np.concatenate([self.other_strokes, strokes])
            has = np.concatenate([self.other_has, has])
        self.other_images, self.other_strokes, self.other_has = images, strokes, has

    def save(self, path: str | Path) -> None:
        from inkstroke.io.container import atomic_write_bytes

        arrays = {"chars": np.array(self.chars), "images": self.images, "strokes": self.strokes,
                  "counts": self.counts}
        if self.other_fonts:
            arrays.update(other_fonts=np.array(self.other_fonts), other_images=self.other_images,
                          other_strokes=self.other_strokes, other_has=self.other_has)
        buf = io.BytesIO()
        np.savez_compressed(buf, **arrays)
        atomic_write_bytes(path, lambda f: f.write(buf.getvalue()))

    @classmethod
    def load(cls, path: str | Path) -> HanziData:
        try:
            with np.load(path) as z:
                data = cls([str(c) for c in z["chars"]], z["images"], z["strokes"], z["counts"])
                if "other_fonts" in z:
                    data.other_fonts = [str(f) for f in z["other_fonts"]]
                    data.other_images, data.other_has = z["other_images"], z["other_has"]
                    data.other_strokes = z["other_strokes"]
                return data
        except (OSError, KeyError, ValueError) as e:
            raise InkstrokeError(f"{path}: not a hanzi dataset of inkstroke ({e})") from None


def register(source: np.ndarray, target: np.ndarray, iterations: int = 30,
             max_residual: float = 1.6) -> tuple[np.ndarray, np.ndarray] | None:
    """The affine map (A, b) of the unit frame that lays the skeleton image
    ``source`` (S, S) onto ``target``, by iterative closest points in both
    directions; None when the skeletons still lie more than ``max_residual``
    pixels apart on average (the fonts draw different forms of the character).

    Fonts differ in slant, proportions and where a component sits; the unit
    frame alone leaves a Kaiti stroke several pixels off a Mincho glyph, and
    an affine map takes most of that away.
    """
    from scipy.spatial import cKDTree

    src = (np.argwhere(source > 127)[:, ::-1] + 0.5) / SIZE
    dst = (np.argwhere(target > 127)[:, ::-1] + 0.5) / SIZE
    if len(src) < 3 or len(dst) < 3:
        return None
    to_dst = cKDTree(dst)
    a, b = np.eye(2), np.zeros(2)
    ones = np.ones((len(src) + len(dst), 1))
    for _ in range(iterations):
        moved = src @ a.T + b
        _, j = to_dst.query(moved)
        # each target point pulls the source point that lies nearest to it, once moved
        _, k = cKDTree(moved).query(dst)
        x = np.hstack([np.vstack([src, src[k]]), ones])
        y = np.vstack([dst[j], dst])
        sol = np.linalg.lstsq(x, y, rcond=None)[0]
        a, b = sol[:2].T, sol[2]
    moved = src @ a.T + b
    residual = (to_dst.query(moved)[0].mean() + cKDTree(moved).query(dst)[0].mean()) / 2 * SIZE
    return (a, b) if residual <= max_residual else None


def build_dataset(source=None, chars: list[str] | None = None, progress=None) -> HanziData:
    """Render the glyph and resample the medians of every character of
    hanzi-writer-data (``source``: see :func:`inkstroke.io.hanzi.character_ink`)
    that has at most MAX_STROKES strokes; ``progress(n)`` is called per character."""
    from inkstroke.io.hanzi import available_characters, load_character

    chars = available_characters(source) if chars is None else chars
    kept, images, strokes, counts = [], [], [], []
    for char in chars:
        medians = [np.asarray(m, dtype=np.float64) for m in load_character(char, source)["medians"]]
        if 0 < len(medians) <= MAX_STROKES:
            polygons, nonzero, _ = training_glyph(char, source)
            frame = UnitFrame.of(polygons)
            padded = np.zeros((MAX_STROKES, POINTS, 2), dtype=np.float32)
            for i, m in enumerate(medians):
                padded[i] = resample_stroke(frame.to_unit(m))
            kept.append(char)
            images.append(render_glyph(polygons, frame, nonzero))
            strokes.append(padded)
            counts.append(len(medians))
        if progress is not None:
            progress(1)
    if not kept:
        raise InkstrokeError("no character with stroke data to build a hanzi dataset from")
    return HanziData(kept, np.stack(images), np.stack(strokes), np.array(counts, dtype=np.int64))
