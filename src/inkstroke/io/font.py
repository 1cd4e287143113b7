"""Centre lines of TrueType/OpenType glyphs: a font as a source of strokes.

A font holds outlines, not pen paths. We fill the outline, thin it to a
one-pixel skeleton, and cut the skeleton into polylines: that gives a plausible
single-line drawing of any glyph (Latin, kana, hanzi) to train or plot with.

Coordinates live in the Make Me a Hanzi frame ("mmah1024"): the em square
scaled to 1024 units, x from the glyph origin, y up from the baseline, and
image row 0 at y = 900. The Arphic Kaiti fonts that Make Me a Hanzi was drawn
from use exactly this frame (1024 units per em, ascender 900), so a rendered
glyph, the hanzi-writer-data outlines and their medians line up pixel for pixel.
"""

from __future__ import annotations

import functools
import logging
import string
from collections.abc import Iterable, Iterator
from pathlib import Path

import numpy as np
from fontTools.pens.basePen import BasePen
from fontTools.ttLib import TTFont

from inkstroke.errors import InkstrokeError
from inkstroke.ink import Ink

# gkai00mp's glyf table is longer than its loca table says; fontTools reads it
# correctly and logs a warning on every load, which users cannot act on.
logging.getLogger("fontTools.ttLib.tables._g_l_y_f").setLevel(logging.ERROR)

MMAH_EM = 1024.0
MMAH_TOP = 900.0  # y of image row 0 in the mmah frame
CURVE_STEPS = 8  # line pieces per Bezier segment: font curves are short
FIT_MARGIN = 0.06  # blank border around a glyph rendered with frame="fit"


# ------------------------------------------------------------------ outlines
class _FlattenPen(BasePen):
    """Collects closed contours as polygons, Bezier curves cut into line pieces."""

    def __init__(self, glyph_set=None):
        super().__init__(glyph_set)
        self.contours: list[np.ndarray] = []
        self._points: list[tuple[float, float]] = []

    def _moveTo(self, pt):
        self._end()
        self._points = [pt]

    def _lineTo(self, pt):
        self._points.append(pt)

    def _curveToOne(self, p1, p2, p3):
        t = np.linspace(0, 1, CURVE_STEPS + 1)[1:, None]
        p0, p1, p2, p3 = (
            np.asarray(p, dtype=np.float64) for p in (self._getCurrentPoint(), p1, p2, p3)
        )
        pts = (1 - t) ** 3 * p0 + 3 * (1 - t) ** 2 * t * p1 + 3 * (1 - t) * t**2 * p2 + t**3 * p3
        self._points.extend(map(tuple, pts))

    def _qCurveToOne(self, p1, p2):
        t = np.linspace(0, 1, CURVE_STEPS + 1)[1:, None]
        p0, p1, p2 = (np.asarray(p, dtype=np.float64) for p in (self._getCurrentPoint(), p1, p2))
        pts = (1 - t) ** 2 * p0 + 2 * (1 - t) * t * p1 + t**2 * p2
        self._points.extend(map(tuple, pts))

    def _closePath(self):
        self._end()

    _endPath = _closePath

    def _end(self):
        if len(self._points) >= 3:
            self.contours.append(np.asarray(self._points, dtype=np.float64))
        self._points = []


def svg_path_polygons(d: str) -> list[np.ndarray]:
    """The subpaths of SVG path data as closed polygons (curves flattened)."""
    from fontTools.svgLib.path.parser import parse_path

    pen = _FlattenPen()
    try:
        parse_path(d, pen)
    except (ValueError, IndexError, AssertionError) as e:
        raise InkstrokeError(
            f"bad SVG path data {d if len(d) <= 40 else d[:40] + '...'!r}: {e}"
        ) from None
    pen._end()  # a path that is never closed still counts
    return pen.contours


@functools.lru_cache(maxsize=8)
def _open_font(font_path: str) -> TTFont:
    path = Path(font_path)
    if not path.is_file():
        raise InkstrokeError(f"{path}: no such font file")
    try:
        # fontNumber picks the first face of a collection (.ttc) and is ignored otherwise.
        return TTFont(path, fontNumber=0, lazy=True)
    except Exception as e:  # fontTools raises many kinds on a file that is not a font
        raise InkstrokeError(f"{path}: not a TrueType/OpenType font ({e})") from None


@functools.lru_cache(maxsize=8)
def _cmap(font_path: str) -> dict[int, str]:
    return _open_font(font_path).getBestCmap() or {}


def check_font(font_path: str | Path) -> None:
    """Raise the one-line error for a missing file or one that is not a font now,
    before minutes of work that would reach it only later."""
    _cmap(str(font_path))


