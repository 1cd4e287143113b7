"""Page layout: words of known width into lines, lines onto pages.

Units are millimetres, y down, origin at the page's top-left corner. Words
are generated first and measured, then wrapped greedily with their real
widths, so a line never overflows its margin.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from inkstroke.errors import InkstrokeError

PAGE_SIZES_MM = {"a3": (297.0, 420.0), "a4": (210.0, 297.0), "a5": (148.0, 210.0),
                 "a6": (105.0, 148.0), "letter": (215.9, 279.4), "legal": (215.9, 355.6)}


@dataclass
class PageLayout:
    page: str | tuple[float, float] = "a4"  # a name from PAGE_SIZES_MM or (width, height) in mm
    margin: float = 20.0  # mm on every side
    x_height: float = 3.0  # mm: the body height of the handwriting
    line_spacing: float = 3.2  # distance between baselines, in x-heights
    # Gap between words, in x-heights. 1.8 rather than a typographic ~0.9: the
    # model leaves gaps of up to 1.4 x-heights *inside* a word (3 % of its words
    # have one wider than 0.9), and with word gaps that small a reader (Tesseract
    # in the legibility judge) splits and merges words. Doubling the gap took
    # Tesseract CER from 0.539 to 0.513 on the 100 judge texts and 0.530 to
    # 0.519 on 100 test-split texts (same inks, only the layout changed;
    # docs/legibility/experiments.md). Pass word_spacing=0.9 for the old look.
    word_spacing: float = 1.8
    align: str = "left"  # left, center, right or justify

    def size(self) -> tuple[float, float]:
        if isinstance(self.page, str):
            key = self.page.lower()
            if key not in PAGE_SIZES_MM:
                raise InkstrokeError(f"unknown page size {self.page!r}; use one of {', '.join(PAGE_SIZES_MM)} or WxH in mm")
            return PAGE_SIZES_MM[key]
        return float(self.page[0]), float(self.page[1])

    def check(self) -> None:
        w, h = self.size()
        if self.align not in ("left", "center", "right", "justify"):
            raise InkstrokeError(f"unknown alignment {self.align!r}; use left, center, right or justify")
        for name, value in (("page width", w), ("page height", h), ("margin", self.margin),
                            ("x-height", self.x_height), ("line spacing", self.line_spacing),
                            ("word spacing", self.word_spacing)):
            if not math.isfinite(value):
                raise InkstrokeError(f"{name} must be a finite number, got {value:g}")
        if self.x_height <= 0 or self.margin < 0 or self.line_spacing <= 0:
            raise InkstrokeError("x-height and line spacing must be positive, margins non-negative")
        if self.word_spacing < 0:
            raise InkstrokeError(f"word spacing must not be negative, got {self.word_spacing:g}")
        if w - 2 * self.margin < 4 * self.x_height or h - 2 * self.margin < self.line_spacing * self.x_height:
            raise InkstrokeError(f"the page ({w:g}×{h:g} mm) leaves no room inside {self.margin:g} mm margins "
                                 f"for {self.x_height:g} mm handwriting")


def parse_page(text: str) -> str | tuple[float, float]:
    """``a4``, ``letter`` or ``WIDTHxHEIGHT`` (mm)."""
    if text.lower() in PAGE_SIZES_MM:
        return text.lower()
    try:
        w, h = (float(v) for v in text.lower().split("x"))
    except ValueError:
        raise InkstrokeError(f"page size {text!r}: use a name ({', '.join(PAGE_SIZES_MM)}) or WxH in mm") from None
    return w, h


@dataclass
class Placement:
    page: int
    line: int
    x: float  # left edge of the word, mm
    baseline: float  # y of the baseline, mm


def wrap(paragraphs: list[list[float]], layout: PageLayout) -> list[list[Placement]]:
    """Positions for every word (widths in mm) of every paragraph."""
    layout.check()
    pw, ph = layout.size()
    usable = pw - 2 * layout.margin
    gap = layout.word_spacing * layout.x_height
    pitch = layout.line_spacing * layout.x_height
    first_baseline = layout.margin + 1.6 * layout.x_height  # room for ascenders
    lines_per_page = max(int((ph - layout.margin - first_baseline) // pitch) + 1, 1)
    out: list[list[Placement]] = []
    line_no = 0

    def flush(words: list[tuple[int, float]], last: bool, para_out: list) -> None:
        nonlocal line_no
        widths = [w for _, w in words]
        total = sum(widths) + gap * (len(words) - 1)
        spare = usable - total
        extra = 0.0
        start = layout.margin
        if layout.align == "center":
            start += max(spare, 0) / 2
        elif layout.align == "right":
            start += max(spare, 0)
        elif layout.align == "justify" and not last and len(words) > 1:
            extra = max(spare, 0) / (len(words) - 1)
        page, row = divmod(line_no, lines_per_page)
        x = start
        for i, w in words:
            para_out[i] = Placement(page, line_no, x, first_baseline + row * pitch)
            x += w + gap + extra
        line_no += 1

    for widths in paragraphs:
        placed: list[Placement | None] = [None] * len(widths)
        line: list[tuple[int, float]] = []
        used = 0.0
        for i, w in enumerate(widths):
            need = w if not line else used + gap + w
            if line and need > usable:
                flush(line, False, placed)
                line, used = [], 0.0
                need = w
            line.append((i, w))
            used = need
        if line:
            flush(line, True, placed)
        elif not widths:
            line_no += 1  # an empty paragraph is a blank line
        out.append(placed)  # type: ignore[arg-type]
    return out
