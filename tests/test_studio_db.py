"""The studio's SQLite sample store: exact round trips, atomic saves, consistency."""

import sqlite3

import numpy as np
import pytest

from inkstroke.errors import InkstrokeError
from inkstroke.ink import Ink
from inkstroke.io.container import InkDataset
from inkstroke.studio.db import SampleStore, StoreError
from inkstroke.studio.outputs import inks_container_bytes


def sample(text="hello", n_strokes=3, seed=0) -> Ink:
    rng = np.random.default_rng(seed)
    strokes = [rng.uniform(0, 500, (5 + i, 2)) for i in range(n_strokes)]
    times, t = [], 0.0
    for s in strokes:
        times.append(t + np.cumsum(rng.uniform(0.004, 0.02, len(s))))
        t = times[-1][-1] + 0.2
    pressures = [rng.uniform(0, 1, len(s)) for s in strokes]
    return Ink(strokes, times=times, pressures=pressures, text=text, writer="w1", units="px")


def test_round_trip_is_exact(tmp_path):
    store = SampleStore(tmp_path)
    ink = sample()
    sid = store.add(ink, device="pen", canvas=(800.0, 260.0))
    back = store.get(sid)
    assert back.text == "hello" and back.writer == "w1" and back.units == "px"
    assert back.meta["device"] == "pen" and back.meta["canvas_px"] == [800.0, 260.0]
    for a, b in zip(
        ink.strokes + ink.times + ink.pressures,
        back.strokes + back.times + back.pressures,
        strict=True,
    ):
        assert np.array_equal(a, b)
    assert store.summaries() == [store.summary(sid)]
    assert store.summary(sid)["points"] == ink.num_points


def test_inks_export_keeps_every_sample(tmp_path):
    store = SampleStore(tmp_path)
    ids = [store.add(sample(f"s{i}", n_strokes=i + 1, seed=i)) for i in range(3)]
    path = tmp_path / "x.inks"
    path.write_bytes(inks_container_bytes(store.inks()))
    data = InkDataset(path)
    assert [r["text"] for r in data.records] == ["s0", "s1", "s2"]
    for i, sid in enumerate(ids):
        want = store.get(sid)
        got = data[i]
        assert len(got.strokes) == len(want.strokes)
        for a, b in zip(got.strokes, want.strokes, strict=True):
            np.testing.assert_allclose(a, b, rtol=1e-6, atol=1e-4)  # float32 in the container
    with pytest.raises(KeyError):
        store.inks([ids[0], 999])


def test_a_failure_inside_a_save_leaves_nothing(tmp_path):
    """A real SQLite error after the sample row and two strokes were written:
    the transaction rolls back whole."""
    store = SampleStore(tmp_path)
    keep = store.add(sample("kept"))
    with sqlite3.connect(store.path) as db:
        db.execute(
            "CREATE TRIGGER fail_third BEFORE INSERT ON strokes WHEN NEW.idx = 2 "
            "BEGIN SELECT RAISE(ABORT, 'disk on fire'); END"
        )
    with pytest.raises(StoreError, match="disk on fire"):
        store.add(sample("lost", n_strokes=4))
    assert [s["text"] for s in store.summaries()] == ["kept"]
    with sqlite3.connect(store.path) as db:
        assert db.execute("SELECT COUNT(*) FROM strokes").fetchone()[0] == 3
    assert store.check() == []
    assert store.get(keep).text == "kept"


def test_check_finds_missing_strokes(tmp_path):
    store = SampleStore(tmp_path)
    sid = store.add(sample())
    with sqlite3.connect(store.path) as db:
        db.execute("DELETE FROM strokes WHERE sample_id = ? AND idx = 1", (sid,))
    assert store.check() == [f"sample {sid}: 2/3 strokes, 12/18 points"]


def test_delete_and_bad_samples(tmp_path):
    store = SampleStore(tmp_path)
    sid = store.add(sample())
    assert store.delete(sid) and not store.delete(sid)
    with sqlite3.connect(store.path) as db:
        assert db.execute("SELECT COUNT(*) FROM strokes").fetchone()[0] == 0  # cascaded
    with pytest.raises(InkstrokeError, match="text"):
        store.add(sample(text=""))
    bad = sample()
    bad.strokes[1][2, 0] = np.nan
    with pytest.raises(InkstrokeError, match="stroke 1"):
        store.add(bad)
    assert store.count() == 0 and store.check() == []
    with pytest.raises(KeyError):
        store.get(sid)
