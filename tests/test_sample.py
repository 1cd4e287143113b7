"""Sampling: the sample/attention commands, their errors, streaming, priming, stopping."""

import re
import subprocess
import sys

import numpy as np
import pytest
import torch
from PIL import Image

from inkstroke.cli.main import main
from inkstroke.errors import InkstrokeError
from inkstroke.io import read_ink
from inkstroke.io.jsonink import read_json, write_json
from inkstroke.model.checkpoint import WEIGHTS
from inkstroke.sample.generate import (
    MAX_TEXT,
    NOISE_STRIDE,
    RowNoise,
    SampleOptions,
    _categorical,
    _filter,
    _pick,
    bins_noise,
    splitmix64,
)
from inkstroke.sample.inspect import attention_maps, diagonality, head_diagonality

torch.set_num_threads(1)  # two cores, shared: more threads only contend


def sample_cmd(run, out, *texts, extra=()):
    args = ["sample", "--checkpoint", str(run), "-o", str(out), *extra]
    for t in texts:
        args += ["--text", t]
    return main(args)


# ---------------------------------------------------------------- the sample command
@pytest.mark.parametrize("suffix", [".svg", ".json", ".png", ".gif", ".inkml"])
def test_sample_writes_every_format(tiny_run, tmp_path, capsys, suffix):
    out = tmp_path / f"hello{suffix}"
    assert sample_cmd(tiny_run, out, "hello", extra=["--temperature", "0.5", "--guidance", "1.0"]) == 0
    assert f"wrote {out}" in capsys.readouterr().out
    data = out.read_bytes()
    assert len(data) > 100
    if suffix in (".json", ".inkml"):
        ink = read_ink(str(out))
        assert ink.text == "hello" and ink.num_points > 0 and ink.y_axis == "down"
    elif suffix == ".svg":
        assert b"<svg" in data and b"<path" in data or b"<polyline" in data
    else:
        with Image.open(out) as img:
            assert img.format == suffix[1:].upper() and img.width > 10


def test_sample_batch_is_reproducible_by_seed(tiny_run, tmp_path):
    a, b, c = tmp_path / "a.json", tmp_path / "b.json", tmp_path / "c.json"
    assert sample_cmd(tiny_run, a, "one", "two", extra=["--seed", "5"]) == 0
    assert sample_cmd(tiny_run, b, "one", "two", extra=["--seed", "5"]) == 0
    assert sample_cmd(tiny_run, c, "one", "two", extra=["--seed", "6"]) == 0
    assert not a.exists()  # a batch numbers its files
    for k in (1, 2):
        assert (tmp_path / f"a-{k}.json").read_bytes() == (tmp_path / f"b-{k}.json").read_bytes()
    assert read_json(tmp_path / "a-2.json").text == "two"
    assert (tmp_path / "a-1.json").read_bytes() != (tmp_path / "c-1.json").read_bytes()


def test_priming_continues_a_given_ink(tiny_run, tiny_generator, words, tmp_path):
    prime = words[0][0]
    path = tmp_path / "prime.json"
    write_json(prime, path)
    out = tmp_path / "primed.json"
    assert sample_cmd(tiny_run, out, "again", extra=["--prime", str(path), "--prime-text", prime.text]) == 0
    assert read_json(out).text == "again"
    # the prime changes what is written
    plain = tiny_generator.generate(["again"], seed=0)[0]
    primed = tiny_generator.generate(["again"], prime=(prime, prime.text), seed=0)[0]
    assert plain.num_points != primed.num_points or not np.allclose(plain.points(), primed.points())


