"""The ``.inks`` dataset container: many inks in one memory-mapped file.

Layout (little-endian)::

    b"INKS\\x01\\n"                      magic, 6 bytes
    uint64 header_length
    header: UTF-8 JSON                  {"arrays": {name: [dtype, shape, offset]}, "inks": [...], ...}
    padding to 64 bytes, then the raw arrays, each 64-byte aligned

Arrays: ``points`` (P, 2) float32, ``stroke_offsets`` (S + 1,) int64 into
points, ``ink_offsets`` (N + 1,) int64 into strokes, and optionally ``times`` and
``pressures`` (P,) float32 with NaN where an ink has none. Per-ink metadata
(text, writer, source, split) lives in the JSON header, so ``data info`` needs
no array access, and :class:`InkDataset` reads an ink with two slices of a
memory map.
"""

from __future__ import annotations

import json
import os
import tempfile
from collections import Counter
from collections.abc import Iterable, Sequence
from pathlib import Path

import numpy as np

from inkstroke.ink import Ink, InkError

MAGIC = b"INKS\x01\n"
ALIGN = 64
SPLITS = ("train", "valid", "test")


def check_output_path(path: str | os.PathLike, suffixes: Sequence[str] | None = None) -> Path:
    """``path`` if it can be written, in one of ``suffixes`` (lower case, with
    the dot; None: any); otherwise one clear error. Commands call it before
    their work, so that minutes of it are not lost to a typo in ``-o``."""
    path = Path(path)
    if suffixes is not None and path.suffix.lower() not in suffixes:
        raise InkError(f"{path}: unknown output format; use one of {', '.join(suffixes)}")
    directory = path.parent if str(path.parent) else Path(".")
    if not directory.is_dir():
        raise InkError(f"{path}: the folder {directory} does not exist")
    if not os.access(directory, os.W_OK):
        raise InkError(f"{path}: the folder {directory} is not writable")
    if path.is_dir():
        raise InkError(f"{path}: is a folder")
    return path


