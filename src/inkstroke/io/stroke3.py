"""Stroke-3 arrays: sketch-rnn ``.npz`` files, single ``.npy`` arrays, and
folders of per-line ``.npy`` files with their sentences.

Stroke-3 rows are ``(dx, dy, pen_lift)``: offsets from the previous point (the
first row from the origin) and 1 on the last point of a stroke, exactly as in
:meth:`inkstroke.ink.Ink.to_stroke3`.

sketch-rnn's ``.npz`` files hold object arrays (one stroke-3 array per
drawing) under ``train``, ``valid`` and ``test``; object arrays are pickles,
so they are read with an unpickler that only rebuilds numpy arrays, never
arbitrary objects, and a downloaded file cannot run code.
"""

from __future__ import annotations

import io
import math
import os
import pickle
import re
import warnings
import zipfile
from collections.abc import Iterable, Iterator
from pathlib import Path

import numpy as np

from inkstroke.errors import InkstrokeError
from inkstroke.ink import Ink

SPLITS = ("train", "valid", "test")
# What pickled numpy arrays are made of, under numpy 1 and numpy 2 module names
# (protocol 2 pickles of Python 3 spell bytes as _codecs.encode calls).
SAFE_GLOBALS = {
    ("_codecs", "encode"),
    ("numpy.core.multiarray", "_reconstruct"),
    ("numpy._core.multiarray", "_reconstruct"),
    ("numpy.core.multiarray", "scalar"),
    ("numpy._core.multiarray", "scalar"),
    ("numpy", "ndarray"),
    ("numpy", "dtype"),
}


class _ArrayUnpickler(pickle.Unpickler):
    def find_class(self, module: str, name: str):
        if (module, name) not in SAFE_GLOBALS:
            raise pickle.UnpicklingError(f"refusing to load {module}.{name}")
        return super().find_class(module, name)


def _read_npy(f, where: str) -> np.ndarray:
    """One ``.npy`` stream; object arrays go through :class:`_ArrayUnpickler`."""
    fmt = np.lib.format
    try:
        with warnings.catch_warnings():  # sketch-rnn's Python 2 headers are fine
            warnings.filterwarnings("ignore", "Reading `.npy` or `.npz` file required")
            version = fmt.read_magic(f)
            if version not in ((1, 0), (2, 0)):
                raise InkstrokeError(f"{where}: unsupported .npy format version {version}")
            read_header = (
                fmt.read_array_header_1_0 if version == (1, 0) else fmt.read_array_header_2_0
            )
            shape, _, dtype = read_header(f)
            if dtype.hasobject:
                array = _ArrayUnpickler(f, encoding="latin1").load()
            else:
                start = f.tell()
                size = f.seek(0, os.SEEK_END)
                if math.prod(shape) * dtype.itemsize > size - start:
                    raise InkstrokeError(f"{where}: truncated (shorter than its header says)")
                f.seek(0)
                return fmt.read_array(f, allow_pickle=False)
    except InkstrokeError:
        raise
    except Exception as e:  # numpy and pickle raise many kinds on corrupt input
        raise InkstrokeError(
            f"{where}: not a readable .npy array ({type(e).__name__}: {e})"
        ) from None
    if not isinstance(array, np.ndarray) or array.shape != shape:
        raise InkstrokeError(f"{where}: the pickled array does not match its header")
    return array


def _ink(array, where: str, columns: str = "dx dy pen", **kwargs) -> Ink:
    """An ink from a stroke-3 array whose columns are in ``columns`` order."""
    if not isinstance(array, np.ndarray) or array.dtype.kind not in "iuf":
        raise InkstrokeError(f"{where}: expected a numeric stroke-3 array")
    if array.ndim != 2 or array.shape[1] != 3 or len(array) == 0:
        raise InkstrokeError(
            f"{where}: expected a non-empty (n, 3) stroke-3 array, got shape {array.shape}"
        )
    with np.errstate(all="ignore"):  # what does not fit a float64 is refused just below
        array = array.astype(np.float64)
    if not np.isfinite(array).all():
        raise InkstrokeError(f"{where}: holds a NaN or infinite value")
    if columns == "pen dx dy":
        array = array[:, [1, 2, 0]]
    return Ink.from_stroke3(array, **kwargs)