def test_a_primed_text_ends_where_the_encoder_placed_it(tiny_generator, words):
    # A primer whose last stroke goes back to its start (a delayed i-dot or
    # t-bar): the pen ends far left of the primer's right edge, and the text
    # after it must still count as written only past its own last character.
    from inkstroke.sample.generate import SampleOptions

    ink = words[0][0]
    back = np.array([ink.strokes[0][0], ink.strokes[0][0] + [0.1, 0.0]])
    prime = (ink.copy(strokes=[*ink.strokes, back], times=None, pressures=None), ink.text)
    _, _, (chars, char_x, mask), _, (last_x, unit) = tiny_generator._memory(["again"], SampleOptions(), prime)
    assert last_x[0] == char_x[0, int(mask[0].sum()) - 1]
    rightmost = tiny_generator.stroke_tok.decode(tiny_generator.stroke_tok.encode(prime[0])).points()[:, 0].max()
    assert last_x[0] > rightmost + unit[0] * tiny_generator.text_tok.expected_width("again") * 0.5


def one_line_error(capsys, *needles):
    err = capsys.readouterr().err
    assert err.startswith("error: ") and err.count("\n") == 1, err
    assert "Traceback" not in err
    for n in needles:
        assert n in err, err


@pytest.mark.parametrize("text, needle", [
    ("", "empty"),
    ("   ", "empty"),
    ("a" * (MAX_TEXT + 1), f"at most {MAX_TEXT}"),
    ("hello \u65e5\u672c", "'\u65e5'"),
])
def test_bad_text_exits_2_with_one_line(tiny_run, tmp_path, capsys, text, needle):
    out = tmp_path / "x.svg"
    assert sample_cmd(tiny_run, out, text) == 2
    one_line_error(capsys, needle)
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("option, value, needle", [
    ("--temperature", "-1", "temperature must be a number of at least 0, got -1.0"),
    ("--temperature", "nan", "--temperature must be a finite number, got nan"),
    ("--bias", "-0.5", "bias must be a number of at least 0, got -0.5"),
    ("--guidance", "inf", "--guidance must be a finite number, got inf"),
    ("--top-k", "0", "top_k must be at least 1, got 0"),
    ("--top-p", "0", "top_p must be in (0, 1], got 0.0"),
])
def test_bad_sampling_settings_exit_2_with_one_line(tiny_run, tmp_path, capsys, option, value, needle):
    out = tmp_path / "x.svg"
    assert sample_cmd(tiny_run, out, "hello", extra=[option, value]) == 2
    one_line_error(capsys, needle)
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("settings, needle", [
    ({"temperature": float("nan")}, "temperature must be a number of at least 0, got nan"),
    ({"bias": -1.0}, "bias must be a number of at least 0, got -1.0"),
    ({"guidance": float("inf")}, "guidance must be a number of at least 0, got inf"),
    ({"steps_per_char": 0}, "steps_per_char must be at least 1"),
])
def test_sample_options_refuse_settings_that_would_sample_garbage(settings, needle):
    with pytest.raises(InkstrokeError, match=re.escape(needle)):
        SampleOptions(**settings)


def test_prime_without_its_text_is_an_error(tiny_run, tmp_path, capsys, words):
    path = tmp_path / "prime.json"
    write_json(words[0][0].copy(text=None), path)
    assert sample_cmd(tiny_run, tmp_path / "x.svg", "hi", extra=["--prime", str(path)]) == 2
    one_line_error(capsys, "--prime-text")


def test_a_file_that_is_not_a_checkpoint_is_named(tmp_path, capsys):
    other = tmp_path / "notes.json"
    other.write_text("{}")
    assert sample_cmd(other, tmp_path / "x.svg", "hello") == 2
    one_line_error(capsys, f"{other}: not an inkstroke checkpoint")


@pytest.mark.parametrize("damage", ["truncated weights", "missing folder", "bad json"])
def test_bad_checkpoint_exits_2_with_one_line(tiny_run_copy, tmp_path, capsys, damage):
    run = tiny_run_copy
    if damage == "truncated weights":
        data = (run / WEIGHTS).read_bytes()
        (run / WEIGHTS).write_bytes(data[:1000])
    elif damage == "missing folder":
        run = tmp_path / "no-such-run"
    else:
        (run / "checkpoint.json").write_text("{not json")
    out = tmp_path / "x.svg"
    assert sample_cmd(run, out, "hello") == 2
    one_line_error(capsys, str(run))
    assert not out.exists()


