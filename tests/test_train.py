"""Training: token caches, losses, schedule, checkpoints, resume, NaN stop, overfit ladder, DDP."""

import json
import os
import re
import subprocess
import sys
import tomllib
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
import torch
import torch.nn.functional as F

import inkstroke.train.loop as loop
from conftest import REPO, TINY_CONFIG, TINY_STEPS
from inkstroke.cli.main import main
from inkstroke.errors import InkstrokeError
from inkstroke.model.checkpoint import META, WEIGHTS, load_checkpoint
from inkstroke.model.transformer import HandwritingModel
from inkstroke.train.data import TokenCache, bucketed_batches, build_cache, char_positions, collate
from inkstroke.train.loop import (
    TrainConfig,
    evaluate,
    focal_bce,
    load_config,
    lr_at,
    train,
    warm_start,
)
from inkstroke.train.overfit import overfit_ladder

torch.set_num_threads(1)  # two cores, shared: more threads only contend


def snapshot(run: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(run.iterdir()) if p.is_file()}


# ---------------------------------------------------------------- configs
def test_every_shipped_config_loads_and_comments_each_value():
    configs = sorted((REPO / "configs").glob("*.toml"))
    assert TINY_CONFIG in configs
    for path in configs:
        if path.name == "recognizer.toml":
            from inkstroke.recognize.train import load_recognizer_config

            cfg = load_recognizer_config(path)
        elif path.name == "image-reader.toml":
            from inkstroke.recognize.train_image import load_image_reader_config

            cfg = load_image_reader_config(path)
        elif path.name.startswith("distill"):
            from inkstroke.train.distill import load_distill_config

            cfg = load_distill_config(path)
            assert all(getattr(cfg, k) == v for k, v in tomllib.loads(path.read_text()).items())
        else:
            cfg = load_config(path)
        raw = tomllib.loads(path.read_text())
        assert cfg.steps == raw.get("steps", TrainConfig().steps)
        for key, value in raw.get("model", {}).items():
            got = getattr(cfg.model, key)
            assert (list(got) if isinstance(got, tuple) else got) == value
        for n, line in enumerate(path.read_text().splitlines(), 1):
            if "=" in line and not line.lstrip().startswith("#"):
                assert "#" in line, f"{path.name}:{n}: value without a comment"


def test_config_errors(tmp_path):
    assert load_config(TINY_CONFIG, {"steps": 5, "lr": 0.5}).steps == 5
    bad = tmp_path / "bad.toml"
    bad.write_text("steps = 10\nstepz = 3\n[model]\nd_model = 32\nwidth = 3\n")
    with pytest.raises(InkstrokeError, match=r"unknown keys \['model.width', 'stepz'\]"):
        load_config(bad)
    bad.write_text("steps = = 3\n")
    with pytest.raises(InkstrokeError, match="invalid TOML"):
        load_config(bad)
    with pytest.raises(InkstrokeError, match="no such config"):
        load_config(tmp_path / "missing.toml")


# ---------------------------------------------------------------- pieces
def test_focal_loss():
    logits = torch.tensor([-4.0, -0.5, 0.0, 0.5, 4.0])
    target = torch.tensor([0.0, 1.0, 1.0, 0.0, 1.0])
    bce = F.binary_cross_entropy_with_logits(logits, target, reduction="none")
    assert torch.allclose(focal_bce(logits, target, 0.0, 0.5), bce)
    focal = focal_bce(logits, target, 2.0, 0.5)
    assert (focal <= bce + 1e-7).all()
    easy, hard = [0, 4], [1, 3]
    assert (focal[easy] / bce[easy]).max() < 0.01 < (focal[hard] / bce[hard]).min()
    # alpha weighs the positive class
    assert focal_bce(logits, target, 2.0, 0.9)[4] > focal[4] > focal_bce(logits, target, 2.0, 0.1)[4]


