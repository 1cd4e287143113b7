"""Chinese characters as strokes: hanzi-writer-data and Make Me a Hanzi.

Both come from Make Me a Hanzi (Arphic Public License): per character, each
stroke's outline as SVG path data and its median (centre line) in writing
order, in a 1024 frame with y up where image row = 900 - y. hanzi-writer-data
(npm, 9,574 characters) ships one ``<char>.json`` per character; Make Me a
Hanzi's own ``graphics.txt`` holds one JSON object per line.

The npm tarball is verified against its published sha512 and unpacked once
into the cache, so that one character costs one small file read.
"""

from __future__ import annotations

import base64
import functools
import hashlib
import json
import os
import shutil
import subprocess
import tarfile
import tempfile
from collections.abc import Iterator
from pathlib import Path

import numpy as np

from inkstroke.errors import InkstrokeError
from inkstroke.ink import Ink

PACKAGE = "hanzi-writer-data@2.0.1"
TARBALL = "hanzi-writer-data-2.0.1.tgz"
INTEGRITY = "sha512-nbQwM+MaryGoq7pBMIZLCd3lFq03nXuJuwku1+6UbjL58uU+9OULVcMkoNvNuJSoIV7f1bbPRfD4D/LQa5S7qg=="
ENV_VAR = "INKSTROKE_HANZI_DATA"
UNITS = "mmah1024"
KAITI_FONTS = (
    ("/usr/share/fonts/truetype/arphic-gkai00mp/gkai00mp.ttf", "fonts-arphic-gkai00mp"),
    ("/usr/share/fonts/truetype/arphic/ukai.ttc", "fonts-arphic-ukai"),
)


# ------------------------------------------------------------------ fetching
def default_cache_dir() -> Path:
    return Path.home() / ".cache" / "inkstroke" / "hanzi-writer-data"


def _check_integrity(tgz: Path) -> None:
    algo, _, expected = INTEGRITY.partition("-")
    digest = base64.b64encode(hashlib.new(algo, tgz.read_bytes()).digest()).decode()
    if digest != expected:
        raise InkstrokeError(
            f"{tgz}: {algo} is {digest}, not the published {expected}; delete it and fetch again"
        )


def _npm_pack(cache_dir: Path) -> Path:
    with tempfile.TemporaryDirectory(dir=cache_dir) as tmp:
        try:
            run = subprocess.run(
                ["npm", "pack", PACKAGE, "--silent"],
                cwd=tmp,
                capture_output=True,
                text=True,
                timeout=600,
            )
        except FileNotFoundError:
            raise InkstrokeError(
                f"npm is not installed (Debian package npm); or download {TARBALL} and set {ENV_VAR} to it"
            ) from None
        except subprocess.TimeoutExpired:
            raise InkstrokeError(
                f"npm pack {PACKAGE} took over 10 minutes; is the npm registry reachable?"
            ) from None
        got = Path(tmp) / TARBALL
        if run.returncode != 0 or not got.is_file():
            why = (run.stderr.strip().splitlines() or ["no tarball written"])[-1]
            raise InkstrokeError(f"npm pack {PACKAGE} failed: {why}")
        _check_integrity(got)
        os.replace(got, cache_dir / TARBALL)
    return cache_dir / TARBALL


def _unpack(tgz: Path, dest: Path) -> None:
    """Write the ``package/<char>.json`` members (and the licence) into ``dest``,
    all or nothing: a half-unpacked folder never takes the final name."""
    tmp = Path(tempfile.mkdtemp(prefix=".unpack-", dir=dest.parent))
    try:
        with tarfile.open(tgz, "r:gz") as tar:
            for member in tar:
                name = member.name.removeprefix("package/")
                if (
                    member.isfile()
                    and "/" not in name
                    and (_char_of(name) or name == "ARPHICPL.TXT")
                ):
                    (tmp / name).write_bytes(tar.extractfile(member).read())
        try:
            os.replace(tmp, dest)
        except OSError:  # another process finished first
            if not dest.is_dir():
                raise
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def fetch_hanzi_writer_data(cache_dir: str | Path | None = None) -> Path:
    """The folder of ``<char>.json`` files of hanzi-writer-data, fetched once.

    ``npm pack`` downloads the tarball into ``cache_dir`` (kept there), its
    sha512 is checked against the published integrity, and it is unpacked
    beside it. Later calls return the folder at once.
    """
    cache_dir = Path(cache_dir) if cache_dir is not None else default_cache_dir()
    folder = cache_dir / "2.0.1"
    if folder.is_dir():
        return folder
    cache_dir.mkdir(parents=True, exist_ok=True)
    tgz = cache_dir / TARBALL
    if tgz.is_file():
        _check_integrity(tgz)
    else:
        tgz = _npm_pack(cache_dir)
    _unpack(tgz, folder)
    return folder


