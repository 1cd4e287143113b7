"""Training the recogniser with CTC on a token cache (``inkstroke train-recognizer``).

The cache is built with the generator's stroke tokenizer, so the recogniser
reads exactly the tokens the generator writes. Batches are length-bucketed;
checkpoints are atomic and carry the optimiser state, so ``--resume`` goes on
where an interrupted run stopped (Ctrl-C saves first).
"""

from __future__ import annotations

import math
import sys
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

from inkstroke.errors import InkstrokeError
from inkstroke.recognize.checkpoint import load_recognizer, save_recognizer
from inkstroke.recognize.decode import cer, greedy_decode
from inkstroke.recognize.model import RecognizerConfig, RecognizerModel, collate_steps
from inkstroke.train.data import TokenCache, bucketed_batches
from inkstroke.train.loop import read_toml


@dataclass
class RecognizerTrainConfig:
    steps: int = 12000
    max_tokens: int = 8192  # padded input steps per batch
    lr: float = 1e-3
    min_lr: float = 3e-5
    warmup: int = 500
    weight_decay: float = 0.05
    clip: float = 1.0
    seed: int = 0
    eval_every: int = 1000
    save_every: int = 250
    threads: int = 1
    model: RecognizerConfig = field(default_factory=RecognizerConfig)


def read_reader_config(path: str | Path | None, cls, model_cls):
    """A reader's training config (``cls``, with its ``[model]`` table as
    ``model_cls``) from TOML; unknown keys are one clear error."""
    raw = read_toml(path)
    model_raw = raw.pop("model", {})
    unknown = set(raw) - {f.name for f in fields(cls)}
    unknown |= {f"model.{k}" for k in set(model_raw) - {f.name for f in fields(model_cls)}}
    if unknown:
        raise InkstrokeError(f"{path}: unknown keys {sorted(unknown)}")
    return cls(**raw, model=model_cls(**model_raw))


def load_recognizer_config(path: str | Path | None) -> RecognizerTrainConfig:
    return read_reader_config(path, RecognizerTrainConfig, RecognizerConfig)


def lr_at(step: int, cfg: RecognizerTrainConfig) -> float:
    if step < cfg.warmup:
        return cfg.lr * (step + 1) / cfg.warmup
    t = min(1.0, (step - cfg.warmup) / max(1, cfg.steps - cfg.warmup))
    return cfg.min_lr + 0.5 * (cfg.lr - cfg.min_lr) * (1 + math.cos(math.pi * t))


def ctc_loss(model: RecognizerModel, batch: dict, targets: list[np.ndarray]) -> torch.Tensor:
    logp = model(batch["steps"], batch["height"], batch["lengths"])
    frames = RecognizerModel.frames(batch["lengths"])
    flat = torch.from_numpy(np.concatenate(targets).astype(np.int64))
    target_lengths = torch.tensor([len(t) for t in targets], dtype=torch.long)
    return F.ctc_loss(logp.transpose(0, 1), flat, frames, target_lengths, blank=0,
                      reduction="mean", zero_infinity=True)


def greedy_errors(logp: torch.Tensor, frames: torch.Tensor, truths: list[str], text_tok) -> tuple[float, int]:
    """(character errors, characters) of the greedy readings against the truths."""
    errors, chars = 0.0, 0
    for text, truth in zip(greedy_decode(logp, frames, text_tok), truths):
        errors += cer(text, truth) * len(truth)
        chars += len(truth)
    return errors, chars


@torch.no_grad()
def evaluate(model: RecognizerModel, cache: TokenCache, idx: np.ndarray, batch: int = 64) -> dict:
    """Greedy character error rate on ``idx`` (the validation writers)."""
    model.eval()
    errors = chars = 0
    for a in range(0, len(idx), batch):
        part = idx[a : a + batch]
        b = collate_steps([cache.example(i)[0] for i in part], cache.stroke_tok.y.centers)
        logp = model(b["steps"], b["height"], b["lengths"])
        e, c = greedy_errors(logp, RecognizerModel.frames(b["lengths"]), [cache.texts[i] for i in part], cache.text_tok)
        errors, chars = errors + e, chars + c
    model.train()
    return {"valid_cer": errors / max(chars, 1)}