def test_learning_rate_warms_up_then_decays_to_the_floor():
    cfg = TrainConfig(steps=1000, warmup=100, lr=1e-3, min_lr=1e-5)
    lrs = np.array([lr_at(s, cfg) for s in range(1000)])
    assert lrs[0] == pytest.approx(1e-5) and lrs[99] == pytest.approx(1e-3)
    assert (np.diff(lrs[:100]) > 0).all() and (np.diff(lrs[100:]) <= 0).all()
    assert lr_at(1000, cfg) == pytest.approx(1e-5)


def test_length_buckets_cover_every_example_once_within_the_token_budget():
    rng = np.random.default_rng(0)
    lengths = rng.integers(5, 300, 5000)
    batches = bucketed_batches(lengths, 2048, np.random.default_rng(1))
    flat = np.concatenate(batches)
    assert sorted(flat.tolist()) == list(range(5000))
    for b in batches:
        assert (lengths[b].max() + 1) * len(b) <= 2048
    padding = sum((lengths[b].max() + 1) * len(b) - (lengths[b] + 1).sum() for b in batches)
    assert padding / (lengths + 1).sum() < 0.05  # bucketing keeps padding small
    again = bucketed_batches(lengths, 2048, np.random.default_rng(1))
    assert all(np.array_equal(a, b) for a, b in zip(batches, again))


# ---------------------------------------------------------------- token cache
def test_prepared_token_cache(token_cache, words):
    cache = TokenCache.load(token_cache)
    n_train, n_valid = len(cache.indices("train")), len(cache.indices("valid"))
    assert n_train > 20 and n_valid > 5 and n_train + n_valid == len(cache)
    assert len(cache) >= 0.8 * len(words[0])
    steps, chars, (x0, x1) = cache.example(0)
    assert steps.shape[1] == 3 and cache.text_tok.decode(chars.tolist()) == cache.texts[0]
    assert x1 > x0
    assert cache.text_tok.widths  # character widths were fitted on the train words
    # stretched character positions start and end inside the ink's extent
    x = char_positions(cache.text_tok, chars, (x0, x1))
    assert len(x) == len(chars) and x0 < x[0] and x[-1] < x1 and (np.diff(x) > 0).all()


def test_build_cache_leaves_out_unusable_inks(words):
    inks = list(words[0][:6])
    inks[1] = inks[1].copy(text="caf\u00e9")  # unknown character
    inks[2] = inks[2].copy(text="")  # unlabelled
    long = [s + (40.0 * k * inks[3].body_height(), 0) for k in range(12) for s in inks[3].strokes]
    inks[3] = inks[3].copy(strokes=long)  # over max_steps
    from inkstroke.tokenize.strokes import StrokeTokenizer
    from inkstroke.tokenize.text import TextTokenizer

    stok = StrokeTokenizer.fit(words[0], 24)
    cache = build_cache(inks, ["train"] * 6, stok, TextTokenizer(), max_steps=400)
    assert cache.texts == [inks[k].text for k in (0, 4, 5)]
    with pytest.raises(InkstrokeError, match="no usable"):
        build_cache(inks[1:4], ["train"] * 3, stok, TextTokenizer())


def test_corrupt_token_cache_is_an_error(tmp_path):
    path = tmp_path / "tokens.npz"
    path.write_bytes(b"PK\x03\x04 not really a zip")
    with pytest.raises(InkstrokeError, match="not a token cache"):
        TokenCache.load(path)


# ---------------------------------------------------------------- training
def test_training_reduces_the_loss_and_writes_a_complete_run(tiny_run, token_cache):
    files = {p.name for p in tiny_run.iterdir()}
    assert {WEIGHTS, META, "optimizer.pt"} <= files
    assert not [f for f in files if f.endswith(".tmp")]
    model, _, _, meta = load_checkpoint(tiny_run)
    assert meta["step"] == TINY_STEPS and meta["train_seconds"] > 0
    assert meta["data"]["train_examples"] > 0 and meta["hardware"]["cpus"]
    cache = TokenCache.load(token_cache)
    cfg = load_config(TINY_CONFIG)
    torch.manual_seed(0)
    fresh = HandwritingModel(model.cfg)
    before = evaluate(fresh, cache, cache.indices("valid"), cfg, "cpu", False)
    after = evaluate(model, cache, cache.indices("valid"), cfg, "cpu", False)
    assert after["valid_total"] < before["valid_total"] - 0.5
    assert after["valid_dx"] < before["valid_dx"] and after["valid_dy"] < before["valid_dy"]
    assert meta["figures"]["valid_total"] == pytest.approx(after["valid_total"], rel=1e-4)