# ------------------------------------------------------------------ sources
def _char_of(filename: str) -> str | None:
    """The character a ``<char>.json`` file is named after, else None."""
    stem, dot, ext = filename.rpartition(".")
    return stem if dot and ext == "json" and len(stem) == 1 else None


class _Folder:
    def __init__(self, path: Path):
        self.path = path

    def chars(self) -> list[str]:
        return sorted(c for c in map(_char_of, os.listdir(self.path)) if c)

    def read(self, char: str) -> tuple[bytes, str] | None:
        file = self.path / f"{char}.json"
        if char in "/\\\0" or not file.is_file():
            return None
        return file.read_bytes(), str(file)


class _Tarball:
    """A .tgz read whole into memory once: gzip cannot seek to one member."""

    def __init__(self, path: Path):
        self.path = path
        self.files: dict[str, bytes] = {}
        try:
            with tarfile.open(path, "r:gz") as tar:
                for member in tar:
                    char = _char_of(member.name.rpartition("/")[2])
                    if member.isfile() and char:
                        self.files[char] = tar.extractfile(member).read()
        except (tarfile.TarError, OSError, EOFError) as e:
            raise InkstrokeError(f"{path}: not a readable .tgz ({e})") from None

    def chars(self) -> list[str]:
        return sorted(self.files)

    def read(self, char: str) -> tuple[bytes, str] | None:
        data = self.files.get(char)
        return None if data is None else (data, f"{self.path}:package/{char}.json")


@functools.lru_cache(maxsize=4)
def _open_source(path: Path) -> _Folder | _Tarball:
    if path.is_dir():
        return _Folder(path)
    if path.is_file() and path.name.endswith((".tgz", ".tar.gz")):
        return _Tarball(path)
    raise InkstrokeError(
        f"{path}: not a folder of <char>.json files nor a .tgz of hanzi-writer-data"
    )


def _source(source: str | Path | None) -> _Folder | _Tarball:
    """``source``, else $INKSTROKE_HANZI_DATA, else the fetched npm package."""
    if source is None:
        env = os.environ.get(ENV_VAR)
        if env:
            if not Path(env).exists():
                raise InkstrokeError(f"{ENV_VAR}={env}: no such file or folder")
            source = env
        else:
            source = fetch_hanzi_writer_data()
    if str(source) == "npm":
        source = fetch_hanzi_writer_data()
    path = Path(source).expanduser().resolve()
    if not path.exists():
        raise InkstrokeError(f"{path}: no such file or folder")
    return _open_source(path)


# ------------------------------------------------------------------ records
def _parse_record(obj: object, where: str) -> list[np.ndarray]:
    """Check one character's record (as many medians as strokes, each median
    a list of [x, y] numbers) and return its medians as arrays; ``where``
    names the file (and line) in errors."""
    if not isinstance(obj, dict):
        raise InkstrokeError(f"{where}: expected a JSON object, got {type(obj).__name__}")
    strokes, medians = obj.get("strokes"), obj.get("medians")
    if not isinstance(strokes, list) or not all(isinstance(s, str) for s in strokes):
        raise InkstrokeError(f"{where}: 'strokes' must be a list of SVG path strings")
    if not isinstance(medians, list) or len(medians) != len(strokes):
        raise InkstrokeError(
            f"{where}: 'medians' must be a list with one median per stroke ({len(strokes)})"
        )
    points = []
    for i, median in enumerate(medians):
        try:
            arr = np.asarray(median, dtype=np.float64)
        except (ValueError, TypeError):
            arr = np.zeros((0, 0))
        if arr.ndim != 2 or arr.shape[1] != 2 or len(arr) == 0 or not np.isfinite(arr).all():
            raise InkstrokeError(f"{where}: median {i} is not a list of [x, y] number pairs")
        points.append(arr)
    return points


def _loads(data: bytes, where: str, one_line: bool = False) -> object:
    try:
        return json.loads(data)
    except UnicodeDecodeError as e:
        raise InkstrokeError(f"{where}: not UTF-8 ({e.reason} at byte {e.start})") from None
    except json.JSONDecodeError as e:
        at = f"column {e.colno}" if one_line else f"line {e.lineno} column {e.colno}"
        raise InkstrokeError(f"{where}: bad JSON at {at} ({e.msg})") from None


