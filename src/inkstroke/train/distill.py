"""Guidance distillation: one decoder pass per step where guidance takes two.

Classifier-free guidance (``guidance`` g > 0 in :mod:`inkstroke.sample.generate`)
runs every sequence twice, with its text and without, and draws each choice
from ``uncond + (1 + g) * (cond - uncond)`` logits: twice the decoder rows,
most of ``write``'s time. A student, begun as a copy of the teacher, learns
those guided distributions directly (pen, Δx given the pen, Δy given both,
and the teacher's end probability), so that it samples alike with guidance 0,
one decoder pass per step.

It learns them on words the guided teacher writes itself, at the sampling
temperature of ``write``: the contexts the student meets when it samples,
not the human ones of the training data. The words are those of the training
writers' texts, plus a share of made-up ones over every printable character,
so that no character loses what the teacher knew of it. The teacher's
samples are a token cache (``pool.npz`` in the run) whose character
positions are the expected ones used when sampling (``x_extent`` NaN).
"""

from __future__ import annotations

import string
import sys
import time
from dataclasses import asdict, dataclass, fields, replace
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from inkstroke.errors import InkstrokeError
from inkstroke.model.checkpoint import META, load_checkpoint, save_checkpoint
from inkstroke.model.transformer import HandwritingModel
from inkstroke.sample.generate import Generator, SampleOptions
from inkstroke.train.data import TokenCache, bucketed_batches, collate
from inkstroke.train.loop import lr_at, read_toml  # lr_at: the same warm-up and cosine
from inkstroke.write.api import MAX_WORD  # write writes longer words in pieces of this length


@dataclass
class DistillConfig:
    guidance: float = 1.5  # the teacher's guidance the student learns
    temperature: float = 0.6  # of the teacher's samples (write's default)
    words: int = 40000  # teacher samples to learn from
    valid_words: int = 1000  # held-out samples (other words' draws) for the validation loss
    made_up: float = 0.15  # share of made-up words over every printable character
    steps: int = 4000
    max_tokens: int = 4096  # padded decoder steps per batch
    lr: float = 2e-4
    min_lr: float = 2e-5
    warmup: int = 100
    clip: float = 1.0
    seed: int = 0
    eval_every: int = 250
    save_every: int = 250
    threads: int = 2
    sample_batch: int = 192  # words decoded together while the teacher writes the pool
    decoder_layers: list[int] | None = None  # the teacher's decoder layers the student keeps (None: all)


def load_distill_config(path: str | Path | None, overrides: dict | None = None) -> DistillConfig:
    raw = read_toml(path)
    raw.update(overrides or {})
    unknown = set(raw) - {f.name for f in fields(DistillConfig)}
    if unknown:
        raise InkstrokeError(f"{path or 'config'}: unknown keys {sorted(unknown)}")
    return DistillConfig(**raw)


def word_pool(data: str | Path, n: int, made_up: float, supported: set[str],
              rng: np.random.Generator) -> list[str]:
    """``n`` words: drawn (with their frequencies) from the training writers'
    texts in ``data`` (an ``.inks`` dataset), and a share ``made_up`` of random
    strings of 1 to 8 supported characters."""
    from inkstroke.io.container import InkDataset
    from inkstroke.tokenize.text import normalise_text

    ds = InkDataset(data)
    words = [w for r in ds.records if r.get("split") == "train" and r.get("text")
             for w in normalise_text(r["text"]).split()
             if len(w) <= MAX_WORD and set(w) <= supported]
    if not words:
        raise InkstrokeError(f"{data}: no training-split texts to draw words from")
    n_made = int(round(n * made_up))
    chars = sorted(set(string.printable.strip()) & supported)
    made = [normalise_text("".join(rng.choice(chars, size=int(rng.integers(1, 9))))) for _ in range(n_made)]
    real = [words[i] for i in rng.integers(0, len(words), size=n - n_made)]
    pool = real + made
    rng.shuffle(pool)
    return pool


