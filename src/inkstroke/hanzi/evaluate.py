"""Judge written characters with Zinnia, a real online handwriting recogniser.

Zinnia (Debian ``zinnia-utils``, models from ``tegaki-zinnia-simplified-chinese``
and ``tegaki-zinnia-japanese``) classifies pen strokes, in order: a stroke
split in two, or two strokes swapped, costs it more than a wobbly line. That
makes it a fair judge of stroke order as well as of shape. It is loaded with
ctypes from ``libzinnia.so.0`` (no Python binding is packaged), which is what
``zinnia -m MODEL -n 5 FILE`` runs too.

A character goes to Zinnia in the 1024 em frame of Make Me a Hanzi, y down
(row = 900 - y), for generated strokes and reference medians alike: Zinnia
does not normalise position, so both must sit where the glyph sits.

Agreement with a reference uses a matching of strokes (Hungarian, on the
mean distance between strokes resampled to the same number of points):
``count`` is the share of characters with as many strokes as the reference,
``order_exact`` the share whose every stroke matches the reference stroke of
the same rank, and ``order_pairs`` the share of pairs of matched strokes that
come in the reference's order (Kendall concordance).
"""

from __future__ import annotations

import ctypes
import functools
import struct
from pathlib import Path

import numpy as np

from inkstroke.errors import InkstrokeError
from inkstroke.ink import Ink

ZINNIA_MODELS = {
    "zh": Path("/usr/share/tegaki/models/zinnia/handwriting-zh_CN.model"),
    "ja": Path("/usr/share/tegaki/models/zinnia/handwriting-ja.model"),
}
MODEL_PACKAGES = {"zh": "tegaki-zinnia-simplified-chinese", "ja": "tegaki-zinnia-japanese"}
EM = 1024
TOP = 900.0


def model_path(judge: str | Path) -> Path:
    """A judge name ("zh", "ja") or a Zinnia model file."""
    path = ZINNIA_MODELS.get(str(judge), Path(judge))
    if not path.is_file():
        hint = f"; install the Debian package {MODEL_PACKAGES[judge]}" if judge in MODEL_PACKAGES else ""
        raise InkstrokeError(f"{path}: no such Zinnia model{hint}")
    return path


@functools.lru_cache(maxsize=4)
def zinnia_classes(judge: str | Path) -> tuple[str, ...]:
    """The characters a Zinnia model can answer, read from the model file:
    a header (magic, version, count), then per class 16 bytes of UTF-8, a
    float bias and (index, weight) pairs ending at index -1."""
    path = model_path(judge)
    data = path.read_bytes()
    try:
        (count,) = struct.unpack_from("<I", data, 8)
        out, at = [], 12
        for _ in range(count):
            out.append(data[at : at + 16].rstrip(b"\0").decode("utf-8"))
            at += 20
            while struct.unpack_from("<i", data, at)[0] != -1:
                at += 8
            at += 8
    except (struct.error, UnicodeDecodeError) as e:
        raise InkstrokeError(f"{path}: not a Zinnia model file ({e})") from None
    return tuple(out)


class _Lib:
    """The few libzinnia calls we need, with their C signatures."""

    def __init__(self):
        try:
            lib = ctypes.CDLL("libzinnia.so.0")
        except OSError:
            raise InkstrokeError("libzinnia.so.0 not found; install the Debian package zinnia-utils") from None
        p, size, cstr = ctypes.c_void_p, ctypes.c_size_t, ctypes.c_char_p
        for name, args, res in [
            ("zinnia_recognizer_new", [], p), ("zinnia_recognizer_open", [p, cstr], ctypes.c_int),
            ("zinnia_recognizer_destroy", [p], None), ("zinnia_recognizer_classify", [p, p, size], p),
            ("zinnia_character_new", [], p), ("zinnia_character_destroy", [p], None),
            ("zinnia_character_clear", [p], None), ("zinnia_character_set_width", [p, size], None),
            ("zinnia_character_set_height", [p, size], None),
            ("zinnia_character_add", [p, size, ctypes.c_int, ctypes.c_int], ctypes.c_int),
            ("zinnia_result_value", [p, size], cstr), ("zinnia_result_size", [p], size),
            ("zinnia_result_destroy", [p], None),
        ]:
            fn = getattr(lib, name)
            fn.argtypes, fn.restype = args, res
        self.lib = lib


@functools.lru_cache(maxsize=1)
def _lib() -> _Lib:
    return _Lib()


