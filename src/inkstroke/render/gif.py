"""Animated GIFs that replay an ink in its writing order and at its speed.

The clock comes from the ink's ``times`` when it has them (pauses and all);
otherwise the pen moves at constant speed along the strokes and through the
air between them, so pen lifts still take time. Frames sample that clock
evenly and draw only what is new on one supersampled canvas, so a long ink
costs one rendering, not one per frame.
"""

from __future__ import annotations

import math
import os

import imageio.v3 as iio
import numpy as np

from inkstroke.errors import InkstrokeError
from inkstroke.ink import Ink
from inkstroke.io.container import atomic_write_bytes
from inkstroke.render.layout import check_stroke_width
from inkstroke.render.raster import Canvas, Color, raster_fit

# seconds the writing may play in: GIF frame delays are whole hundredths of a
# second, so a shorter replay has no frames to show, and a longer one is no replay
MIN_DURATION, MAX_DURATION = 0.1, 3600.0


def writing_clock(ink: Ink) -> list[np.ndarray]:
    """A time for every point, per stroke, starting at 0.

    Within a stroke the times strictly increase (ties are split by a negligible
    amount), so that any moment maps to one place on the stroke.
    """
    clock = _raw_clock(ink)
    eps = 1e-9 * max((float(c[-1]) for c in clock if len(c)), default=1.0)
    return [c + np.arange(len(c)) * eps for c in clock]


def _raw_clock(ink: Ink) -> list[np.ndarray]:
    if ink.times is not None:
        flat = np.concatenate(ink.times) if ink.times else np.zeros(0)
        if len(flat) and np.isfinite(flat).all() and flat.max() > flat[0]:
            flat = np.maximum.accumulate(flat - flat[0])  # time running backwards is held still
            return np.split(flat, np.cumsum([len(s) for s in ink.strokes])[:-1])
    clock, now, prev = [], 0.0, None
    for s in ink.strokes:
        if prev is not None and len(s):
            now += float(np.hypot(*(s[0] - prev)))
        steps = np.hypot(*np.diff(s, axis=0).T) if len(s) > 1 else np.zeros(0)
        clock.append(now + np.concatenate([[0.0], np.cumsum(steps)]))
        if len(s):
            now, prev = float(clock[-1][-1]), s[-1]
    if now == 0:  # only dots: one stroke after another
        clock = [np.full(len(s), float(i + 1)) for i, s in enumerate(ink.strokes)]
    return clock


def gif_frames(
    ink: Ink,
    height: float | None = None,
    width: float | None = None,
    ink_height: float | None = None,
    stroke_width: float = 2.0,
    color: Color = (0, 0, 0),
    background: Color = (255, 255, 255),
    margin: float = 4.0,
    duration: float = 3.0,
    fps: float = 20.0,
    max_frames: int = 120,
    hold: float = 1.5,
) -> tuple[list[np.ndarray], list[float]]:
    """Frames (H, W, 3 uint8) and how long each shows, in seconds.

    The writing plays in ``duration`` seconds with at most ``max_frames``
    frames; the last frame, the whole ink, stays ``hold`` seconds longer.
    Sizes are those of :func:`~inkstroke.render.raster.render_png_array`.
    """
    if not (MIN_DURATION <= duration <= MAX_DURATION):
        raise InkstrokeError(f"duration must lie between {MIN_DURATION:g} and {MAX_DURATION:g} s, got {duration:g}")
    if not (fps > 0 and math.isfinite(fps)) or max_frames < 1:
        raise InkstrokeError(f"fps must be positive and max_frames >= 1 (got {fps}, {max_frames})")
    check_stroke_width(stroke_width)
    ink = ink.y_down()
    canvas = Canvas(raster_fit(ink, height, width, ink_height, "bbox", stroke_width, margin), stroke_width)
    clock = writing_clock(ink)
    end = max((float(c[-1]) for c in clock if len(c)), default=0.0)
    n = int(min(max_frames, max(1, round(duration * fps))))
    frames, shown = [], -np.inf
    for k in range(1, n + 1):
        now = end * k / n
        for s, t in zip(ink.strokes, clock, strict=True):
            if len(s) == 0 or t[0] > now or t[-1] <= shown:
                continue
            inside = (t > shown) & (t < now)
            a, b = max(shown, t[0]), min(now, t[-1])
            ends = [np.array([[np.interp(v, t, s[:, 0]), np.interp(v, t, s[:, 1])]]) for v in (a, b)]
            canvas.polyline(np.vstack([ends[0], s[inside], ends[1]]))
        shown = now
        frames.append(canvas.to_array(color, background))
    durations = [duration / n] * n
    durations[-1] += hold
    return frames, durations


def save_gif(ink: Ink, path: str | os.PathLike, **opts) -> None:
    """Write the :func:`gif_frames` animation to ``path`` atomically, looping forever."""
    frames, durations = gif_frames(ink, **opts)
    data = iio.imwrite(
        "<bytes>", np.stack(frames), extension=".gif", duration=[d * 1000 for d in durations], loop=0
    )
    atomic_write_bytes(path, lambda f: f.write(data))