def sample_draws(gen: Generator, words: list[str], opts: SampleOptions) -> list[tuple[np.ndarray, np.ndarray]]:
    """One draw of each word, decoded together: its pen positions (T, 2)
    float32, y down, first step from the origin, and pen bits (T,)."""
    run = [tuple(t.numpy() for t in out) for out in gen.steps(words, opts)]
    if not run:
        return [(np.zeros((0, 2), np.float32), np.zeros(0, np.int64)) for _ in words]
    pos, pen, alive = (np.stack(part) for part in zip(*run))
    return [(pos[alive[:, k], k], pen[alive[:, k], k]) for k in range(len(words))]


def step_ids(gen: Generator, points: np.ndarray, pens: np.ndarray) -> np.ndarray:
    """A draw's motion tokens (T, 3) int16 back from its positions: every
    sampled move is a bin centre, so each is the nearest one."""
    d = np.diff(np.vstack([np.zeros((1, 2)), points.astype(np.float64)]), axis=0)
    return np.column_stack([np.abs(d[:, :1] - gen.stroke_tok.x.centers).argmin(1),
                            np.abs(d[:, 1:] - gen.stroke_tok.y.centers).argmin(1), pens]).astype(np.int16)


def sample_cache(gen: Generator, words: list[str], splits: list[str], steps: list[np.ndarray]) -> TokenCache:
    """A token cache of sampled draws (``steps[i]`` of ``words[i]``) whose
    character positions are the expected ones used when sampling (``x_extent``
    NaN); draws of fewer than two steps are left out."""
    keep = [i for i in range(len(words)) if len(steps[i]) >= 2]
    off = lambda parts: np.concatenate([[0], np.cumsum([len(p) for p in parts])]).astype(np.int64)  # noqa: E731
    tok = [steps[i] for i in keep]
    chars = [gen.text_tok.encode(words[i]).astype(np.int16) for i in keep]
    return TokenCache(np.concatenate(tok), off(tok), np.concatenate(chars), off(chars),
                      np.full((len(keep), 2), np.nan, dtype=np.float32), np.asarray([splits[i] for i in keep]),
                      [words[i] for i in keep], gen.stroke_tok, gen.text_tok)


def teacher_samples(gen: Generator, words: list[str], splits: list[str], cfg: DistillConfig,
                    progress=None) -> TokenCache:
    """The guided teacher's draw of each word, as motion tokens."""
    order = sorted(range(len(words)), key=lambda i: len(words[i]))
    steps: list[np.ndarray] = [np.zeros((0, 3), np.int16)] * len(words)
    for a in range(0, len(order), cfg.sample_batch):
        chunk = order[a : a + cfg.sample_batch]
        opts = SampleOptions(temperature=cfg.temperature, guidance=cfg.guidance, seed=cfg.seed + a)
        for i, (points, pens) in zip(chunk, sample_draws(gen, [words[i] for i in chunk], opts)):
            steps[i] = step_ids(gen, points, pens)
        if progress is not None:
            progress(len(chunk))
    return sample_cache(gen, words, splits, steps)


def guided(cond: torch.Tensor, uncond: torch.Tensor, g: float) -> torch.Tensor:
    return uncond + (1 + g) * (cond - uncond)


def distill_losses(student: dict, cond: dict, uncond: dict, batch: dict, g: float) -> dict[str, torch.Tensor]:
    """KL divergence, per step, from the teacher's guided choices to the
    student's (the end probability: from the teacher's text-conditioned one)."""
    m, e = batch["step_mask"].float(), batch["end_mask"].float()
    n, ne = m.sum().clamp(min=1), e.sum().clamp(min=1)

    def bernoulli_kl(logit: torch.Tensor, target_logit: torch.Tensor) -> torch.Tensor:
        p = torch.sigmoid(target_logit)
        return (F.binary_cross_entropy_with_logits(logit, p, reduction="none")
                - F.binary_cross_entropy_with_logits(target_logit, p, reduction="none"))

    def categorical_kl(logits: torch.Tensor, target_logits: torch.Tensor) -> torch.Tensor:
        target = F.log_softmax(target_logits, -1)
        return (target.exp() * (target - F.log_softmax(logits, -1))).sum(-1)

    terms = {
        "pen": (bernoulli_kl(student["pen"], guided(cond["pen"], uncond["pen"], g)) * m).sum() / n,
        "dx": (categorical_kl(student["dx"], guided(cond["dx"], uncond["dx"], g)) * m).sum() / n,
        "dy": (categorical_kl(student["dy"], guided(cond["dy"], uncond["dy"], g)) * m).sum() / n,
        "end": (bernoulli_kl(student["end"], cond["end"]) * e).sum() / ne,
    }
    terms["total"] = sum(terms.values())
    return terms