def test_the_installed_command_reports_a_corrupt_checkpoint_in_one_line(tiny_run_copy, tmp_path):
    (tiny_run_copy / WEIGHTS).write_bytes(b"\x00" * 10)
    res = subprocess.run([sys.executable, "-m", "inkstroke.cli.main", "sample", "--checkpoint",
                          str(tiny_run_copy), "--text", "hi", "-o", str(tmp_path / "x.svg")],
                         capture_output=True, text=True, timeout=300)
    assert res.returncode == 2
    assert res.stderr.count("\n") == 1 and "corrupt or missing weights" in res.stderr
    assert "Traceback" not in res.stderr and not (tmp_path / "x.svg").exists()


# ---------------------------------------------------------------- attention
def test_attention_command_writes_a_heatmap(tiny_run, tmp_path, capsys):
    out = tmp_path / "heat.png"
    assert main(["attention", "--checkpoint", str(tiny_run), "--text", "hello", "-o", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "diagonality" in printed and "layer 1: head 0" in printed
    with Image.open(out) as img:
        assert img.format == "PNG" and img.width > 100 and img.height > 100
    assert [p.name for p in tmp_path.iterdir()] == ["heat.png"]


def test_attention_maps(tiny_generator):
    w, text = attention_maps(tiny_generator, "hello", seed=0, temperature=0.5)
    layers, heads, steps, chars = w.shape
    assert (layers, heads, chars) == (2, 2, 5) and text == "hello" and steps > 2
    total = w.sum(-1)
    assert (total <= 1 + 1e-5).all() and (w >= 0).all()  # the null slot takes the rest
    # diagonality: +1 for a perfect left-to-right walk, -1 for right-to-left
    walk = np.zeros((1, 1, 10, 10))
    walk[0, 0, np.arange(10), np.arange(10)] = 1
    assert diagonality(walk) == pytest.approx(1.0)
    assert diagonality(walk[:, :, ::-1]) == pytest.approx(-1.0)
    assert np.isnan(diagonality(walk[:, :, :2]))  # too short to tell
    # one diagonal head among heads that look elsewhere: the average hides it, the table does not
    mixed = np.zeros((2, 3, 10, 10))
    mixed[:, :, :, 0] = 1
    mixed[1, 2] = walk[0, 0]
    rho = head_diagonality(mixed)
    assert rho.shape == (2, 3) and rho[1, 2] == pytest.approx(1.0)
    assert np.isnan(rho[0]).all() and np.isnan(diagonality(mixed))


# ---------------------------------------------------------------- generator
def test_stream_yields_the_points_of_generate(tiny_generator):
    streamed = list(tiny_generator.stream("stream", seed=2, temperature=0.7))
    ink = tiny_generator.generate(["stream"], seed=2, temperature=0.7)[0]
    assert streamed and all(isinstance(v, float) for v in streamed[0][:2])
    pts = np.array([p[:2] for p in streamed])
    # generate drops one-point pieces (waypoints of a jump); every point it keeps was streamed
    kept = ink.points()
    assert len(kept) <= len(pts)
    assert all(np.isclose(pts, p, atol=1e-6).all(1).any() for p in kept)


def test_length_caps(tiny_generator):
    n = len(list(tiny_generator.stream("ab", seed=0, max_steps=7, temperature=1.0)))
    assert n <= 7
    capped = len(list(tiny_generator.stream("ab", seed=0, steps_per_char=1, temperature=1.0)))
    assert capped <= 60  # at least 60 steps, else steps_per_char * len + 30
    with pytest.raises(InkstrokeError, match="min_steps must be at least 1"):
        SampleOptions(min_steps=0)


def test_each_text_of_a_batch_stops_at_its_own_length_cap_and_a_cut_draw_is_marked(tiny_generator):
    from inkstroke.sample.generate import row_caps
    from inkstroke.write.api import _acceptable

    texts, opts = ["go", "minimum", "a"], dict(seed=0, temperature=1.0, steps_per_char=3, min_steps=20)
    caps = row_caps(texts, SampleOptions(**opts))
    assert caps.tolist() == [36, 51, 33]
    lasted = np.sum([alive.numpy() for _, _, alive in tiny_generator.steps(texts, SampleOptions(**opts))], 0)
    assert (lasted <= caps).all()  # "go" and "a" do not run on to the cap of "minimum"
    inks = tiny_generator.generate(texts, **opts)
    cut = [bool(ink.meta.get("cut_at_cap")) for ink in inks]
    assert cut == (lasted == caps).tolist() and any(cut), lasted  # the barely trained model runs on
    for ink in inks:
        if ink.meta.get("cut_at_cap") and ink.num_points >= 2:
            assert not _acceptable(ink, 100.0)  # an unfinished draw is never chosen, however small
    assert not any("cut_at_cap" in ink.meta for ink in tiny_generator.generate(texts, run_to_cap=True, **opts))


def test_top_k_and_top_p_filters():
    logits = torch.tensor([[2.0, 1.0, 0.5, -1.0, 3.0]])
    k2 = _filter(logits, 2, None)
    assert torch.isfinite(k2).sum() == 2 and torch.isfinite(k2[0, [0, 4]]).all()
    probs = logits.softmax(-1)[0]  # 0.60 (idx 4), 0.22 (idx 0), ...
    p = _filter(logits, None, 0.7)
    assert torch.isfinite(p[0, [4, 0]]).all() and torch.isfinite(p).sum() == 2
    assert probs[4] < 0.7 < probs[4] + probs[0]
    assert torch.isfinite(_filter(logits, None, 0.1)).sum() == 1  # the top choice always stays
    assert torch.equal(_filter(logits, None, None), logits)


def test_stream_words_writes_word_by_word_in_reading_order(tiny_generator):
    from inkstroke.sample.generate import WORD_SPACE, SampleOptions

    opts = dict(temperature=0.8, seed=5, guidance=0.0)
    words = ["ab", "quick", "cd"]
    # what the batch decoder produces for each word, step by step
    raw: list[list[float]] = [[] for _ in words]
    for pos, _, alive in tiny_generator.steps(words, SampleOptions(**opts)):
        for k in np.flatnonzero(alive.numpy()):
            raw[k].append(float(pos[k, 0]))
    streamed = list(tiny_generator.stream_words(" ".join(words), **opts))
    assert len(streamed) == sum(len(r) for r in raw) and streamed[0][2]
    k, right = 0, None
    for r in raw:
        xs = np.array([p[0] for p in streamed[k : k + len(r)]])
        assert streamed[k][2]  # each word begins with a move in the air
        # the word's own shape, shifted as a whole ...
        assert np.allclose(np.diff(xs), np.diff(r), atol=1e-5)
        # ... to start WORD_SPACE (1.8) body heights right of the word before it
        if right is not None:
            assert xs.min() == pytest.approx(right + WORD_SPACE, abs=1e-4)
        right, k = xs.max(), k + len(r)


def test_row_noise_is_splitmix64_read_at_each_rows_own_counter():
    """The tensor version against the integer one, keys at the edges of 64 bits
    included: int64 arithmetic must wrap exactly as unsigned arithmetic does."""
    keys = [splitmix64(s) for s in range(5)] + [0, (1 << 64) - 1, 1 << 63]
    u = RowNoise(keys).uniform(torch.tensor([6, 0, 3, 7]), 3, 7)
    for row, key in zip(u, [keys[6], keys[0], keys[3], keys[7]]):
        for j in range(7):
            state = (key + (3 * NOISE_STRIDE + j) * 0x9E3779B97F4A7C15) % (1 << 64)
            assert float(row[j]) == ((splitmix64(state) >> 41) + 0.5) / 2**23


def test_row_noise_is_uniform_and_rows_do_not_echo_each_other():
    u = RowNoise(SampleOptions(seed=0).row_keys(2000))
    a = torch.cat([u.uniform(torch.arange(2000), t, 49) for t in range(20)]).numpy()
    counts = np.histogram(a, 50, (0, 1))[0]
    expected = a.size / 50
    assert ((counts - expected) ** 2 / expected).sum() < 100  # chi-square, 49 degrees of freedom
    assert 0 < a.min() and a.max() < 1
    assert abs(np.corrcoef(a[:-1].ravel(), a[1:].ravel())[0, 1]) < 0.01  # seed r and r + 1
    assert not np.array_equal(u.uniform(torch.arange(3), 0, 5), u.uniform(torch.arange(3), 1, 5))


def test_a_block_of_noise_is_each_steps_own_noise():
    noise = RowNoise(SampleOptions(seed=4).row_keys(6))
    rows = torch.tensor([5, 1, 2])
    block = noise.block(rows, 10, 16, 49)
    for j in range(16):
        assert torch.equal(block[:, j], noise.uniform(rows, 10 + j, 49))


@pytest.mark.parametrize("t", [0.05, 0.5, 1.0])
def test_drawing_through_gumbel_noise_is_drawing_from_the_softmax(t):
    """The sampler's form of the draws (bins_noise, _pick) against the plain
    one: the same pen bits and bins from the same uniforms, draw for draw."""
    n = 50000
    u = RowNoise(SampleOptions(seed=5).row_keys(n)).uniform(torch.arange(n), 0, 49)
    g = bins_noise(u, t)
    logits, pen_logit = torch.randn(n, 24) * 3, torch.randn(n) * 4
    assert torch.equal(_pick(logits, g[:, 1:25], SampleOptions(), t),
                       _categorical((logits / t).softmax(-1), u[:, 1:25]))
    assert torch.equal(pen_logit > g[:, 0], u[:, 0] < torch.sigmoid(pen_logit / t))
    # a top-k cut keeps the draws among the k likeliest bins
    kept = _pick(logits, g[:, 1:25], SampleOptions(top_k=3), t)
    assert (logits.gather(1, kept[:, None]) >= logits.topk(3).values[:, -1:]).all()


def test_categorical_draws_in_proportion_and_never_an_empty_bin():
    probs = torch.rand(24) ** 3
    probs[5:9] = 0.0
    probs = probs / probs.sum()
    noise = RowNoise(SampleOptions(seed=3).row_keys(20000)).uniform(torch.arange(20000), 0, 24)
    drawn = _categorical(probs.expand(20000, -1), noise)
    assert not ((drawn >= 5) & (drawn < 9)).any()
    freq = torch.bincount(drawn, minlength=24) / 20000
    assert torch.allclose(freq, probs, atol=0.012)


def test_a_rows_draw_does_not_depend_on_its_batch(tiny_generator):
    """With a seed of its own, a text is written the same alone, in a batch, or
    in another order: what lets ``write`` share its words out between processes."""
    texts, seeds = ["hello", "the", "world", "is"], (11, 12, 13, 14)
    together = tiny_generator.generate(texts, temperature=0.8, row_seeds=seeds)
    reversed_ = tiny_generator.generate(texts[::-1], temperature=0.8, row_seeds=seeds[::-1])[::-1]
    alone = [tiny_generator.generate([t], temperature=0.8, row_seeds=(s,))[0] for t, s in zip(texts, seeds)]
    for a, b, c in zip(together, reversed_, alone):
        assert a.num_points > 0
        assert all(np.array_equal(x, y) for x, y in zip(a.strokes, b.strokes)) and len(a.strokes) == len(b.strokes)
        assert all(np.array_equal(x, y) for x, y in zip(a.strokes, c.strokes)) and len(a.strokes) == len(c.strokes)
    other = tiny_generator.generate(texts, temperature=0.8, row_seeds=(21, 12, 13, 14))
    assert other[0].num_points != together[0].num_points or not np.array_equal(other[0].points(), together[0].points())
    with pytest.raises(InkstrokeError, match="row_seeds has 3 seeds for 4 texts"):
        tiny_generator.generate(texts, row_seeds=(1, 2, 3))