def _iter_npz(path: Path, y_axis: str) -> Iterator[Ink]:
    category = path.name.removesuffix(".npz").removesuffix(".full")
    try:
        archive = zipfile.ZipFile(path)
    except Exception as e:  # zipfile raises several kinds on corrupt input
        raise InkstrokeError(f"{path}: not a readable .npz archive ({e})") from None
    with archive:
        names = {n.removesuffix(".npy") for n in archive.namelist()}
        found = [s for s in SPLITS if s in names]
        if not found:
            raise InkstrokeError(f"{path}: no train/valid/test arrays (has {sorted(names)})")
        for split in found:
            where = f"{path}: {split}"
            try:
                data = archive.read(f"{split}.npy")
            except Exception as e:  # BadZipFile, zlib.error, EOFError, ...
                raise InkstrokeError(f"{where}: corrupt archive member ({e})") from None
            drawings = _read_npy(io.BytesIO(data), where)
            if drawings.ndim != 1:
                raise InkstrokeError(
                    f"{where}: expected a list of stroke-3 arrays, got shape {drawings.shape}"
                )
            for i, d in enumerate(drawings):
                yield _ink(
                    d,
                    f"{where}[{i}]",
                    text=category,
                    source="stroke3",
                    y_axis=y_axis,
                    meta={"split": split, "index": i},
                )


def _natural(path: Path) -> list:
    return [int(t) if t.isdigit() else t for t in re.split(r"(\d+)", path.name)]


def _iter_folder(path: Path, y_axis: str) -> Iterator[Ink]:
    files = sorted((p for p in path.iterdir() if p.suffix == ".npy" and p.is_file()), key=_natural)
    if not files:
        raise InkstrokeError(f"{path}: no .npy files in this folder")
    sentences_file = path / "sentences.txt"
    if not sentences_file.is_file():
        raise InkstrokeError(f"{path}: no sentences.txt beside the .npy files")
    raw = sentences_file.read_bytes()
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as e:
        line = raw[: e.start].count(b"\n") + 1
        raise InkstrokeError(f"{sentences_file}:{line}: not valid UTF-8 ({e.reason})") from None
    sentences = text.splitlines()
    if len(sentences) != len(files):
        raise InkstrokeError(
            f"{sentences_file}: {len(sentences)} lines for {len(files)} .npy files; they must match"
        )
    for file, sentence in zip(files, sentences, strict=True):
        with open(file, "rb") as f:
            array = _read_npy(f, str(file))
        yield _ink(
            array,
            str(file),
            "pen dx dy",
            text=sentence,
            source="stroke3",
            y_axis=y_axis,
            meta={"file": file.name},
        )


def iter_stroke3(path: str | os.PathLike, y_axis: str = "down") -> Iterator[Ink]:
    """Inks of a stroke-3 file or folder.

    * ``.npz`` (sketch-rnn): every drawing of ``train``, ``valid`` and
      ``test``, in that order, with ``meta["split"]`` and ``meta["index"]``;
      the text is the category, i.e. the file name (``cat.npz``,
      ``cat.full.npz`` -> ``"cat"``), as sketch-rnn keeps one file per word.
    * ``.npy``: one (n, 3) stroke-3 array, one ink.
    * a folder: per-line ``.npy`` arrays with columns ``(pen, dx, dy)`` and a
      UTF-8 ``sentences.txt`` whose line i is the text of the i-th ``.npy``
      file in natural name order (``line2.npy`` before ``line10.npy``; the
      same as plain sorting when names are zero-padded).

    The formats do not record which way y grows; sketch-rnn data grows it
    downward, so that is the default.
    """
    path = Path(path)
    if y_axis not in ("up", "down"):
        raise InkstrokeError(f"y_axis must be 'up' or 'down', got {y_axis!r}")
    if path.is_dir():
        yield from _iter_folder(path, y_axis)
    elif not path.is_file():
        raise InkstrokeError(f"{path}: no such file or folder")
    elif path.suffix == ".npz":
        yield from _iter_npz(path, y_axis)
    elif path.suffix == ".npy":
        with open(path, "rb") as f:
            array = _read_npy(f, str(path))
        yield _ink(array, str(path), source="stroke3", y_axis=y_axis, meta={"file": path.name})
    else:
        raise InkstrokeError(f"{path}: expected a .npz or .npy file, or a folder of .npy files")


def _stroke3_array(ink: Ink) -> np.ndarray:
    """int16 when that is exact, as sketch-rnn stores it; float64 otherwise."""
    s3 = ink.to_stroke3()
    small = s3.astype(np.int16)
    return small if np.array_equal(small, s3) else s3


def write_stroke3_npz(inks: Iterable[Ink], path: str | os.PathLike) -> None:
    """Write inks as a sketch-rnn ``.npz``; each goes to ``meta["split"]`` (default train)."""
    from inkstroke.io.container import atomic_write_bytes

    groups: dict[str, list[np.ndarray]] = {s: [] for s in SPLITS}
    for k, ink in enumerate(inks):
        split = ink.meta.get("split", "train")
        if split not in groups:
            raise InkstrokeError(f"ink {k}: unknown split {split!r}; use one of {SPLITS}")
        ink.check_finite(f"ink {k}")
        groups[split].append(_stroke3_array(ink))
    arrays = {}
    for split, drawings in groups.items():
        arrays[split] = np.empty(len(drawings), dtype=object)
        arrays[split][:] = drawings
    atomic_write_bytes(path, lambda f: np.savez_compressed(f, **arrays))
