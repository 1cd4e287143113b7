"""Stroke tokenizer: adaptive bins, residual carry (no drift), splits, dots, JSON."""

import json

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from inkstroke.errors import InkstrokeError
from inkstroke.ink import Ink
from inkstroke.tokenize.strokes import StrokeTokenizer, fit_axis


@pytest.fixture(scope="module")
def tok(words) -> StrokeTokenizer:
    return StrokeTokenizer.fit(words[0], 24)


def tolerance(tok: StrokeTokenizer) -> np.ndarray:
    """Half the widest bin per axis: stricter than the promised 'one bin width'."""
    return np.array([tok.x.widths().max(), tok.y.widths().max()]) / 2 + 1e-9


def assert_tracks(tok: StrokeTokenizer, original: Ink, decoded: Ink) -> None:
    """Every original point has a decoded counterpart within tolerance, in order,
    stroke by stroke; stroke ends match. Extra decoded points (a long move split
    in several steps) are allowed between them."""
    tol = tolerance(tok)
    assert len(decoded.strokes) == len(original.strokes)
    for k, (o, d) in enumerate(zip(original.strokes, decoded.strokes)):
        j = 0
        for i, p in enumerate(o):
            while j < len(d) and not (np.abs(d[j] - p) <= tol).all():
                j += 1
            assert j < len(d), f"stroke {k} point {i} {p} has no decoded point within {tol}"
            j += 1
        assert (np.abs(d[-1] - o[-1]) <= tol).all()


def random_ink(seed: int, n_strokes: int, max_len: int, scale: float, spread: float) -> Ink:
    rng = np.random.default_rng(seed)
    strokes = []
    for _ in range(n_strokes):
        n = int(rng.integers(1, max_len + 1))
        start = rng.uniform(-spread, spread, 2)
        strokes.append(start + np.cumsum(rng.normal(0, scale, (n, 2)), axis=0))
    return Ink(strokes, units="normalized", y_axis="down")


def prepared_with_dots(ink: Ink) -> Ink:
    """What encode(prepared=True) sees: a one-point stroke is a zero-length move."""
    return ink.copy(strokes=[s if len(s) > 1 else np.vstack([s, s]) for s in ink.strokes])


# ---------------------------------------------------------------- fitting
@pytest.mark.parametrize("n", [12, 24, 40])
def test_fitted_bins_are_sorted_fine_near_zero_and_n_is_configurable(words, n):
    tok = StrokeTokenizer.fit(words[0], n)
    assert tok.n_bins == n
    for axis in (tok.x, tok.y):
        assert len(axis.centers) == n
        assert (np.diff(axis.centers) > 0).all()
        assert (np.diff(axis.edges) > 0).all()
        w = axis.widths()
        assert (w > 0).all()
        zero = int(axis.quantize(np.array([0.0]))[0])
        tails = np.concatenate([w[:2], w[-2:]]).mean()
        assert w[zero] < tails / 5, (w[zero], tails)
        assert w[zero] <= np.median(w)


def test_fit_axis_on_heavy_tails():
    rng = np.random.default_rng(1)
    values = np.concatenate([rng.laplace(0, 0.05, 20000), rng.choice([-1, 1], 200) * rng.uniform(1, 4, 200)])
    axis = fit_axis(values, 24)
    w = axis.widths()
    zero = int(axis.quantize(np.array([0.0]))[0])
    assert len(axis.centers) == 24
    assert w[zero] < 0.05 * max(w[0], w[-1])
    # the tails reach the rare jumps (99.9th percentile of |values|)
    assert axis.centers[-1] >= np.percentile(np.abs(values), 99.9) * 0.99
    assert axis.centers[0] <= -np.percentile(np.abs(values), 99.9) * 0.99
    # no bin is left empty by the merge/split passes
    used = np.bincount(axis.quantize(values), minlength=24)
    assert (used > 0).all()


def test_fit_refuses_too_little_data():
    with pytest.raises(InkstrokeError, match="too little data"):
        fit_axis(np.linspace(-1, 1, 50), 24)


# ---------------------------------------------------------------- round trip
def test_real_words_round_trip_within_one_bin(tok, words):
    for ink in words[0][:40]:
        prepared = StrokeTokenizer.prepare(ink, tok.step, tok.rdp)
        steps = tok.encode(ink)
        assert steps.dtype == np.int64 and steps.shape[1] == 3
        assert steps[:, :2].min() >= 0 and steps[:, :2].max() < tok.n_bins
        assert set(np.unique(steps[:, 2])) <= {0, 1}
        assert steps[0, 2] == 1  # the move to the first point is in the air
        assert_tracks(tok, prepared, tok.decode(steps))
        # encoding the prepared ink says the same
        assert np.array_equal(tok.encode(prepared, prepared=True), steps)


@settings(max_examples=25, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), n_strokes=st.integers(1, 25), max_len=st.integers(1, 300),
       scale=st.floats(0.005, 0.6), spread=st.floats(0.0, 30.0))
def test_no_drift_on_long_random_inks(tok, seed, n_strokes, max_len, scale, spread):
    ink = random_ink(seed, n_strokes, max_len, scale, spread)
    decoded = tok.decode(tok.encode(ink, prepared=True))
    assert_tracks(tok, prepared_with_dots(ink), decoded)


