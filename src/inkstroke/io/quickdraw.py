"""Google Quick, Draw! ``.ndjson`` reader: one JSON drawing per line.

Both published flavours are read::

    simplified: {"word": "cat", "countrycode": "US", "recognized": true,
                 "key_id": "5201136883597312", "drawing": [[[x...], [y...]], ...]}
    raw:        ... "drawing": [[[x...], [y...], [t...]], ...]

The simplified drawings are aligned to a 256 x 256 box; raw ones are in
screen pixels with t in milliseconds, converted here to seconds. y grows
downward. The drawer is anonymous, so ``writer`` is None.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path

import numpy as np

from inkstroke.errors import InkstrokeError
from inkstroke.ink import Ink


def _reject_constant(name: str):
    raise ValueError(f"{name} is not valid JSON")


def _stroke(value, where: str) -> np.ndarray:
    try:
        arr = np.asarray(value)
    except (ValueError, TypeError, OverflowError):
        arr = np.zeros(0)
    if (
        arr.ndim != 2
        or arr.shape[0] not in (2, 3)
        or arr.shape[1] == 0
        or arr.dtype.kind not in "iuf"
    ):
        raise InkstrokeError(
            f"{where}: must be [[x...], [y...]] or [[x...], [y...], [t...]] of equal, non-zero length"
        )
    arr = arr.astype(np.float64)
    if not np.isfinite(arr).all():
        raise InkstrokeError(f"{where}: holds a NaN or infinite value")
    return arr


def drawing_to_ink(record, where: str) -> Ink:
    """The ink of one decoded QuickDraw record; ``where`` prefixes errors."""
    if not isinstance(record, dict):
        raise InkstrokeError(f"{where}: a drawing record must be a JSON object")
    drawing = record.get("drawing")
    if not isinstance(drawing, list) or not drawing:
        raise InkstrokeError(f"{where}: 'drawing' must be a non-empty list of strokes")
    arrays = [_stroke(s, f"{where}: drawing[{i}]") for i, s in enumerate(drawing)]
    if len({len(a) for a in arrays}) != 1:
        raise InkstrokeError(f"{where}: some strokes have times and some do not")
    word = record.get("word")
    if word is not None and not isinstance(word, str):
        raise InkstrokeError(f"{where}: 'word' must be a string")
    meta = {k: record[k] for k in ("countrycode", "recognized") if k in record}
    if "key_id" in record:
        meta["key_id"] = str(record["key_id"])
    return Ink(
        [a[:2].T for a in arrays],
        times=[a[2] / 1000.0 for a in arrays] if len(arrays[0]) == 3 else None,
        text=word,
        writer=None,
        source="quickdraw",
        units="px",
        y_axis="down",
        meta=meta,
    )


def _files(path: Path) -> list[Path]:
    if path.is_dir():
        files = sorted(p for p in path.iterdir() if p.suffix == ".ndjson" and p.is_file())
        if not files:
            raise InkstrokeError(f"{path}: no .ndjson files in this folder")
        return files
    if not path.is_file():
        raise InkstrokeError(f"{path}: no such file")
    return [path]


def iter_quickdraw(path: str | os.PathLike) -> Iterator[Ink]:
    """Inks of a QuickDraw ``.ndjson`` file, or of every such file in a folder."""
    for file in _files(Path(path)):
        count = 0
        with open(file, "rb") as f:
            for n, raw in enumerate(f, 1):
                where = f"{file}:{n}"
                try:
                    line = raw.decode("utf-8")
                except UnicodeDecodeError as e:
                    raise InkstrokeError(f"{where}: not valid UTF-8 ({e.reason})") from None
                if not line.strip():
                    continue
                try:
                    record = json.loads(line, parse_constant=_reject_constant)
                except json.JSONDecodeError as e:
                    raise InkstrokeError(
                        f"{where}: invalid JSON ({e.msg}, column {e.colno})"
                    ) from None
                except (ValueError, RecursionError) as e:
                    raise InkstrokeError(f"{where}: invalid JSON ({e})") from None
                count += 1
                yield drawing_to_ink(record, where)
        if count == 0:
            raise InkstrokeError(f"{file}: no drawings (empty file)")
