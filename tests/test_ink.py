"""The Ink type: exact stroke-3/stroke-5 views, geometry and resampling."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from inkstroke.ink import Ink, InkError

# Device coordinates are integers; the stroke-3 views must give them back bit for bit.
int_coord = st.integers(min_value=-(10**6), max_value=10**6)
int_stroke = st.lists(st.tuples(int_coord, int_coord), min_size=1, max_size=30)
int_ink = st.lists(int_stroke, min_size=1, max_size=8).map(
    lambda ss: Ink([np.array(s) for s in ss])
)
float_coord = st.floats(min_value=-1e4, max_value=1e4, allow_nan=False, allow_infinity=False)
float_stroke = st.lists(st.tuples(float_coord, float_coord), min_size=1, max_size=30)
float_ink = st.lists(float_stroke, min_size=1, max_size=8).map(
    lambda ss: Ink([np.array(s) for s in ss])
)


def same_strokes(a: Ink, b: Ink) -> bool:
    return len(a.strokes) == len(b.strokes) and all(
        np.array_equal(x, y) for x, y in zip(a.strokes, b.strokes, strict=True)
    )


@settings(max_examples=150, deadline=None)
@given(int_ink)
def test_stroke3_and_stroke5_round_trips_are_exact_on_device_coordinates(ink):
    s3 = ink.to_stroke3()
    assert s3.shape == (ink.num_points, 3)
    assert s3[:, 2].sum() == len(ink.strokes)  # one pen lift per stroke, on its last point
    assert np.array_equal(s3[0, :2], ink.strokes[0][0])  # the first row is the absolute start
    assert same_strokes(Ink.from_stroke3(s3), ink)
    s5 = ink.to_stroke5()
    assert s5.shape == (ink.num_points + 1, 5)
    assert np.array_equal(s5[-1], [0, 0, 0, 0, 1])
    assert np.array_equal(s5[:-1, 2] + s5[:-1, 3], np.ones(ink.num_points))
    assert same_strokes(Ink.from_stroke5(s5), ink)


@settings(max_examples=100, deadline=None)
@given(float_ink)
def test_stroke3_round_trip_of_float_coordinates_is_within_rounding(ink):
    back = Ink.from_stroke3(ink.to_stroke3())
    assert [len(s) for s in back.strokes] == [len(s) for s in ink.strokes]
    for a, b in zip(back.strokes, ink.strokes, strict=True):
        np.testing.assert_allclose(a, b, rtol=0, atol=1e-8)


def test_stroke3_keeps_a_trailing_stroke_without_lift_and_skips_empty_strokes():
    ink = Ink.from_stroke3(np.array([[1, 2, 0], [1, 0, 1], [5, 5, 0], [1, 1, 0]]))
    assert [s.tolist() for s in ink.strokes] == [[[1, 2], [2, 2]], [[7, 7], [8, 8]]]
    with_empty = Ink([np.zeros((0, 2)), np.array([[3.0, 4.0]])])
    assert with_empty.to_stroke3().tolist() == [[3, 4, 1]]
    assert Ink([]).to_stroke5().tolist() == [[0, 0, 0, 0, 1]]
    assert Ink.from_stroke5(Ink([]).to_stroke5()).strokes == []


def test_stroke5_stops_at_the_end_row():
    s5 = np.array([[1, 1, 1, 0, 0], [1, 1, 0, 1, 0], [0, 0, 0, 0, 1], [9, 9, 0, 1, 0]])
    assert [s.tolist() for s in Ink.from_stroke5(s5).strokes] == [[[1, 1], [2, 2]]]


def test_bad_shapes_and_channels_are_refused():
    with pytest.raises(InkError, match="shape"):
        Ink([np.zeros((3, 3))])
    with pytest.raises(InkError, match="times"):
        Ink([np.zeros((3, 2))], times=[np.zeros(2)])
    with pytest.raises(InkError, match="y_axis"):
        Ink([np.zeros((1, 2))], y_axis="left")
    with pytest.raises(InkError, match="stroke-3"):
        Ink.from_stroke3(np.zeros((4, 2)))
    with pytest.raises(InkError, match="empty"):
        Ink([]).bounds()
    with pytest.raises(InkError, match="NaN"):
        Ink([np.array([[0.0, np.nan]])]).check_finite("here")


def test_transforms():
    ink = Ink([np.array([[0.0, 0.0], [2.0, 1.0]]), np.array([[1.0, 3.0]])])
    assert ink.bounds() == (0.0, 0.0, 2.0, 3.0)
    assert ink.translate(1, -1).bounds() == (1.0, -1.0, 3.0, 2.0)
    assert ink.scale(2, 3).bounds() == (0.0, 0.0, 4.0, 9.0)
    rot = ink.transform(np.array([[0.0, -1.0, 10.0], [1.0, 0.0, 0.0]]))  # 90 degrees, then +10 x
    np.testing.assert_allclose(rot.strokes[0], [[10, 0], [9, 2]])
    assert ink.strokes[0][1].tolist() == [2, 1]  # the original is untouched
    with pytest.raises(InkError, match="2x2 or 2x3"):
        ink.transform(np.eye(3))


def test_y_down_mirrors_y_up_inks_only():
    up = Ink([np.array([[0.0, 5.0], [1.0, 7.0]])], y_axis="up")
    down = up.y_down()
    assert down.y_axis == "down" and down.strokes[0].tolist() == [[0, -5], [1, -7]]
    assert down.y_down() is down
    assert up.y_axis == "up" and up.strokes[0][0, 1] == 5


def test_resample_spaces_points_evenly_and_keeps_ends_and_channels():
    s = np.array([[0.0, 0.0], [10.0, 0.0], [10.0, 10.0]])
    ink = Ink([s, np.array([[5.0, 5.0]])], times=[np.array([0.0, 1.0, 3.0]), np.array([4.0])])
    r = ink.resample(1.0)
    pts = r.strokes[0]
    steps = np.linalg.norm(np.diff(pts, axis=0), axis=1)
    assert len(pts) == 21 and np.allclose(steps, 1.0)
    assert pts[0].tolist() == [0, 0] and pts[-1].tolist() == [10, 10]
    assert r.times[0][10] == pytest.approx(1.0) and r.times[0][-1] == pytest.approx(3.0)
    assert r.strokes[1].tolist() == [[5, 5]]
    with pytest.raises(InkError):
        ink.resample(0)


def test_resample_tolerates_repeated_points():
    s = np.array([[0.0, 0.0], [0.0, 0.0], [3.0, 4.0], [3.0, 4.0]])
    r = Ink([s]).resample(1.0)
    assert len(r.strokes[0]) == 6 and np.isfinite(r.strokes[0]).all()
    assert Ink([np.zeros((4, 2))]).resample(1.0).strokes[0].tolist() == [[0, 0]]


def test_resample_treats_each_stroke_on_its_own():
    """All strokes are resampled in one pass; each comes out as if it were alone,
    whatever lies before it (dots, repeated points, long and short strokes)."""
    rng = np.random.default_rng(4)
    strokes = [np.cumsum(rng.normal(0, 0.3, (int(rng.integers(1, 25)), 2)), 0) for _ in range(12)]
    strokes[3][:] = strokes[3][0]  # a stroke standing still
    strokes[5][2] = strokes[5][1]
    times = [np.sort(rng.random(len(s))) for s in strokes]
    together = Ink(strokes, times=times).resample(0.07)
    assert len(together.strokes) == len(strokes)
    for s, t, out, out_t in zip(strokes, times, together.strokes, together.times):
        alone = Ink([s], times=[t]).resample(0.07)
        np.testing.assert_allclose(out, alone.strokes[0], atol=1e-9)
        np.testing.assert_allclose(out_t, alone.times[0], atol=1e-9)
        assert out[0].tolist() == s[0].tolist() and np.allclose(out[-1], s[-1])
        if len(out) > 1:
            steps = np.linalg.norm(np.diff(out, axis=0), axis=1)
            assert steps.max() <= 0.07 + 1e-9
    assert len(together.strokes[3]) == 1
    with pytest.raises(InkError, match="no points"):
        Ink([np.zeros((0, 2)), strokes[0]]).resample(0.1)


def test_resampled_y_is_the_y_of_resample_without_the_strokes():
    rng = np.random.default_rng(7)
    strokes = [np.cumsum(rng.normal(0, 0.3, (int(rng.integers(1, 30)), 2)), 0) for _ in range(9)]
    strokes[2][:] = strokes[2][0]
    ink = Ink(strokes)
    for step in (0.05, 0.3, 5.0):
        assert np.array_equal(ink.resampled_y(step), ink.resample(step).points()[:, 1])
    assert Ink([]).resampled_y(0.1).shape == (0,)
    with pytest.raises(InkError, match="positive"):
        ink.resampled_y(0.0)
    with pytest.raises(InkError, match="positive"):
        Ink([]).resample(-1.0)


def test_resample_time_puts_points_on_a_time_grid():
    ink = Ink([np.array([[0.0, 0.0], [10.0, 0.0]])], times=[np.array([0.0, 1.0])])
    r = ink.resample_time(0.25)
    assert r.times[0].tolist() == [0, 0.25, 0.5, 0.75, 1.0]
    assert r.strokes[0][:, 0].tolist() == [0, 2.5, 5, 7.5, 10]
    with pytest.raises(InkError, match="times"):
        Ink([np.zeros((2, 2))]).resample_time(0.1)


def test_simplify_drops_collinear_points_and_keeps_corners_and_channels():
    line = np.column_stack([np.arange(10.0), np.zeros(10)])
    corner = np.array([[0.0, 0.0], [5.0, 0.1], [10.0, 0.0], [10.0, 10.0]])
    ink = Ink([line, corner], pressures=[np.arange(10.0), np.arange(4.0)])
    s = ink.simplify(0.5)
    assert s.strokes[0].tolist() == [[0, 0], [9, 0]]
    assert s.strokes[1].tolist() == [[0, 0], [10, 0], [10, 10]]
    assert s.pressures[0].tolist() == [0, 9] and s.pressures[1].tolist() == [0, 2, 3]
    assert len(ink.simplify(0.05).strokes[1]) == 4


def _rdp_reference(points: np.ndarray, eps: float) -> list[int]:
    """Textbook recursive Ramer-Douglas-Peucker: indices kept."""
    if len(points) < 3:
        return list(range(len(points)))
    a, b = points[0], points[-1]
    seg, rel = b - a, points[1:-1] - a
    norm = np.hypot(*seg)
    dist = np.hypot(rel[:, 0], rel[:, 1]) if norm == 0 else np.abs(seg[0] * rel[:, 1] - seg[1] * rel[:, 0]) / norm
    i = int(np.argmax(dist))
    if dist[i] <= eps:
        return [0, len(points) - 1]
    m = i + 1
    left, right = _rdp_reference(points[: m + 1], eps), _rdp_reference(points[m:], eps)
    return left + [m + k for k in right[1:]]


def test_simplify_keeps_what_recursive_rdp_keeps():
    rng = np.random.default_rng(3)
    walks = [np.cumsum(rng.normal(size=(n, 2)), 0) * 0.05 for n in (3, 7, 40, 300)]
    loop = np.column_stack([np.cos(np.linspace(0, 2 * np.pi, 50)), np.sin(np.linspace(0, 2 * np.pi, 50))])
    ties = np.array([[0.0, 0.0], [1.0, 1.0], [2.0, -1.0], [3.0, 1.0], [4.0, 0.0]])  # equal distances
    for stroke in [*walks, loop, ties]:
        for eps in (0.01, 0.05, 0.3):
            kept = Ink([stroke]).simplify(eps).strokes[0]
            assert kept.tolist() == stroke[_rdp_reference(stroke, eps)].tolist(), (len(stroke), eps)


def test_smooth_reduces_jitter_keeps_ends_and_shrinks_the_window_for_short_strokes():
    rng = np.random.default_rng(0)
    x = np.linspace(0, 10, 60)
    clean = np.column_stack([x, np.sin(x)])
    noisy = clean + rng.normal(0, 0.05, clean.shape)
    five = noisy[:5]
    pair = np.array([[0.0, 0.0], [1.0, 1.0]])
    sm = Ink([noisy, five, pair]).smooth(window=9)
    assert np.abs(sm.strokes[0] - clean).mean() < 0.6 * np.abs(noisy - clean).mean()
    assert np.array_equal(sm.strokes[0][[0, -1]], noisy[[0, -1]])
    assert not np.array_equal(sm.strokes[1], five)  # a 5-point window still smooths
    assert np.array_equal(sm.strokes[1][[0, -1]], five[[0, -1]])
    assert np.array_equal(sm.strokes[2], pair)


def test_normalized_sets_body_height_origin_and_axis():
    rng = np.random.default_rng(1)
    ink = Ink([rng.uniform(0, 300, (40, 2)), rng.uniform(0, 300, (30, 2)) + 500], y_axis="up")
    n = ink.normalized(height=2.0)
    assert n.y_axis == "down" and n.units == "normalized"
    assert n.strokes[0][0].tolist() == [0, 0]
    assert n.body_height() == pytest.approx(2.0, rel=1e-6)
    assert ink.units == "unit"


def test_concat_converts_mixed_axes_and_joins_texts():
    a = Ink([np.array([[0.0, 1.0]])], y_axis="up", text="a", times=[np.zeros(1)])
    b = Ink([np.array([[2.0, 3.0]])], y_axis="down", text="b")
    c = Ink.concat([a, b], text_sep="+")
    assert c.y_axis == "down" and c.text == "a+b" and c.times is None
    assert [s.tolist() for s in c.strokes] == [[[0, -1]], [[2, 3]]]
    with pytest.raises(InkError):
        Ink.concat([])


def test_place_on_line_sets_inks_left_to_right_on_the_baseline():
    box = np.array([[0.0, 0.0], [10.0, 0.0], [10.0, 20.0], [0.0, 20.0], [0.0, 0.0]])
    a = Ink([box + 100], text="a")
    b = Ink([box * 2 - 50], text="b")
    line = Ink.place_on_line([a, b], gap=5.0, baseline=0.0)
    first, second = line.strokes
    assert first[:, 0].min() == 0 and first[:, 0].max() == 10
    assert second[:, 0].min() == pytest.approx(15) and second[:, 0].max() == pytest.approx(35)
    for stroke in (first, second):
        dense = Ink([stroke]).resample(0.1).points()[:, 1]
        assert np.percentile(dense, 80) == pytest.approx(0.0, abs=0.5)
    assert line.text == "a b"