def train_recognizer(cache_path: str | Path, cfg: RecognizerTrainConfig, run: str | Path,
                     resume: bool = False, command: str | None = None, quiet: bool = False) -> dict:
    torch.set_num_threads(cfg.threads)
    run = Path(run)
    cache = TokenCache.load(cache_path)
    cfg.model.n_bins = cache.stroke_tok.n_bins
    cfg.model.n_text = len(cache.text_tok)
    torch.manual_seed(cfg.seed)
    start = 0
    if resume and (run / "checkpoint.json").exists():
        model, _, _, meta = load_recognizer(run)
        start = int(meta.get("step", 0))
        cfg.model = model.cfg
    else:
        model = RecognizerModel(cfg.model)
    model.train()
    opt = torch.optim.AdamW(model.parameters(), lr=cfg.lr, weight_decay=cfg.weight_decay, betas=(0.9, 0.98))
    train_idx, valid_idx = cache.indices("train"), cache.indices("valid")
    if len(train_idx) == 0:
        raise InkstrokeError(f"{cache_path}: no training examples")
    eval_idx = np.random.default_rng(cfg.seed).permutation(valid_idx)[:600]
    lengths = np.asarray([cache.length(i) for i in range(len(cache))])
    y_centers = cache.stroke_tok.y.centers
    info = {"train_config": {k: v for k, v in asdict(cfg).items() if k != "model"},
            "data": {"cache": str(cache_path), "train_examples": int(len(train_idx)),
                     "valid_examples": int(len(valid_idx))},
            "command": command or " ".join(sys.argv)}
    before = float(load_recognizer(run)[3].get("train_seconds", 0.0)) if start else 0.0

    def batches(rng: np.random.Generator) -> list[np.ndarray]:
        return [train_idx[b] for b in bucketed_batches(lengths[train_idx], cfg.max_tokens, rng)]

    def loss_of(idx: np.ndarray) -> torch.Tensor:
        examples = [cache.example(i) for i in idx]
        return ctc_loss(model, collate_steps([s for s, _, _ in examples], y_centers), [c for _, c, _ in examples])

    def save_model(extra: dict) -> None:
        save_recognizer(run, model, cache.stroke_tok, cache.text_tok, {**info, **extra})

    return fit(model, opt, cfg, run, start, before, "recogniser", batches, loss_of,
               lambda: evaluate(model, cache, eval_idx), save_model, quiet)


def fit(model: torch.nn.Module, opt: torch.optim.Optimizer, cfg, run: Path, start: int, before: float,
        label: str, batches: Callable[[np.random.Generator], list[np.ndarray]],
        loss_of: Callable[[np.ndarray], torch.Tensor], evaluate_now: Callable[[], dict],
        save_model: Callable[[dict], None], quiet: bool) -> dict:
    """The loop both readers train with: warm-up and cosine learning rate,
    clipped gradients, an evaluation every ``cfg.eval_every`` steps and an
    atomic checkpoint with the optimiser state every ``cfg.save_every``
    (Ctrl-C saves first and says how to go on). ``batches`` deals a shuffled
    epoch of index batches; the order is seeded by the config's seed and the
    step it starts from, so a resumed run does not replay the same batches."""
    if start and (run / "optimizer.pt").exists():
        opt.load_state_dict(torch.load(run / "optimizer.pt", weights_only=False)["optimizer"])
    t0 = time.time()
    figures: dict = {}

    def save(step: int) -> None:
        save_model({"step": step, "figures": figures, "train_seconds": before + time.time() - t0})
        tmp = run / ".optimizer.pt.tmp"
        torch.save({"optimizer": opt.state_dict(), "step": step}, tmp)
        tmp.replace(run / "optimizer.pt")

    from rich.progress import BarColumn, Progress, TextColumn, TimeRemainingColumn

    order_rng = np.random.default_rng([cfg.seed, start])
    pending: list[np.ndarray] = []
    step = start
    progress = Progress(TextColumn(f"[bold]{label}"), BarColumn(), TextColumn("{task.completed}/{task.total}"),
                        TextColumn("{task.fields[status]}"), TimeRemainingColumn(), disable=quiet)
    try:
        with progress:
            task = progress.add_task("train", total=cfg.steps, completed=step, status="")
            while step < cfg.steps:
                if not pending:
                    pending = batches(order_rng)
                idx = pending.pop()
                for g in opt.param_groups:
                    g["lr"] = lr_at(step, cfg)
                loss = loss_of(idx)
                if not torch.isfinite(loss):
                    raise InkstrokeError(f"training stopped: the CTC loss became {loss.item()} at step {step}; "
                                         f"the last good checkpoint in {run} is intact")
                opt.zero_grad(set_to_none=True)
                loss.backward()
                torch.nn.utils.clip_grad_norm_(model.parameters(), cfg.clip)
                opt.step()
                step += 1
                figures["train_loss"] = float(loss.item())
                progress.update(task, completed=step, status=f"loss {loss.item():.3f}")
                if step % cfg.eval_every == 0 or step == cfg.steps:
                    figures.update(evaluate_now())
                    if quiet or not sys.stderr.isatty():
                        print(f"step {step}: loss {loss.item():.3f}, valid CER {figures['valid_cer']:.3f}, "
                              f"{time.time() - t0:.0f} s", file=sys.stderr, flush=True)
                if step % cfg.save_every == 0 or step == cfg.steps:
                    save(step)
    except KeyboardInterrupt:
        save(step)
        raise InkstrokeError(f"interrupted at step {step}; saved, continue with --resume") from None
    return figures