def font_has_glyph(char: str, font_path: str | Path) -> bool:
    """Whether the font maps ``char`` to a glyph (via its cmap)."""
    return ord(char) in _cmap(str(font_path))


def glyph_polygons(char: str, font_path: str | Path) -> list[np.ndarray]:
    """The outline contours of ``char`` in the mmah frame (1024 per em, y up)."""
    if len(char) != 1:
        raise InkstrokeError(f"one character at a time, got {char!r}")
    font = _open_font(str(font_path))
    name = _cmap(str(font_path)).get(ord(char))
    if name is None:
        raise InkstrokeError(f"{font_path}: the font has no glyph for {char!r} (U+{ord(char):04X})")
    glyph_set = font.getGlyphSet()
    pen = _FlattenPen(glyph_set)
    glyph_set[name].draw(pen)
    pen._end()
    scale = MMAH_EM / font["head"].unitsPerEm
    return [c * scale for c in pen.contours]


# ---------------------------------------------------------------- rasters
def mmah_to_pixels(points: np.ndarray, size: int) -> np.ndarray:
    """(x, y) in the mmah frame -> (column, row) in a ``size`` image; pixel
    (r, c) covers [c, c+1) x [r, r+1)."""
    s = size / MMAH_EM
    return np.column_stack([points[:, 0] * s, (MMAH_TOP - points[:, 1]) * s])


def fill_polygons(
    polygons: Iterable[np.ndarray], size: int, nonzero: bool = True, to_pixels=None
) -> np.ndarray:
    """A ``size`` x ``size`` bool image of polygons given in the mmah frame.

    With ``nonzero`` the winding rule of fonts applies (a contour running the
    other way cuts a hole); without it the polygons are simply united, which
    is what overlapping stroke outlines need. A pixel is inside when its centre is.
    """
    from skimage.draw import polygon as draw_polygon

    to_pixels = to_pixels or (lambda p: mmah_to_pixels(p, size))
    winding = np.zeros((size, size), dtype=np.int16)
    for poly in polygons:
        px = to_pixels(poly) - 0.5  # skimage samples pixel centres at integer coordinates
        rr, cc = draw_polygon(px[:, 1], px[:, 0], shape=(size, size))
        # A simple contour winds once round the points inside it, its way given by the
        # sign of its area; a hole runs the other way than its outer contour and cancels.
        x, y = poly[:, 0], poly[:, 1]
        turns = np.sign(np.dot(x, np.roll(y, -1)) - np.dot(y, np.roll(x, -1)))
        winding[rr, cc] += int(turns) if nonzero else 1
    return winding != 0


def _fit_transform(polygons: list[np.ndarray], size: int):
    """Map (x, y) -> pixels so that the glyph's box fills the image, aspect kept."""
    pts = np.concatenate(polygons)
    lo, hi = pts.min(axis=0), pts.max(axis=0)
    span = max(float((hi - lo).max()), 1e-9)
    s = size * (1 - 2 * FIT_MARGIN) / span
    centre = (lo + hi) / 2

    def to_pixels(p: np.ndarray) -> np.ndarray:
        return np.column_stack(
            [(p[:, 0] - centre[0]) * s + size / 2, (centre[1] - p[:, 1]) * s + size / 2]
        )

    def to_frame(px: np.ndarray) -> np.ndarray:
        return np.column_stack(
            [(px[:, 0] - size / 2) / s + centre[0], centre[1] - (px[:, 1] - size / 2) / s]
        )

    return to_pixels, to_frame


def glyph_image(
    char: str, font_path: str | Path, size: int = 256, frame: str = "mmah"
) -> np.ndarray:
    """The filled glyph as a ``size`` x ``size`` bool image.

    ``frame="mmah"`` places the em square like Make Me a Hanzi (row 0 = y 900),
    so the image compares pixel for pixel with hanzi-writer-data; ``"fit"``
    scales the glyph's own box to fill the image, for the most pixels per stroke.
    """
    polygons = glyph_polygons(char, font_path)
    if not polygons:
        return np.zeros((size, size), dtype=bool)
    if frame == "mmah":
        return fill_polygons(polygons, size)
    if frame == "fit":
        return fill_polygons(polygons, size, to_pixels=_fit_transform(polygons, size)[0])
    raise InkstrokeError(f"unknown glyph frame {frame!r}; use 'mmah' or 'fit'")