def _record(char: str, source) -> tuple[dict, list[np.ndarray], str]:
    if not isinstance(char, str) or len(char) != 1:
        raise InkstrokeError(f"one character at a time, got {char!r}")
    store = _source(source)
    found = store.read(char)
    if found is None:
        raise InkstrokeError(
            f"{store.path}: no stroke data for the character {char!r} (U+{ord(char):04X})"
        )
    data, where = found
    record = _loads(data, where)
    return record, _parse_record(record, where), where


def load_character(char: str, source: str | Path | None = None) -> dict:
    """``{"strokes": [SVG path, ...], "medians": [[[x, y], ...], ...]}`` of ``char``,
    in the raw 1024 frame with y up (image row = 900 - y)."""
    record, _, _ = _record(char, source)
    return {"strokes": record["strokes"], "medians": record["medians"]}


def available_characters(source: str | Path | None = None) -> list[str]:
    return _source(source).chars()


def _ink(char: str, medians: list[np.ndarray], source: str) -> Ink:
    return Ink(medians, text=char, source=source, units=UNITS, y_axis="up")


def character_ink(char: str, source: str | Path | None = None) -> Ink:
    """The medians of ``char`` in stroke order: how a teacher would trace it."""
    _, medians, _ = _record(char, source)
    return _ink(char, medians, "hanzi-writer-data")


def outline_polygons(char: str, source: str | Path | None = None) -> list[np.ndarray]:
    """Each stroke's outline as a closed (n, 2) polygon in the raw frame (y up),
    in stroke order; the strokes overlap where they meet."""
    from inkstroke.io.font import svg_path_polygons

    record, _, where = _record(char, source)
    polygons = []
    for i, d in enumerate(record["strokes"]):
        try:
            polygons.extend(svg_path_polygons(d))
        except InkstrokeError as e:
            raise InkstrokeError(f"{where}: stroke {i}: {e}") from None
    return polygons


def outline_image(char: str, size: int = 256, source: str | Path | None = None) -> np.ndarray:
    """The union of the stroke outlines as a ``size`` x ``size`` bool image, row 0
    at y = 900: the same placement as :func:`inkstroke.io.font.glyph_image`."""
    from inkstroke.io.font import fill_polygons

    return fill_polygons(outline_polygons(char, source), size, nonzero=False)


def kaiti_font_path(char: str | None = None) -> Path:
    """The Kaiti font Make Me a Hanzi was drawn from (KaitiM GB), else the UKai
    it took the remaining characters from; with ``char``, the first of them that
    has that glyph, so that the glyph matches the hanzi-writer-data outlines."""
    from inkstroke.io.font import font_has_glyph

    found = [Path(p) for p, _ in KAITI_FONTS if Path(p).is_file()]
    if not found:
        raise InkstrokeError(
            "no Kaiti font found at "
            + " or ".join(p for p, _ in KAITI_FONTS)
            + "; install the Debian package "
            + " or ".join(pkg for _, pkg in KAITI_FONTS)
        )
    if char is None:
        return found[0]
    for path in found:
        if font_has_glyph(char, path):
            return path
    raise InkstrokeError(
        f"no Kaiti font has the character {char!r}: looked in " + ", ".join(map(str, found))
    )


# ------------------------------------------------------------------ importers
def iter_hanzi(path: str | Path) -> Iterator[Ink]:
    """Every character of hanzi-writer-data: ``path`` is its .tgz, a folder of
    ``<char>.json``, or ``npm`` to fetch the package."""
    store = _source(path)
    for char in store.chars():
        data, where = store.read(char)
        yield _ink(char, _parse_record(_loads(data, where), where), "hanzi-writer-data")


def iter_mmah(path: str | Path) -> Iterator[Ink]:
    """Make Me a Hanzi's ``graphics.txt``: one JSON object per line with
    ``character``, ``strokes`` and ``medians`` (same frame as hanzi-writer-data)."""
    path = Path(path)
    if path.is_dir() and (path / "graphics.txt").is_file():  # the repository's folder
        path = path / "graphics.txt"
    if not path.is_file():
        raise InkstrokeError(f"{path}: {'a folder without graphics.txt' if path.is_dir() else 'no such file'}")
    with path.open("rb") as f:
        for lineno, line in enumerate(f, 1):
            if not line.strip():
                continue
            where = f"{path}:{lineno}"
            obj = _loads(line, where, one_line=True)
            char = obj.get("character") if isinstance(obj, dict) else None
            if not isinstance(char, str) or len(char) != 1:
                raise InkstrokeError(f"{where}: 'character' must be one character, got {char!r}")
            yield _ink(char, _parse_record(obj, where), "makemeahanzi")