class Zinnia:
    """One loaded Zinnia model: ``Zinnia("zh").classify(ink)`` -> top answers."""

    def __init__(self, judge: str | Path = "zh"):
        self.path = model_path(judge)
        self.z = _lib().lib
        rec = self.z.zinnia_recognizer_new()
        if not self.z.zinnia_recognizer_open(rec, str(self.path).encode()):
            self.z.zinnia_recognizer_destroy(rec)
            raise InkstrokeError(f"{self.path}: Zinnia cannot open this model")
        self.rec = rec
        self.char = self.z.zinnia_character_new()
        self.z.zinnia_character_set_width(self.char, EM)
        self.z.zinnia_character_set_height(self.char, EM)

    def __del__(self):
        if getattr(self, "char", None):
            self.z.zinnia_character_destroy(self.char)
        if getattr(self, "rec", None):
            self.z.zinnia_recognizer_destroy(self.rec)

    def classify(self, ink: Ink, n: int = 5) -> list[str]:
        """The ``n`` best answers for an ink in the mmah frame (y up); none for an empty ink."""
        if ink.units != "mmah1024" or ink.y_axis != "up":
            raise InkstrokeError(f"Zinnia takes inks in the mmah1024 frame, y up; got {ink.units}, y {ink.y_axis}")
        self.z.zinnia_character_clear(self.char)
        strokes = [s for s in ink.strokes if len(s)]
        if not strokes:
            return []
        for i, s in enumerate(strokes):
            for x, y in np.rint(np.column_stack([s[:, 0], TOP - s[:, 1]])).astype(int).tolist():
                self.z.zinnia_character_add(self.char, i, x, y)
        result = self.z.zinnia_recognizer_classify(self.rec, self.char, n)
        if not result:
            return []
        try:
            return [self.z.zinnia_result_value(result, k).decode("utf-8")
                    for k in range(self.z.zinnia_result_size(result))]
        finally:
            self.z.zinnia_result_destroy(result)


def _resampled(stroke: np.ndarray, n: int = 10) -> np.ndarray:
    from inkstroke.hanzi.data import resample_stroke

    return resample_stroke(stroke, n)


def stroke_agreement(ink: Ink, reference: Ink) -> dict:
    """Count, order_exact and order_pairs (see the module docstring) of one character."""
    from scipy.optimize import linear_sum_assignment

    gen = [_resampled(s) for s in ink.strokes if len(s)]
    ref = [_resampled(s) for s in reference.strokes if len(s)]
    out = {"count": float(len(gen) == len(ref)), "order_exact": 0.0, "order_pairs": 0.0}
    if not gen or not ref:
        return out
    cost = np.array([[np.linalg.norm(g - r, axis=1).mean() for g in gen] for r in ref])
    rows, cols = linear_sum_assignment(cost)  # rows: reference ranks, cols: generated ranks
    out["order_exact"] = float(len(gen) == len(ref) and (rows == cols).all())
    pairs = [(cols[i] < cols[j]) for i in range(len(rows)) for j in range(i + 1, len(rows))]
    out["order_pairs"] = float(np.mean(pairs)) if pairs else 1.0
    return out


def judge(inks: list[Ink], chars: list[str], zinnia: Zinnia, references: list[Ink] | None = None) -> dict:
    """Top-1/top-5 of inks written for ``chars`` (and of their references, with
    stroke agreement, when given), plus the characters read wrong."""
    if len(inks) != len(chars) or (references is not None and len(references) != len(chars)):
        raise InkstrokeError("one ink (and reference) per character")
    report: dict = {"n": len(chars)}
    sides = {"generated": inks} if references is None else {"generated": inks, "reference": references}
    for side, group in sides.items():
        answers = [zinnia.classify(ink) for ink in group]
        hits1 = [bool(a) and a[0] == c for a, c in zip(answers, chars)]
        report[side] = {
            "top1": float(np.mean(hits1)) if chars else 0.0,
            "top5": float(np.mean([c in a for a, c in zip(answers, chars)])) if chars else 0.0,
            "misread": "".join(c for c, hit in zip(chars, hits1) if not hit),
        }
    if references is not None:
        agree = [stroke_agreement(i, r) for i, r in zip(inks, references)]
        report["agreement"] = {k: float(np.mean([a[k] for a in agree])) if agree else 0.0
                               for k in ("count", "order_exact", "order_pairs")}
        if report["reference"]["top1"] > 0:
            report["top1_ratio"] = report["generated"]["top1"] / report["reference"]["top1"]
    return report