def test_resume_continues_from_the_saved_step(tiny_run_copy, token_cache, monkeypatch):
    run = tiny_run_copy
    before = snapshot(run)
    old_meta = json.loads(before[META])
    steps_seen = []

    def spy(step, cfg):
        steps_seen.append(step)
        return lr_at(step, cfg)

    monkeypatch.setattr(loop, "lr_at", spy)
    # asking for no more steps than were done trains nothing and touches nothing
    assert train(token_cache, load_config(TINY_CONFIG, {"steps": TINY_STEPS}), run, resume=True,
                 quiet=True, log=False) == {}
    assert snapshot(run) == before and steps_seen == []
    train(token_cache, load_config(TINY_CONFIG, {"steps": TINY_STEPS + 4}), run, resume=True,
          quiet=True, log=False)
    assert steps_seen == list(range(TINY_STEPS, TINY_STEPS + 4))
    meta = json.loads((run / META).read_text())
    assert meta["step"] == TINY_STEPS + 4
    assert meta["train_seconds"] > old_meta["train_seconds"]
    assert (run / WEIGHTS).read_bytes() != before[WEIGHTS]
    opt = torch.load(run / "optimizer.pt", weights_only=False)
    assert opt["step"] == TINY_STEPS + 4
    assert all(s["step"] == TINY_STEPS + 4 for s in opt["optimizer"]["state"].values())


def test_resume_without_a_checkpoint_starts_afresh(tmp_path, token_cache, capsys):
    figures = train(token_cache, load_config(TINY_CONFIG, {"steps": 2, "eval_every": 100}), tmp_path / "new",
                    resume=True, log=False)
    assert "starting afresh" in capsys.readouterr().err
    assert json.loads((tmp_path / "new" / META).read_text())["step"] == 2
    assert np.isfinite(figures["train_loss"])


def test_nan_loss_stops_training_and_keeps_the_last_checkpoint(tiny_run_copy, token_cache):
    run = tiny_run_copy
    before = snapshot(run)
    cfg = load_config(TINY_CONFIG, {"steps": TINY_STEPS + 20, "lr": 1e9, "save_every": 1})
    with pytest.raises(InkstrokeError, match=r"loss became (nan|inf).*last good checkpoint"):
        train(token_cache, cfg, run, resume=True, quiet=True, log=False)
    assert snapshot(run) == before


def test_nan_from_the_loss_itself_stops_at_once(tiny_run_copy, token_cache, monkeypatch):
    run = tiny_run_copy
    before = snapshot(run)
    real = loop.losses

    def poisoned(*args):
        terms = real(*args)
        terms["total"] = terms["total"] * float("nan")
        return terms

    monkeypatch.setattr(loop, "losses", poisoned)
    with pytest.raises(InkstrokeError, match=f"at step {TINY_STEPS}"):
        train(token_cache, load_config(TINY_CONFIG, {"steps": TINY_STEPS + 5}), run, resume=True,
              quiet=True, log=False)
    assert snapshot(run) == before