def make_student(teacher: HandwritingModel, layers: list[int] | None) -> HandwritingModel:
    """A copy of ``teacher`` with only its decoder ``layers`` (all: None), in
    their order: a smaller student starts from what the teacher's layers know."""
    student = HandwritingModel(teacher.cfg)
    student.load_state_dict(teacher.state_dict())
    if layers is None:
        return student
    if not layers or any(not 0 <= i < teacher.cfg.n_dec for i in layers) or len(set(layers)) < len(layers):
        raise InkstrokeError(f"decoder_layers {layers}: give distinct layers of the teacher's 0..{teacher.cfg.n_dec - 1}")
    student.decoder = nn.ModuleList(student.decoder[i] for i in layers)
    student.cfg = replace(teacher.cfg, n_dec=len(layers))
    return student


def _teacher_outputs(teacher: HandwritingModel, batch: dict, g: float) -> tuple[dict, dict]:
    """The teacher's outputs with the batch's text and, under guidance, without."""
    with torch.no_grad():
        cond = teacher(batch)
        uncond = teacher({**batch, "char_mask": torch.zeros_like(batch["char_mask"])}) if g > 0 else cond
    return cond, uncond


def validate(student: HandwritingModel, teacher: HandwritingModel, pool: TokenCache, idx: np.ndarray,
             g: float) -> dict[str, float]:
    totals: dict[str, float] = {}
    batches = 0
    with torch.no_grad():
        for a in range(0, len(idx), 64):
            batch = collate(pool, idx[a : a + 64])
            cond, uncond = _teacher_outputs(teacher, batch, g)
            for k, v in distill_losses(student(batch), cond, uncond, batch, g).items():
                totals[k] = totals.get(k, 0.0) + v.item()
            batches += 1
    return {f"valid_kl_{k}": v / max(batches, 1) for k, v in totals.items()}