# ------------------------------------------------------------ character sets
SETS = ("held-out", "train", "japanese", "traditional")
IPA_MINCHO = Path("/usr/share/fonts/opentype/ipafont-mincho/ipam.ttf")


def _cjk(char: str) -> bool:
    return len(char) == 1 and 0x4E00 <= ord(char) <= 0x9FFF


def character_set(name: str, source=None) -> tuple[list[str], str, Path | None]:
    """(characters, judge, font) of a named evaluation set; font None is the Kaiti.

    * ``held-out`` / ``train``: hanzi-writer-data characters of that split that
      the simplified-Chinese Zinnia model knows, written from the Kaiti glyph.
    * ``japanese``: kanji the Japanese Zinnia model knows that neither
      hanzi-writer-data nor the Chinese Kaiti fonts have (shinjitai such as 図,
      kokuji such as 峠), written from the IPA Mincho glyph.
    * ``traditional``: characters outside hanzi-writer-data that UKai has
      (mostly traditional and variant forms, such as 剣 or 亀), judged by the
      Japanese model, the only one that knows them.
    """
    from inkstroke.hanzi.data import GKAI, UKAI, is_held_out
    from inkstroke.io.font import font_has_glyph
    from inkstroke.io.hanzi import available_characters

    data = set(available_characters(source))
    if name in ("held-out", "train"):
        want = name == "held-out"
        return [c for c in zinnia_classes("zh") if c in data and is_held_out(c) == want], "zh", None
    if name == "japanese":
        for f in (IPA_MINCHO, GKAI, UKAI):
            if not f.is_file():
                raise InkstrokeError(f"{f}: font missing; the japanese set needs it to tell Japanese-only kanji")
        chars = [c for c in zinnia_classes("ja") if _cjk(c) and c not in data and font_has_glyph(c, IPA_MINCHO)
                 and not font_has_glyph(c, GKAI) and not font_has_glyph(c, UKAI)]
        return chars, "ja", IPA_MINCHO
    if name == "traditional":
        if not UKAI.is_file():
            raise InkstrokeError(f"{UKAI}: font missing; install the Debian package fonts-arphic-ukai")
        return [c for c in zinnia_classes("ja") if _cjk(c) and c not in data and font_has_glyph(c, UKAI)], "ja", UKAI
    raise InkstrokeError(f"unknown character set {name!r}; use one of {', '.join(SETS)}")


def spread(chars: list[str], n: int) -> list[str]:
    """``n`` characters spread evenly over the list (all when ``n`` is 0 or more
    than there are): a fixed sample, the same on every run."""
    if n <= 0 or n >= len(chars):
        return list(chars)
    return [chars[i] for i in np.linspace(0, len(chars) - 1, n).round().astype(int)]


def evaluate(chars: list[str], judge_name: str = "zh", font: str | Path | None = None,
             method: str = "model", model: str | Path | None = None, references: bool = True,
             temperature: float = 0.0, seed: int = 0, beam: int | None = None, batch: int = 64,
             progress=None, views: int | None = None) -> dict:
    """Write ``chars`` by ``method`` and judge them; with ``references`` also
    judge the hanzi-writer-data medians of the same characters and report
    stroke agreement. ``progress(n)`` is called after each batch."""
    import time

    from inkstroke.hanzi.generate import BEAM, VIEWS, write_characters
    from inkstroke.io.hanzi import character_ink

    beam = BEAM if beam is None else beam
    views = VIEWS if views is None else views
    if not chars:
        raise InkstrokeError("no characters to evaluate")
    zinnia = Zinnia(judge_name)
    inks, seconds = [], 0.0
    for a in range(0, len(chars), batch):
        part = chars[a : a + batch]
        start = time.perf_counter()
        inks.extend(write_characters(part, font, method, model, temperature, seed + a, beam, views))
        seconds += time.perf_counter() - start
        if progress is not None:
            progress(len(part))
    refs = [character_ink(c) for c in chars] if references else None
    report = judge(inks, chars, zinnia, refs)
    report.update({"judge": judge_name, "method": method, "font": str(font) if font else "kaiti",
                   "model": str(model) if model else "default", "beam": beam, "views": views,
                   "chars_per_second": round(len(chars) / seconds, 2) if seconds > 0 else None})
    return report
