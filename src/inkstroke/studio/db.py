"""The sample store of collect mode: handwriting people wrote in the studio.

One SQLite file (``samples.sqlite`` under the data folder), so collecting needs
no server. A sample is a row of ``samples`` (its text, writer, device, canvas
size and counts) plus one row of ``strokes`` per stroke, whose points are a
float64 blob of ``(x, y, t, pressure)`` rows: exact, compact, and readable by
any SQLite client with a few lines of code.

A sample is written in one transaction, so it is saved whole or not at all,
and the counts on the sample row let :meth:`SampleStore.check` prove that
every stored sample still has all its strokes and points.
"""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

import numpy as np

from inkstroke.errors import InkstrokeError
from inkstroke.ink import Ink

DB_FILE = "samples.sqlite"
SCHEMA = """
CREATE TABLE IF NOT EXISTS samples (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    text TEXT NOT NULL,
    writer TEXT,
    device TEXT,
    created REAL NOT NULL,
    width REAL,
    height REAL,
    n_strokes INTEGER NOT NULL,
    n_points INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS strokes (
    sample_id INTEGER NOT NULL REFERENCES samples(id) ON DELETE CASCADE,
    idx INTEGER NOT NULL,
    points BLOB NOT NULL,
    PRIMARY KEY (sample_id, idx)
);
"""
SUMMARY = "SELECT id, text, writer, device, created, n_strokes, n_points FROM samples"
SUMMARY_KEYS = ("id", "text", "writer", "device", "created", "strokes", "points")
PPI = 96.0  # a CSS pixel is 1/96 inch: collected inks have a physical size


class StoreError(InkstrokeError):
    """The database failed (locked too long, disk full, corrupt): not the caller's fault."""