def atomic_write_bytes(path: str | os.PathLike, write) -> None:
    """Call ``write(fileobj)`` on a temporary file beside ``path``, then rename it.

    A failure leaves no partial file and whatever was at ``path`` untouched.
    """
    path = Path(path)
    directory = path.parent if str(path.parent) else Path(".")
    if not directory.is_dir():
        raise InkError(f"{path}: the folder {directory} does not exist")
    if path.is_dir():
        raise InkError(f"{path}: is a folder")
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=directory)
    try:
        with os.fdopen(fd, "wb") as f:
            write(f)
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)  # mkstemp makes files private; outputs are not
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def write_inks(
    path: str | os.PathLike,
    inks: Iterable[Ink],
    splits: Sequence[str] | None = None,
    meta: dict | None = None,
) -> int:
    """Write inks (with optional per-ink split names) to ``path``; returns the count."""
    points, stroke_off, ink_off = [], [0], [0]
    times, pressures, records = [], [], []
    any_t = any_p = False
    y_axes, units = set(), set()
    for k, ink in enumerate(inks):
        ink = ink.y_down()
        y_axes.add(ink.y_axis)
        units.add(ink.units)
        for i, s in enumerate(ink.strokes):
            points.append(s.astype(np.float32))
            stroke_off.append(stroke_off[-1] + len(s))
            t = ink.times[i] if ink.times is not None else np.full(len(s), np.nan)
            p = ink.pressures[i] if ink.pressures is not None else np.full(len(s), np.nan)
            times.append(t.astype(np.float32))
            pressures.append(p.astype(np.float32))
        any_t |= ink.times is not None
        any_p |= ink.pressures is not None
        ink_off.append(ink_off[-1] + len(ink.strokes))
        split = splits[k] if splits is not None else "train"
        if split not in SPLITS:
            raise InkError(f"unknown split {split!r} for ink {k}; use one of {SPLITS}")
        records.append(
            {"text": ink.text, "writer": ink.writer, "source": ink.source, "split": split}
            | ({"meta": ink.meta} if ink.meta else {})
        )
    arrays = {
        "points": np.concatenate(points) if points else np.zeros((0, 2), np.float32),
        "stroke_offsets": np.asarray(stroke_off, dtype=np.int64),
        "ink_offsets": np.asarray(ink_off, dtype=np.int64),
    }
    if any_t:
        arrays["times"] = np.concatenate(times)
    if any_p:
        arrays["pressures"] = np.concatenate(pressures)
    header = {
        "version": 1,
        "y_axis": "down",
        "units": units.pop() if len(units) == 1 else "mixed",
        "meta": meta or {},
        "inks": records,
        "arrays": {},
    }
    offset = 0
    for name, arr in arrays.items():
        offset = -(-offset // ALIGN) * ALIGN
        header["arrays"][name] = [arr.dtype.str, list(arr.shape), offset]
        offset += arr.nbytes
    blob = json.dumps(header, ensure_ascii=False).encode()

    def write(f) -> None:
        f.write(MAGIC)
        f.write(np.uint64(len(blob)).tobytes())
        f.write(blob)
        base = -(-(len(MAGIC) + 8 + len(blob)) // ALIGN) * ALIGN
        f.write(b"\0" * (base - f.tell()))
        for name, arr in arrays.items():
            f.write(b"\0" * (base + header["arrays"][name][2] - f.tell()))
            f.write(np.ascontiguousarray(arr).tobytes())

    atomic_write_bytes(path, write)
    return len(records)


class InkDataset(Sequence[Ink]):
    """Read-only, memory-mapped view of an ``.inks`` file."""

    def __init__(self, path: str | os.PathLike):
        self.path = Path(path)
        try:
            with open(self.path, "rb") as f:
                magic = f.read(len(MAGIC))
                if magic != MAGIC:
                    raise InkError(f"{self.path}: not an .inks file (bad magic {magic!r})")
                n = int(np.frombuffer(f.read(8), dtype=np.uint64)[0])
                self.header = json.loads(f.read(n).decode())
        except FileNotFoundError:
            raise InkError(f"{self.path}: no such file") from None
        except (json.JSONDecodeError, UnicodeDecodeError, IndexError, MemoryError, OverflowError) as e:
            raise InkError(f"{self.path}: corrupt .inks header ({e})") from None
        base = -(-(len(MAGIC) + 8 + n) // ALIGN) * ALIGN
        size = self.path.stat().st_size
        self.arrays: dict[str, np.ndarray] = {}
        for name, (dtype, shape, off) in self.header["arrays"].items():
            count = int(np.prod(shape))
            if base + off + count * np.dtype(dtype).itemsize > size:
                raise InkError(f"{self.path}: truncated (array {name!r} runs past the end)")
            self.arrays[name] = np.memmap(
                self.path, dtype=dtype, mode="r", offset=base + off, shape=tuple(shape)
            ) if count else np.zeros(shape, dtype=dtype)
        self.records: list[dict] = self.header["inks"]

    def __len__(self) -> int:
        return len(self.records)

    def __getitem__(self, index):  # type: ignore[override]
        if isinstance(index, slice):
            return [self[i] for i in range(*index.indices(len(self)))]
        if not -len(self) <= index < len(self):
            raise IndexError(f"{self.path}: index {index} out of range (0..{len(self) - 1})")
        index %= len(self)
        a = self.arrays
        s0, s1 = a["ink_offsets"][index], a["ink_offsets"][index + 1]
        offs = np.asarray(a["stroke_offsets"][s0 : s1 + 1])
        p0, p1 = offs[0], offs[-1]
        pts = np.asarray(a["points"][p0:p1], dtype=np.float64)
        cuts = offs[1:-1] - p0
        strokes = np.split(pts, cuts)
        channels = {}
        for name in ("times", "pressures"):
            if name in a:
                vals = np.asarray(a[name][p0:p1], dtype=np.float64)
                if len(vals) and not np.isnan(vals).all():
                    channels[name] = np.split(vals, cuts)
        rec = self.records[index]
        return Ink(
            strokes,
            text=rec.get("text"),
            writer=rec.get("writer"),
            source=rec.get("source"),
            units=self.header.get("units", "unit"),
            y_axis="down",
            meta=dict(rec.get("meta", {})),
            **channels,
        )

    def indices(self, split: str) -> list[int]:
        return [i for i, r in enumerate(self.records) if r.get("split") == split]

    def summary(self) -> dict:
        """Counts for ``data info``: inks, writers, characters, points, splits."""
        chars = Counter(c for r in self.records for c in (r.get("text") or ""))
        per_split = Counter(r.get("split") for r in self.records)
        writers_per = {
            s: len({r.get("writer") for r in self.records if r.get("split") == s}) for s in SPLITS
        }
        return {
            "inks": len(self),
            "strokes": int(len(self.arrays["stroke_offsets"]) - 1),
            "points": int(len(self.arrays["points"])),
            "writers": len({r.get("writer") for r in self.records}),
            "labelled": sum(1 for r in self.records if r.get("text")),
            "distinct_characters": len(chars),
            "characters": "".join(sorted(chars)),
            "splits": {s: per_split.get(s, 0) for s in SPLITS},
            "writers_per_split": writers_per,
            "has_times": "times" in self.arrays,
            "has_pressures": "pressures" in self.arrays,
            "meta": self.header.get("meta", {}),
        }


def check_split_shares(valid: float, test: float) -> None:
    """Refuse shares of writers that leave no split to train on."""
    for name, share in (("valid", valid), ("test", test)):
        if not 0 <= share < 1:
            raise InkError(f"the {name} share must lie in [0, 1), got {share:g}")
    if valid + test >= 1:
        raise InkError(f"the valid and test shares leave no writers to train on ({valid:g} + {test:g} >= 1)")


def writer_disjoint_splits(
    writers: Sequence[str | None], valid: float = 0.1, test: float = 0.1, seed: int = 0
) -> list[str]:
    """Assign whole writers to train/valid/test so no writer spans two splits."""
    check_split_shares(valid, test)
    uniq = sorted({w or "" for w in writers})
    rng = np.random.default_rng(seed)
    rng.shuffle(uniq)
    n = len(uniq)
    n_test = int(round(n * test)) if n > 2 else 0
    n_valid = int(round(n * valid)) if n > 2 else 0
    where = {}
    for i, w in enumerate(uniq):
        where[w] = "test" if i < n_test else "valid" if i < n_test + n_valid else "train"
    return [where[w or ""] for w in writers]