# ---------------------------------------------------------- centre lines
def _pixel_neighbours(pixels: set) -> dict:
    """8-neighbours of each skeleton pixel, less a diagonal one that an
    orthogonal neighbour already reaches: a staircase then reads as a line
    (two neighbours per pixel), not as a chain of junctions."""
    out = {}
    for r, c in pixels:
        orth = [
            (r + dr, c + dc)
            for dr, dc in ((-1, 0), (1, 0), (0, -1), (0, 1))
            if (r + dr, c + dc) in pixels
        ]
        diag = [
            (r + dr, c + dc)
            for dr, dc in ((-1, -1), (-1, 1), (1, -1), (1, 1))
            if (r + dr, c + dc) in pixels
            and (r + dr, c) not in pixels
            and (r, c + dc) not in pixels
        ]
        out[(r, c)] = orth + diag
    return out


def _skeleton_graph(skel: np.ndarray) -> tuple[list[tuple[int, int, np.ndarray]], list[np.ndarray]]:
    """Cut a skeleton into edges ``(node, node, points)`` and node centres.

    Nodes are endpoints (one neighbour), lone pixels and clusters of junction
    pixels (three or more neighbours); an edge runs through two-neighbour pixels
    and starts and ends at its nodes' centres, so edges that meet touch. A loop
    with no node at all (an 'o') is an edge from node -1 to itself.
    Points are (row, column) pixel indices.
    """
    pixels = {(int(r), int(c)) for r, c in np.argwhere(skel)}
    nbrs = _pixel_neighbours(pixels)
    node_of: dict[tuple[int, int], int] = {}
    centres: list[np.ndarray] = []
    for p in sorted(pixels):
        if p in node_of or len(nbrs[p]) == 2:
            continue
        node_of[p], cluster, todo = len(centres), [p], [p]
        while todo and len(nbrs[p]) > 2:  # flood the cluster of junction pixels
            for n in nbrs[todo.pop()]:
                if n not in node_of and len(nbrs[n]) > 2:
                    node_of[n] = node_of[p]
                    cluster.append(n)
                    todo.append(n)
        centres.append(np.mean(cluster, axis=0))

    edges: list[tuple[int, int, np.ndarray]] = []
    seen: set = set()
    for p in sorted(node_of):
        for first in nbrs[p]:
            if first in node_of:  # two nodes side by side: a one-step edge
                pair = frozenset((node_of[p], node_of[first]))
                if len(pair) == 2 and pair not in seen:
                    seen.add(pair)
                    edges.append(
                        (
                            node_of[p],
                            node_of[first],
                            np.array([centres[node_of[p]], centres[node_of[first]]]),
                        )
                    )
                continue
            if first in seen:
                continue
            path, prev, cur = [centres[node_of[p]]], p, first
            while cur not in node_of:
                seen.add(cur)
                path.append(np.asarray(cur, dtype=np.float64))
                prev, cur = cur, next(n for n in nbrs[cur] if n != prev)
            path.append(centres[node_of[cur]])
            edges.append((node_of[p], node_of[cur], np.asarray(path)))
    for p in sorted(pixels - seen - set(node_of)):
        if p in seen:
            continue
        path, prev, cur = [], nbrs[p][0], p
        while cur not in seen:
            seen.add(cur)
            path.append(np.asarray(cur, dtype=np.float64))
            prev, cur = cur, next(n for n in nbrs[cur] if n != prev)
        edges.append((-1, -1, np.asarray(path + [path[0]])))
    return edges, centres


def _arc_length(path: np.ndarray) -> float:
    return float(np.linalg.norm(np.diff(path, axis=0), axis=1).sum())


def _direction_out(path: np.ndarray, reach: float) -> np.ndarray:
    """Unit vector from the first point of ``path`` towards the point ``reach``
    along it: the heading of a line leaving a junction, past the blur there."""
    arc = np.concatenate([[0.0], np.cumsum(np.linalg.norm(np.diff(path, axis=0), axis=1))])
    v = path[min(int(np.searchsorted(arc, reach)), len(path) - 1)] - path[0]
    n = np.linalg.norm(v)
    return v / n if n > 0 else v