class SampleStore:
    """Collected samples in ``DIR/samples.sqlite``; safe to use from many threads
    (each call opens its own connection; SQLite serialises the writers)."""

    def __init__(self, folder: str | Path):
        self.folder = Path(folder)
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
        except OSError as e:
            raise InkstrokeError(
                f"{self.folder}: cannot create the data folder ({e.strerror or e})"
            ) from None
        self.path = self.folder / DB_FILE
        with self._connect() as db:
            db.execute("PRAGMA journal_mode=WAL")  # readers never wait for a writer
            db.executescript(SCHEMA)

    @contextmanager
    def _connect(self) -> Iterator[sqlite3.Connection]:
        try:
            db = sqlite3.connect(self.path, timeout=10.0)
        except sqlite3.Error as e:
            raise StoreError(f"{self.path}: cannot open the sample database ({e})") from None
        try:
            db.execute("PRAGMA foreign_keys=ON")
            with db:  # one transaction: commit on success, roll back on any error
                yield db
        except sqlite3.DatabaseError as e:
            raise StoreError(f"{self.path}: {e}") from None
        finally:
            db.close()

    def add(
        self, ink: Ink, device: str | None = None, canvas: tuple[float, float] | None = None
    ) -> int:
        """Store a collected ink (y down, CSS px, times in s) whole; returns its id."""
        if not ink.text or not ink.strokes:
            raise InkstrokeError("a sample needs its text and at least one stroke")
        ink.check_finite("sample")
        n = [len(s) for s in ink.strokes]
        width, height = canvas if canvas is not None else (None, None)
        with self._connect() as db:
            cur = db.execute(
                "INSERT INTO samples (text, writer, device, created, width, height, n_strokes, n_points)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                (ink.text, ink.writer, device, time.time(), width, height, len(n), sum(n)),
            )
            sample_id = int(cur.lastrowid)
            db.executemany(
                "INSERT INTO strokes (sample_id, idx, points) VALUES (?, ?, ?)",
                ((sample_id, i, _pack(ink, i)) for i in range(len(n))),
            )
        return sample_id

    def get(self, sample_id: int) -> Ink:
        with self._connect() as db:
            row = db.execute(
                "SELECT id, text, writer, device, created, width, height FROM samples WHERE id = ?",
                (sample_id,),
            ).fetchone()
            if row is None:
                raise KeyError(sample_id)
            blobs = _blobs(db, sample_id)
        return _ink(row, blobs)

    def inks(self, ids: Sequence[int] | None = None) -> list[Ink]:
        """Samples in id order: all of them, or those of ``ids`` (unknown ids raise KeyError)."""
        wanted = None if ids is None else sorted(set(ids))
        with self._connect() as db:
            rows = db.execute(
                "SELECT id, text, writer, device, created, width, height FROM samples ORDER BY id"
            ).fetchall()
            if wanted is not None:
                found = {r[0] for r in rows}
                missing = [i for i in wanted if i not in found]
                if missing:
                    raise KeyError(missing[0])
                keep = set(wanted)
                rows = [r for r in rows if r[0] in keep]
            out = []
            for row in rows:
                blobs = _blobs(db, row[0])
                out.append(_ink(row, blobs))
        return out

    def summaries(self) -> list[dict]:
        """Summaries (no points), newest first."""
        with self._connect() as db:
            rows = db.execute(SUMMARY + " ORDER BY id DESC").fetchall()
        return [dict(zip(SUMMARY_KEYS, r, strict=True)) for r in rows]

    def summary(self, sample_id: int) -> dict:
        with self._connect() as db:
            row = db.execute(SUMMARY + " WHERE id = ?", (sample_id,)).fetchone()
        if row is None:
            raise KeyError(sample_id)
        return dict(zip(SUMMARY_KEYS, row, strict=True))

    def delete(self, sample_id: int) -> bool:
        with self._connect() as db:
            return db.execute("DELETE FROM samples WHERE id = ?", (sample_id,)).rowcount > 0

    def count(self) -> int:
        with self._connect() as db:
            return int(db.execute("SELECT COUNT(*) FROM samples").fetchone()[0])

    def check(self) -> list[str]:
        """Problems found: samples whose strokes or points are not all there,
        strokes without a sample. An empty list means the store is consistent."""
        problems = []
        with self._connect() as db:
            for sid, n_strokes, n_points in db.execute(
                "SELECT id, n_strokes, n_points FROM samples"
            ):
                blobs = _blobs(db, sid)
                points = sum(len(b) // 32 for b in blobs)
                if len(blobs) != n_strokes or points != n_points:
                    problems.append(
                        f"sample {sid}: {len(blobs)}/{n_strokes} strokes, {points}/{n_points} points"
                    )
            orphans = db.execute(
                "SELECT COUNT(*) FROM strokes WHERE sample_id NOT IN (SELECT id FROM samples)"
            )
            n = orphans.fetchone()[0]
            if n:
                problems.append(f"{n} strokes belong to no sample")
        return problems


def _blobs(db: sqlite3.Connection, sample_id: int) -> list[bytes]:
    rows = db.execute("SELECT points FROM strokes WHERE sample_id = ? ORDER BY idx", (sample_id,))
    return [b for (b,) in rows]


def _pack(ink: Ink, i: int) -> bytes:
    s = ink.strokes[i]
    t = ink.times[i] if ink.times is not None else np.full(len(s), np.nan)
    p = ink.pressures[i] if ink.pressures is not None else np.full(len(s), np.nan)
    return np.column_stack([s, t, p]).astype("<f8").tobytes()


def _ink(row: tuple, blobs: list[bytes]) -> Ink:
    sid, text, writer, device, created, width, height = row
    rows = [np.frombuffer(b, dtype="<f8").reshape(-1, 4) for b in blobs]
    has_t = bool(rows) and not any(np.isnan(r[:, 2]).any() for r in rows)
    has_p = bool(rows) and not any(np.isnan(r[:, 3]).any() for r in rows)
    meta = {"sample_id": sid, "ppi": PPI, "created": created}
    if device:
        meta["device"] = device
    if width is not None:
        meta["canvas_px"] = [width, height]
    return Ink(
        [r[:, :2].copy() for r in rows],
        times=[r[:, 2].copy() for r in rows] if has_t else None,
        pressures=[r[:, 3].copy() for r in rows] if has_p else None,
        text=text,
        writer=writer,
        source="inkstroke.studio",
        units="px",
        y_axis="down",
        meta=meta,
    )