def test_warm_start_copies_what_fits_and_begins_as_the_source(tiny_run, tiny_run_copy, token_cache, tmp_path):
    source, _, _, _ = load_checkpoint(tiny_run)
    cfg = replace(source.cfg, window_sigma=0.5)  # a new part: the character window
    model = HandwritingModel(cfg).eval()
    assert warm_start(model, tiny_run) == len(source.state_dict())
    batch = collate(TokenCache.load(token_cache), [0, 1])
    a, b = source(batch), model(batch)
    assert all(torch.allclose(a[k], b[k], atol=1e-5) for k in ("pen", "end", "dx", "dy"))
    # a run that starts warm says so in its checkpoint
    tcfg = load_config(TINY_CONFIG, {"steps": 2, "eval_every": 100})
    train(token_cache, tcfg, tmp_path / "warm", quiet=True, log=False, init_from=tiny_run)
    assert json.loads((tmp_path / "warm" / META).read_text())["warm_start"] == str(tiny_run)
    (tiny_run_copy / WEIGHTS).write_bytes(b"\x00" * 64)
    with pytest.raises(InkstrokeError, match="cannot warm-start"):
        warm_start(model, tiny_run_copy)


# ---------------------------------------------------------------- overfit ladder
def test_overfit_ladder_memorises_one_real_word(token_cache, capsys):
    assert overfit_ladder(token_cache, 1, load_config(TINY_CONFIG))
    out = capsys.readouterr().out
    acc, err = re.search(r"accuracy=([\d.]+) free-run mean point error=([\d.]+)", out).groups()
    assert float(acc) >= 0.9 and float(err) <= 0.15 and "MEMORISED" in out


def test_overfit_ladder_fails_when_given_too_few_steps(token_cache, tmp_path, capsys):
    assert not overfit_ladder(token_cache, 1, load_config(TINY_CONFIG), max_steps=10)
    assert "NOT memorised" in capsys.readouterr().out
    # the command line says so with its exit code
    args = ["train", "--data", str(token_cache), "--config", str(TINY_CONFIG), "--out", str(tmp_path / "o"),
            "--overfit", "1", "--steps", "10"]
    assert main(args) == 1


@pytest.mark.slow
def test_overfit_command_exits_0_when_memorised(token_cache, tmp_path):
    args = ["train", "--data", str(token_cache), "--config", str(TINY_CONFIG), "--out", str(tmp_path / "o"),
            "--overfit", "1"]
    assert main(args) == 0


def test_train_command_errors_are_one_line(tmp_path, capsys):
    assert main(["train", "--data", str(tmp_path / "nothing.inks"), "--out", str(tmp_path / "o")]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "nothing.inks" in err and "Traceback" not in err


# ---------------------------------------------------------------- data parallel
SPY = """
import json, os, sys
import inkstroke.train.loop as loop
from inkstroke.cli.main import main

seen, collate = [], loop.collate
def spy(cache, idx, *args, **kw):
    if args:  # training batches (evaluation passes keywords only)
        seen.append([int(i) for i in idx])
    return collate(cache, idx, *args, **kw)
loop.collate = spy
code = main(sys.argv[1:])
out = sys.argv[sys.argv.index("--out") + 1]
with open(os.path.join(out, f"rank-{os.environ['RANK']}.json"), "w") as f:
    json.dump(seen, f)
sys.exit(code)
"""


def test_data_parallel_training_with_torchrun(tmp_path, token_cache):
    script = tmp_path / "spy.py"
    script.write_text(SPY)
    run = tmp_path / "ddp"
    steps = 4
    env = {**os.environ, "OMP_NUM_THREADS": "1", "PYTHONWARNINGS": "ignore"}
    cmd = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node", "2",
           str(script), "train", "--data", str(token_cache), "--config", str(TINY_CONFIG), "--out", str(run),
           "--steps", str(steps)]
    res = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=900)
    assert res.returncode == 0, res.stderr[-3000:]
    meta = json.loads((run / META).read_text())
    assert meta["step"] == steps
    # each process trained on its own share of the epoch
    shares = [json.loads((run / f"rank-{r}.json").read_text()) for r in (0, 1)]
    assert [len(s) for s in shares] == [steps, steps]
    first, second = ({i for b in s for i in b} for s in shares)
    assert first and second and not first & second
    # DDP kept the replicas identical: both evaluate to the same validation loss
    totals = re.findall(r"valid_total=([\d.]+)", res.stdout)
    assert len(totals) == 2 and totals[0] == totals[1], res.stdout