def _strokes_from_graph(
    edges, centres, width: float, max_turn_deg: float = 40.0
) -> list[np.ndarray]:
    """Turn skeleton edges into strokes, ``width`` being the stroke width in pixels.

    Spurs (an endpoint hanging off a junction, shorter than ``width``) go. Two
    junctions closer than ``width`` become one, as a thick crossing skeletonizes
    into two forks joined by a short bridge. Then edges join: always through a
    node where just two meet, and through a junction when two run on within
    ``max_turn_deg``, so that '+' and 'x' give two strokes each.
    """
    lone = [c[None] for n, c in enumerate(centres) if not any(n in (a, b) for a, b, _ in edges)]
    edges = list(edges)
    while True:
        degree = np.zeros(len(centres), dtype=int)
        for a, b, _ in edges:
            np.add.at(degree, [n for n in (a, b) if n >= 0], 1)
        short = [(i, a, b) for i, (a, b, p) in enumerate(edges) if _arc_length(p) < width]
        spur = [
            i
            for i, a, b in short
            if a != b and min(degree[a], degree[b]) == 1 and max(degree[a], degree[b]) >= 3
        ]
        bridge = [(i, a, b) for i, a, b in short if a >= 0 and min(degree[a], degree[b]) >= 3]
        if spur:
            del edges[spur[0]]
        elif bridge:
            i, a, b = bridge[0]
            del edges[i]
            edges = [(a if u == b else u, a if v == b else v, p) for u, v, p in edges]
        else:
            break

    paths = {i: p for i, (_, _, p) in enumerate(edges)}
    ends = {i: [a, b] for i, (a, b, _) in enumerate(edges)}
    cos_limit = -np.cos(np.radians(max_turn_deg))
    for node in range(len(centres)):
        while True:
            touching = [(i, k) for i, e in ends.items() for k in (0, 1) if e[k] == node]
            leaving = {
                (i, k): _direction_out(paths[i] if k == 0 else paths[i][::-1], width)
                for i, k in touching
            }
            pairs = [
                (float(leaving[x] @ leaving[y]), x, y)
                for n, x in enumerate(touching)
                for y in touching[n + 1 :]
                if x[0] != y[0]
            ]
            if len(touching) > 2:
                pairs = [q for q in pairs if q[0] < cos_limit]
            if not pairs:
                break
            _, (i, ki), (j, kj) = min(pairs)
            into = paths[i] if ki == 1 else paths[i][::-1]
            out = paths[j] if kj == 0 else paths[j][::-1]
            paths[i] = np.vstack([into, out[1:]])
            ends[i] = [ends[i][1 - ki], ends[j][1 - kj]]
            del paths[j], ends[j]
    return list(paths.values()) + lone


def _orient_and_order(strokes: list[np.ndarray]) -> list[np.ndarray]:
    """Writing-like defaults for (x, y-down) strokes: a mostly horizontal one
    runs left to right, any other top to bottom; strokes come top to bottom
    in bands of an eighth of the height, left to right within a band."""
    out = []
    for s in strokes:
        d = s[-1] - s[0]
        flip = d[0] < 0 if abs(d[0]) >= abs(d[1]) else d[1] < 0
        out.append(s[::-1] if flip else s)
    if not out:
        return out
    band = max(float(np.ptp(np.concatenate(out)[:, 1])), 1.0) / 8
    return sorted(out, key=lambda s: (int(s[:, 1].min() // band), float(s[:, 0].min())))


def glyph_centerlines(char: str, font_path: str | Path, size: int = 256) -> Ink:
    """The glyph thinned to single-line strokes, in the mmah frame (y up).

    The glyph is rendered with its own box filling a ``size`` image,
    skeletonized, cut at junctions, cleaned of spurs shorter than about a
    stroke width, joined where lines run on through a crossing, simplified
    with RDP (a pixel's tolerance), and ordered top-to-bottom, left-to-right
    as a default stroke order.
    """
    from scipy.ndimage import distance_transform_edt
    from skimage.morphology import skeletonize

    polygons = glyph_polygons(char, font_path)
    meta = {"font": str(font_path)}
    if not polygons:  # a space has no ink
        return Ink([], text=char, source="font", units="mmah1024", y_axis="up", meta=meta)
    to_pixels, to_frame = _fit_transform(polygons, size)
    filled = fill_polygons(polygons, size, to_pixels=to_pixels)
    skel = skeletonize(filled)
    half_width = float(np.median(distance_transform_edt(filled)[skel])) if skel.any() else 1.0
    edges, centres = _skeleton_graph(skel)
    paths = _strokes_from_graph(edges, centres, width=2.0 * half_width)
    # (row, col) indices -> (x, y-down) pixel centres; simplify in pixels, then map to the frame
    pixel_ink = Ink(_orient_and_order([p[:, ::-1] + 0.5 for p in paths])).simplify(0.75)
    strokes = [to_frame(p) for p in pixel_ink.strokes]
    return Ink(strokes, text=char, source="font", units="mmah1024", y_axis="up", meta=meta)


def iter_font(path: str | Path, text: str | None = None, size: int = 256) -> Iterator[Ink]:
    """One centre-line ink per character of ``text`` (whitespace skipped).

    Without ``text``: every printable ASCII character the font has.
    """
    path = Path(path)
    if text is None:
        text = "".join(c for c in string.printable if not c.isspace() and font_has_glyph(c, path))
        if not text:
            raise InkstrokeError(f"{path}: the font has no printable ASCII character; pass text=")
    for char in text:
        if not char.isspace():
            yield glyph_centerlines(char, path, size=size)
