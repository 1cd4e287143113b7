"""Guidance distillation: the teacher's draws as tokens, the KL it learns, a run."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from inkstroke.cli.main import main
from inkstroke.errors import InkstrokeError
from inkstroke.model.checkpoint import load_checkpoint
from inkstroke.sample.generate import Generator, _to_ink
from inkstroke.train.data import TokenCache, collate
from inkstroke.train.distill import (
    DistillConfig,
    _teacher_outputs,
    distill,
    distill_losses,
    make_student,
    teacher_samples,
    validate,
    word_pool,
)
from inkstroke.write.api import MODEL_DIR, default_guidance, write

WORDS = ["the", "quick", "brown", "fox", "jumps", "over", "a", "lazy", "dog", "Pack", "my", "box"]


def test_teacher_samples_are_the_guided_draws(tiny_run):
    gen = Generator.from_checkpoint(tiny_run)
    cfg = DistillConfig(guidance=1.5, temperature=0.6, sample_batch=64, seed=3)
    pool = teacher_samples(gen, WORDS, ["train"] * len(WORDS), cfg)
    order = sorted(range(len(WORDS)), key=lambda i: len(WORDS[i]))  # as the pool's teacher wrote them
    drawn = gen.generate([WORDS[i] for i in order], temperature=0.6, guidance=1.5, seed=3)
    centers = np.stack([gen.stroke_tok.x.centers, gen.stroke_tok.y.centers], 1)
    by_word = dict(zip([WORDS[i] for i in order], drawn))
    assert len(pool) > len(WORDS) // 2
    for k, word in enumerate(pool.texts):
        steps, chars, extent = pool.example(k)
        assert np.isnan(extent).all() and gen.text_tok.decode(chars.tolist()) == word
        points = np.cumsum(centers[steps[:, 0], 0]), np.cumsum(centers[steps[:, 1], 1])
        again = _to_ink(np.column_stack(points), steps[:, 2], word)
        want = by_word[word]
        assert len(again.strokes) == len(want.strokes)
        np.testing.assert_allclose(again.points(), want.points(), atol=1e-4)


def test_nan_extent_collates_to_the_sampling_positions(tiny_run):
    gen = Generator.from_checkpoint(tiny_run)
    pool = teacher_samples(gen, ["hello", "ink"], ["train", "train"], DistillConfig(sample_batch=8))
    batch = collate(pool, np.arange(len(pool)))
    for k, word in enumerate(pool.texts):
        want = gen.text_tok.x_centers(word)
        np.testing.assert_allclose(batch["char_x"][k, : len(word)].numpy(), want, atol=1e-5)


def test_the_kl_is_the_gap_guidance_makes():
    # a model that reads its text (the tiny one hardly does); the shipped one is itself distilled,
    # but its unconditioned pass is still there to guide with
    teacher = load_checkpoint(MODEL_DIR)[0]
    gen = Generator.from_checkpoint(MODEL_DIR)
    pool = teacher_samples(gen, WORDS, ["train"] * len(WORDS), DistillConfig(sample_batch=64))
    batch = collate(pool, np.arange(len(pool)))
    cond, uncond = _teacher_outputs(teacher, batch, 1.5)
    with torch.no_grad():
        student = teacher(batch)
    unguided = distill_losses(student, cond, uncond, batch, 0.0)
    assert all(abs(v.item()) < 1e-5 for v in unguided.values())  # the teacher is its own unguided self
    guided = distill_losses(student, cond, uncond, batch, 1.5)
    assert guided["dx"].item() > 1e-3 and guided["dy"].item() > 1e-3 and guided["end"].item() < 1e-5


def test_word_pool_mixes_training_words_and_made_up_ones(inks_file, tiny_run):
    gen = Generator.from_checkpoint(tiny_run)
    supported = set(gen.text_tok.vocab[2:])
    pool = word_pool(inks_file, 200, 0.25, supported, np.random.default_rng(0))
    assert len(pool) == 200 and all(w and " " not in w and set(w) <= supported for w in pool)
    from inkstroke.io.container import InkDataset

    train_words = {w for r in InkDataset(inks_file).records if r.get("split") == "train" for w in r["text"].split()}
    made_up = [w for w in pool if w not in train_words]
    assert 30 <= len(made_up) <= 60  # about a quarter (a made-up word can be a real one by chance)


def test_distill_run_learns_saves_and_resumes(inks_file, tiny_run, tmp_path):
    cfg = DistillConfig(words=64, valid_words=16, steps=30, max_tokens=2048, lr=5e-4, warmup=5,
                        eval_every=15, save_every=15, sample_batch=96, threads=2)
    run = tmp_path / "student"
    distill(MODEL_DIR, inks_file, cfg, run, quiet=True)
    pool = TokenCache.load(run / "pool.npz")
    teacher = load_checkpoint(MODEL_DIR)[0]
    before = validate(teacher, teacher, pool, pool.indices("valid"), cfg.guidance)["valid_kl_total"]
    student, _, _, meta = load_checkpoint(run)
    after = validate(student, teacher, pool, pool.indices("valid"), cfg.guidance)["valid_kl_total"]
    assert after < 0.8 * before
    assert meta["step"] == 30 and meta["sampling"] == {"guidance": 0.0, "distilled_guidance": 1.5}
    assert meta["distilled_from"] == str(MODEL_DIR) and meta["data"]["valid_examples"] == len(pool.indices("valid"))
    gen = Generator.from_checkpoint(run)
    assert meta["teacher"]["command"] == load_checkpoint(MODEL_DIR)[3]["command"]
    assert default_guidance(gen) == 0.0 and default_guidance(Generator.from_checkpoint(tiny_run)) == 1.5
    assert write("hi ink", model=str(run), candidates=1).settings["guidance"] == 0.0
    pool_time = (run / "pool.npz").stat().st_mtime_ns
    distill(MODEL_DIR, inks_file, DistillConfig(**{**cfg.__dict__, "steps": 40}), run, resume=True, quiet=True)
    assert load_checkpoint(run)[3]["step"] == 40 and (run / "pool.npz").stat().st_mtime_ns == pool_time


def test_a_smaller_student_keeps_the_chosen_layers_and_learns(inks_file, tmp_path):
    teacher = load_checkpoint(MODEL_DIR)[0]
    student = make_student(teacher, [0, 1, 3])
    assert student.cfg.n_dec == 3 and len(student.decoder) == 3 and teacher.cfg.n_dec == 4
    assert torch.equal(student.decoder[2].mlp[0].weight, teacher.decoder[3].mlp[0].weight)
    assert student.decoder[2].mlp[0].weight is not teacher.decoder[3].mlp[0].weight  # a copy
    for bad in ([], [0, 4], [1, 1]):
        with pytest.raises(InkstrokeError, match="decoder_layers"):
            make_student(teacher, bad)
    # unguided: it learns the teacher's own choices, and keeps the guidance built into the teacher
    cfg = DistillConfig(guidance=0.0, decoder_layers=[0, 1, 3], temperature=0.5, words=64, valid_words=16,
                        steps=30, max_tokens=2048, lr=5e-4, warmup=5, eval_every=30, save_every=30,
                        sample_batch=96, threads=2)
    run = tmp_path / "small"
    distill(MODEL_DIR, inks_file, cfg, run, quiet=True)
    pool = TokenCache.load(run / "pool.npz")
    idx = pool.indices("valid")
    before = validate(student, teacher, pool, idx, 0.0)["valid_kl_total"]
    small, _, _, meta = load_checkpoint(run)
    assert small.cfg.n_dec == 3 and meta["train_config"]["decoder_layers"] == [0, 1, 3]
    assert validate(small, teacher, pool, idx, 0.0)["valid_kl_total"] < 0.8 * before
    assert meta["sampling"] == {"guidance": 0.0, "distilled_guidance": 1.5}
    with pytest.raises(InkstrokeError, match="would be the teacher"):
        distill(MODEL_DIR, inks_file, DistillConfig(guidance=0.0), tmp_path / "same", quiet=True)
    assert not (tmp_path / "same").exists()


def test_cli_distill_bad_input_exits_2_with_one_line(tmp_path, inks_file, capsys):
    def fails(*args: str, needle: str) -> None:
        assert main(["distill", *args]) == 2
        err = capsys.readouterr().err
        assert err.startswith("error: ") and err.count("\n") == 1 and needle in err, err

    out = tmp_path / "out"
    fails("--teacher", str(tmp_path / "nowhere"), "--data", str(inks_file), "--out", str(out), needle="nowhere")
    bad = tmp_path / "bad.toml"
    bad.write_text("guidance = 1.5\nnonsense = 3\n")
    fails("--teacher", str(MODEL_DIR), "--data", str(inks_file), "--config", str(bad), "--out", str(out),
          needle="nonsense")
    fails("--teacher", str(MODEL_DIR), "--data", str(tmp_path / "none.inks"), "--out", str(out), needle="none.inks")
    assert not out.exists()
