"""Lay characters out in a grid: rows left to right, or columns right to left.

Every character owns a square cell of ``cell`` mm and keeps its place in the
em square (the 1024 frame, row 0 at y = 900), so that a small character such
as 口 stays small and 一 stays in the middle, as in print. Rows run left to
right and top to bottom; columns (traditional vertical writing) run top to
bottom and right to left. A newline starts a new row or column, and
``per_line`` wraps a long one. A space, or a character left out (``None``),
leaves its cell empty.
"""

from __future__ import annotations

import numpy as np

from inkstroke.errors import InkstrokeError
from inkstroke.ink import Ink

EM, TOP = 1024.0, 900.0
DIRECTIONS = ("rows", "columns")


def cells(text: str, direction: str = "rows", per_line: int = 0) -> list[tuple[int, int] | None]:
    """(row, column) of the cell of each character of ``text``, None for a newline."""
    if direction not in DIRECTIONS:
        raise InkstrokeError(f"unknown layout direction {direction!r}; use rows or columns")
    if per_line < 0:
        raise InkstrokeError(f"per_line must be 0 (no wrapping) or positive, got {per_line}")
    out, line, pos = [], 0, 0
    for c in text:
        if c == "\n":
            out.append(None)
            line, pos = line + 1, 0
            continue
        if per_line and pos == per_line:
            line, pos = line + 1, 0
        out.append((line, pos))
        pos += 1
    if direction == "columns":  # line = column counted from the right, pos = row
        n_cols = max((c[0] for c in out if c is not None), default=0) + 1
        return [None if c is None else (c[1], n_cols - 1 - c[0]) for c in out]
    return out


def layout(text: str, inks: list[Ink | None], direction: str = "rows", per_line: int = 0,
           cell: float = 20.0, gap: float = 2.0, margin: float = 10.0) -> Ink:
    """One y-down ink in millimetres, ``meta["page_mm"]`` the size that holds it
    and ``meta["grid"]`` its (rows, columns),
    from one ink per character of ``text`` in the mmah frame (None for a newline,
    a space or a character left out)."""
    if len(inks) != len(text):
        raise InkstrokeError(f"{len(inks)} inks for {len(text)} characters")
    if cell <= 0 or gap < 0 or margin < 0:
        raise InkstrokeError(f"cell must be positive and gap, margin not negative (got {cell}, {gap}, {margin})")
    where = cells(text, direction, per_line)
    pitch = cell + gap
    strokes = []
    for ink, at in zip(inks, where):
        if ink is None or at is None:
            continue
        row, col = at
        if ink.units != "mmah1024" or ink.y_axis != "up":
            raise InkstrokeError(f"layout takes inks in the mmah1024 frame, y up; got {ink.units}")
        x0, y0 = margin + col * pitch, margin + row * pitch
        for s in ink.strokes:
            strokes.append(np.column_stack([x0 + s[:, 0] / EM * cell, y0 + (TOP - s[:, 1]) / EM * cell]))
    used = [at for at in where if at is not None]
    rows = max((r for r, _ in used), default=0) + 1
    cols = max((c for _, c in used), default=0) + 1
    size = [2 * margin + cols * pitch - gap, 2 * margin + rows * pitch - gap]
    return Ink(strokes, text=text, units="mm", y_axis="down", source="inkstroke.hanzi",
               meta={"page_mm": size, "layout": direction, "grid": [rows, cols]})