def distill(teacher_path: str | Path, data: str | Path, cfg: DistillConfig, run: str | Path,
            resume: bool = False, command: str | None = None, quiet: bool = False) -> dict:
    """Distil ``teacher_path``'s guided sampling into a student in ``run``;
    returns the final figures. Interrupted, it goes on with ``resume``."""
    from rich.progress import BarColumn, Progress, TextColumn, TimeRemainingColumn

    torch.set_num_threads(cfg.threads)
    torch.manual_seed(cfg.seed)
    run = Path(run)
    teacher, stok, ttok, teacher_meta = load_checkpoint(teacher_path)
    if teacher.cfg.head != "bins":
        raise InkstrokeError(f"{teacher_path}: only motion-token models are guided, so only they distil")
    if cfg.guidance < 0 or (cfg.guidance == 0 and cfg.decoder_layers is None):
        raise InkstrokeError(f"guidance {cfg.guidance} with every decoder layer kept: the student would be the "
                             "teacher (give guidance above 0, or decoder_layers)")
    student = make_student(teacher, cfg.decoder_layers)
    run.mkdir(parents=True, exist_ok=True)
    progress = Progress(TextColumn("[bold]{task.description}"), BarColumn(),
                        TextColumn("{task.completed}/{task.total}"), TextColumn("{task.fields[status]}"),
                        TimeRemainingColumn(), disable=quiet)
    pool_path = run / "pool.npz"
    with progress:
        if not pool_path.exists():
            rng = np.random.default_rng(cfg.seed)
            words = word_pool(data, cfg.words + cfg.valid_words, cfg.made_up, set(ttok.vocab[2:]), rng)
            splits = ["train"] * cfg.words + ["valid"] * cfg.valid_words
            task = progress.add_task("teacher writes", total=len(words), status="")
            pool = teacher_samples(Generator(teacher, stok, ttok), words, splits, cfg,
                                   lambda k: progress.advance(task, k))
            pool.save(pool_path)
        pool = TokenCache.load(pool_path)

        step = 0
        if resume and (run / META).exists():
            student, _, _, meta = load_checkpoint(run)
            step = int(meta.get("step", 0))
        opt = torch.optim.AdamW(student.parameters(), lr=cfg.lr, weight_decay=0.0, betas=(0.9, 0.98))
        if step and (run / "optimizer.pt").exists():
            opt.load_state_dict(torch.load(run / "optimizer.pt", weights_only=False)["optimizer"])
        # no dropout: the student copies a deterministic teacher
        student.eval()
        train_idx, valid_idx = pool.indices("train"), pool.indices("valid")
        lengths = np.asarray([pool.length(i) for i in range(len(pool))])
        info = {"train_config": asdict(cfg), "distilled_from": str(teacher_path),
                # how the teacher itself was made, as it may be replaced by the student
                "teacher": {k: teacher_meta.get(k) for k in ("command", "data", "train_config", "step",
                                                             "train_seconds", "saved", "hardware")},
                "data": {"pool": str(pool_path), "words_from": str(data), "train_examples": int(len(train_idx)),
                         "valid_examples": int(len(valid_idx)), "tokens": int(lengths.sum())},
                "command": command or " ".join(sys.argv),
                # sampling settings the student stands for: its guidance is built in (an
                # unguided teacher's own built-in guidance, when it was distilled itself)
                "sampling": {"guidance": 0.0, "distilled_guidance": cfg.guidance
                             or teacher_meta.get("sampling", {}).get("distilled_guidance", 0.0)}}
        elapsed = float(load_checkpoint(run)[3].get("train_seconds", 0.0)) if step else 0.0
        t_start, figures = time.time(), {}
        order_rng = np.random.default_rng([cfg.seed, step])
        batches: list[np.ndarray] = []
        task = progress.add_task("distil", total=cfg.steps, completed=step, status="")
        tokens, t_window = 0, time.time()
        while step < cfg.steps:
            if not batches:
                batches = [train_idx[b] for b in bucketed_batches(lengths[train_idx], cfg.max_tokens, order_rng)]
            batch = collate(pool, batches.pop())
            cond, uncond = _teacher_outputs(teacher, batch, cfg.guidance)
            terms = distill_losses(student(batch), cond, uncond, batch, cfg.guidance)
            if not torch.isfinite(terms["total"]):
                raise InkstrokeError(f"distillation stopped: the loss became {terms['total'].item()} at step "
                                     f"{step}; the last good checkpoint in {run} is intact")
            for group in opt.param_groups:
                group["lr"] = lr_at(step, cfg)
            opt.zero_grad(set_to_none=True)
            terms["total"].backward()
            torch.nn.utils.clip_grad_norm_(student.parameters(), cfg.clip)
            opt.step()
            step += 1
            tokens += int(batch["step_mask"].sum())
            if step % 20 == 0 or step == cfg.steps:
                figures["tokens_per_s"] = tokens / max(time.time() - t_window, 1e-9)
                tokens, t_window = 0, time.time()
                progress.update(task, completed=step, status=f"kl {terms['total'].item():.4f}  "
                                f"{figures['tokens_per_s']:,.0f} tok/s")
            if step % cfg.eval_every == 0 or step == cfg.steps:
                figures.update(validate(student, teacher, pool, valid_idx, cfg.guidance))
                figures["train_kl"] = terms["total"].item()
                if not quiet:
                    progress.console.print(f"step {step}: " + "  ".join(
                        f"{k} {v:.4f}" for k, v in figures.items() if k.startswith("valid")))
            if step % cfg.save_every == 0 or step == cfg.steps:
                save_checkpoint(run, student, stok, ttok, {**info, "step": step, "figures": dict(figures),
                                                           "train_seconds": elapsed + time.time() - t_start})
                tmp = run / ".optimizer.pt.tmp"
                torch.save({"optimizer": opt.state_dict(), "step": step}, tmp)
                tmp.replace(run / "optimizer.pt")
    return figures