def test_residual_carry_prevents_drift_where_naive_quantisation_drifts(tok):
    # 5,000 small moves drifting right: each one's quantisation error alone is small
    rng = np.random.default_rng(3)
    d = rng.normal([0.031, 0.0], 0.02, (5000, 2))
    ink = Ink([np.cumsum(d, axis=0)], units="normalized", y_axis="down")
    decoded = tok.decode(tok.encode(ink, prepared=True))
    assert_tracks(tok, ink, decoded)
    end_error = np.abs(decoded.strokes[0][-1] - ink.strokes[0][-1])
    assert (end_error <= np.array([tok.x.widths().max(), tok.y.widths().max()]) / 2).all()
    # the same moves quantised one by one, without the carry, end far away
    naive = np.column_stack([tok.x.centers[tok.x.quantize(d[:, 0])], tok.y.centers[tok.y.quantize(d[:, 1])]])
    naive_error = np.abs(naive[1:].sum(0) - d[1:].sum(0))
    assert (naive_error / tolerance(tok)).max() > 10


def test_long_jumps_and_long_moves_are_split(tok):
    far = 12.0
    ink = Ink([np.array([[0.0, 0.0], [0.1, 0.05]]), np.array([[far, 3.0], [far + 0.1, 3.1]]),
               np.array([[far + 0.2, 3.0], [far + 8.0, 3.0]])], units="normalized", y_axis="down")
    steps = tok.encode(ink, prepared=True)
    biggest = tok.x.centers[-1]
    assert far > 3 * biggest
    pen = steps[:, 2]
    # the jump to stroke 2 takes several steps in the air, the long stroke several on paper
    runs = np.split(pen, np.flatnonzero(np.diff(pen)) + 1)
    air = [len(r) for r in runs if r[0] == 1]
    assert air[1] >= int(np.ceil(far / biggest))
    assert len(runs[-1]) >= int(np.ceil(7.8 / biggest)) and runs[-1][0] == 0
    decoded = tok.decode(steps)
    assert_tracks(tok, ink, decoded)
    assert len(decoded.strokes[2]) > 2  # the long drawn move passes through waypoints


def test_dots_survive(tok, words):
    word = words[0][0]
    x0, y0, x1, y1 = word.bounds()
    dot = np.array([[(x0 + x1) / 2, y1 + (y1 - y0) * 0.3]])  # y up: above the word
    ink = word.copy(strokes=list(word.strokes) + [dot, np.vstack([dot, dot]) + [(x1 - x0) / 4, 0]])
    prepared = StrokeTokenizer.prepare(ink, tok.step, tok.rdp)
    assert len(prepared.strokes) == len(ink.strokes)
    decoded = tok.decode(tok.encode(ink))
    assert len(decoded.strokes) == len(ink.strokes)
    for k in (-2, -1):
        d = decoded.strokes[k]
        assert len(d) >= 2 and np.abs(d - d[0]).max() <= tolerance(tok).max() * 2
        assert (np.abs(d[0] - prepared.strokes[k][0]) <= tolerance(tok)).all()


# ---------------------------------------------------------------- I/O and errors
def test_json_round_trip(tok, tmp_path, words):
    path = tmp_path / "tok.json"
    tok.save(path)
    back = StrokeTokenizer.load(path)
    assert json.loads(path.read_text())["kind"] == "inkstroke-stroke-tokenizer"
    assert np.array_equal(back.x.centers, tok.x.centers) and np.array_equal(back.y.centers, tok.y.centers)
    assert (back.step, back.rdp) == (tok.step, tok.rdp)
    assert np.array_equal(back.encode(words[0][3]), tok.encode(words[0][3]))


@pytest.mark.parametrize("change", [
    {"kind": "something else"},
    {"x_centers": [0.0, 1.0]},
    {"x_centers": [0.0, 2.0, 1.0]},
    {"y_centers": [-1.0, 0.0, 1.0, 2.0]},
    {"x_centers": ["a", "b", "c"]},
    {"step": None},
    {"rdp": "fine"},
])
def test_bad_tokenizer_dict_is_an_error(tok, change):
    d = tok.to_dict() | change
    if change == {"x_centers": ["a", "b", "c"]}:
        d["y_centers"] = [0.0, 1.0, 2.0]
    with pytest.raises(InkstrokeError, match="not a valid stroke tokenizer"):
        StrokeTokenizer.from_dict(d, "where.json")


@pytest.mark.parametrize("raw", [[], "tokenizer", 3, None])
def test_tokenizer_json_that_is_not_an_object_is_an_error(raw):
    with pytest.raises(InkstrokeError, match="where.json"):
        StrokeTokenizer.from_dict(raw, "where.json")


def test_missing_key_and_corrupt_file_are_errors(tok, tmp_path):
    d = tok.to_dict()
    del d["y_centers"]
    with pytest.raises(InkstrokeError):
        StrokeTokenizer.from_dict(d)
    path = tmp_path / "tok.json"
    path.write_text('{"kind": "inkstroke-stroke-tok')
    with pytest.raises(InkstrokeError, match="tok.json"):
        StrokeTokenizer.load(path)
    with pytest.raises(InkstrokeError, match="nothing.json"):
        StrokeTokenizer.load(tmp_path / "nothing.json")


def test_empty_ink_and_out_of_range_tokens_are_errors(tok):
    with pytest.raises(InkstrokeError, match="empty"):
        tok.encode(Ink([]))
    with pytest.raises(InkstrokeError, match="out of range"):
        tok.decode(np.array([[0, tok.n_bins, 1]]))
    assert tok.decode(np.zeros((0, 3))).strokes == []
