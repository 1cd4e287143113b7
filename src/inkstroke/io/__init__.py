"""Readers and writers of real pen-data formats, one module per format.

``IMPORTERS`` maps the format names of ``inkstroke data import FORMAT`` to
``"module:function"``; each function takes a path (plus keyword options) and
yields :class:`~inkstroke.ink.Ink` objects, raising
:class:`~inkstroke.errors.InkstrokeError` with the file and line on bad input.
Modules are imported lazily so that ``inkstroke --help`` stays fast.
"""

from __future__ import annotations

import functools
import importlib
from collections.abc import Callable, Iterator
from pathlib import Path

from inkstroke.errors import InkstrokeError
from inkstroke.ink import Ink

IMPORTERS: dict[str, str] = {
    "iam": "inkstroke.io.iam:iter_iam",
    "unipen": "inkstroke.io.unipen:iter_unipen",
    "hanzi": "inkstroke.io.hanzi:iter_hanzi",
    "mmah": "inkstroke.io.hanzi:iter_mmah",
    "inkml": "inkstroke.io.inkml:iter_inkml",
    "quickdraw": "inkstroke.io.quickdraw:iter_quickdraw",
    "stroke3": "inkstroke.io.stroke3:iter_stroke3",
    "hershey": "inkstroke.io.hershey:iter_hershey",
    "font": "inkstroke.io.font:iter_font",
}


def importer(fmt: str) -> Callable[..., Iterator[Ink]]:
    """The importer function for a format name."""
    if fmt not in IMPORTERS:
        raise InkstrokeError(f"unknown format {fmt!r}; choose one of {', '.join(IMPORTERS)}")
    module, func = IMPORTERS[fmt].split(":")
    read = getattr(importlib.import_module(module), func)

    @functools.wraps(read)  # keeps the signature: ``data import`` asks which options it takes
    def checked(path, *args, **kwargs) -> Iterator[Ink]:
        """The importer's inks, each refused if NaN, infinite or absurdly large."""
        for k, ink in enumerate(read(path, *args, **kwargs)):
            yield ink.check_finite(f"{path}: ink {k}")

    return checked


def read_ink(spec: str | Path) -> Ink:
    """One ink from a JSON or InkML file, or ``DATASET.inks:INDEX``; NaN,
    infinite or absurdly large coordinates are refused here, once for every
    command that reads an ink."""
    return _read_one(spec).check_finite(str(spec))


def _read_one(spec: str | Path) -> Ink:
    text = str(spec)
    if ".inks:" in text:
        from inkstroke.io.container import InkDataset

        path, _, index = text.rpartition(":")
        try:
            i = int(index)
        except ValueError:
            raise InkstrokeError(f"{spec}: the index after ':' must be an integer") from None
        try:
            return InkDataset(path)[i]
        except IndexError as e:
            raise InkstrokeError(str(e)) from None
    path = Path(text)
    if not path.exists():
        raise InkstrokeError(f"{path}: no such file")
    suffix = path.suffix.lower()
    if suffix == ".json":
        from inkstroke.io.jsonink import read_json

        return read_json(path)
    if suffix == ".inkml":
        from inkstroke.io.inkml import read_inkml

        return read_inkml(path)
    if suffix == ".xml":  # an IAM On-Line lineStrokes file
        from inkstroke.io.iam import read_line_strokes

        strokes, times = read_line_strokes(path)
        return Ink(strokes, times=times, units="ebeam", y_axis="down", source=str(path))
    if suffix in FIRST_INK_OF:
        for ink in importer(FIRST_INK_OF[suffix])(path):
            return ink
        raise InkstrokeError(f"{path}: holds no ink")
    known = ", ".join([".json", ".inkml", ".xml", *FIRST_INK_OF])
    raise InkstrokeError(f"{path}: cannot read an ink from {suffix or 'a file without suffix'}; use {known} or DATASET.inks:INDEX")


# single-ink readers for files that can hold many: the first ink is taken
FIRST_INK_OF = {".dat": "unipen", ".ndjson": "quickdraw", ".npy": "stroke3"}
