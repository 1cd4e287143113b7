"""Training: AdamW, warm-up + cosine, clipping, length buckets, TensorBoard,
atomic checkpoints, ``--resume``, and data parallel through ``torchrun``.

Run with ``torchrun --nproc_per_node N -m inkstroke.cli.main train ...`` and
every process trains on its own share of each epoch's batches while
DistributedDataParallel averages gradients (gloo on CPU, nccl on GPU).
"""

from __future__ import annotations

import math
import os
import sys
import time
import tomllib
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

from inkstroke.errors import InkstrokeError
from inkstroke.model.checkpoint import META, load_checkpoint, save_checkpoint
from inkstroke.model.transformer import HandwritingModel, ModelConfig, mdn_nll
from inkstroke.train.data import TokenCache, bucketed_batches, collate


@dataclass
class TrainConfig:
    steps: int = 20000
    max_tokens: int = 4096  # padded decoder steps per batch (per process)
    lr: float = 1e-3
    min_lr: float = 5e-5
    warmup: int = 500
    weight_decay: float = 0.05
    clip: float = 1.0
    seed: int = 0
    text_dropout: float = 0.1
    focal_gamma: float = 2.0  # 0 gives plain BCE
    focal_alpha: float = 0.5
    eval_every: int = 500
    save_every: int = 500
    threads: int = 2
    snapshots: list[int] = field(
        default_factory=list
    )  # steps whose checkpoint is also kept in step-N/
    stop_after: int | None = None  # end the run at this step; the schedule still spans ``steps``
    model: ModelConfig = field(default_factory=ModelConfig)


def read_toml(path: str | Path | None) -> dict:
    """A config file's table ({} for no file), or one clear error."""
    if path is None:
        return {}
    try:
        return tomllib.loads(Path(path).read_text())
    except FileNotFoundError:
        raise InkstrokeError(f"{path}: no such config file") from None
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as e:
        raise InkstrokeError(f"{path}: invalid TOML ({e})") from None


def load_config(path: str | Path | None, overrides: dict | None = None) -> TrainConfig:
    """A TOML file (top-level training keys, a ``[model]`` table) plus overrides."""
    raw = read_toml(path)
    raw.update(overrides or {})
    model_raw = raw.pop("model", {})
    known = {f.name for f in fields(TrainConfig)} - {"model"}
    unknown = set(raw) - known
    mknown = {f.name for f in fields(ModelConfig)}
    unknown |= {f"model.{k}" for k in set(model_raw) - mknown}
    if unknown:
        raise InkstrokeError(f"{path or 'config'}: unknown keys {sorted(unknown)}")
    return TrainConfig(**raw, model=ModelConfig(**model_raw))


def focal_bce(
    logits: torch.Tensor, target: torch.Tensor, gamma: float, alpha: float
) -> torch.Tensor:
    """Focal loss (Lin et al. 2017) per element; gamma=0, alpha=0.5 is BCE/2·2."""
    bce = F.binary_cross_entropy_with_logits(logits, target, reduction="none")
    if gamma == 0:
        return bce
    p = torch.sigmoid(logits)
    pt = p * target + (1 - p) * (1 - target)
    a = alpha * target + (1 - alpha) * (1 - target)
    return 2 * a * (1 - pt) ** gamma * bce


def losses(
    model: HandwritingModel, out: dict, batch: dict, cfg: TrainConfig
) -> dict[str, torch.Tensor]:
    m, e = batch["step_mask"].float(), batch["end_mask"].float()
    n, ne = m.sum().clamp(min=1), e.sum().clamp(min=1)
    tgt = batch["targets"]
    terms = {
        "pen": (
            focal_bce(out["pen"], tgt[..., 2].float(), cfg.focal_gamma, cfg.focal_alpha) * m
        ).sum()
        / n,
        "end": (
            F.binary_cross_entropy_with_logits(out["end"], batch["end"], reduction="none") * e
        ).sum()
        / ne,
    }
    if model.cfg.head == "bins":
        terms["dx"] = (
            F.cross_entropy(out["dx"].transpose(1, 2), tgt[..., 0], reduction="none") * m
        ).sum() / n
        terms["dy"] = (
            F.cross_entropy(out["dy"].transpose(1, 2), tgt[..., 1], reduction="none") * m
        ).sum() / n
    else:
        terms["mdn"] = (mdn_nll(out["mdn"], batch["deltas"], model.cfg.n_mixtures) * m).sum() / n
    terms["total"] = sum(terms.values())
    return terms


def token_accuracy(out: dict, batch: dict) -> float:
    """Teacher-forced accuracy of whole steps (Δx bin, Δy bin and pen all right)."""
    m = batch["step_mask"]
    tgt = batch["targets"]
    ok = (
        (out["dx"].argmax(-1) == tgt[..., 0])
        & (out["dy"].argmax(-1) == tgt[..., 1])
        & ((out["pen"] > 0).long() == tgt[..., 2])
    )
    return float((ok & m).sum() / m.sum().clamp(min=1))


def lr_at(step: int, cfg: TrainConfig) -> float:
    """Linear warm-up, then cosine to ``min_lr``: of any config with ``lr``,
    ``min_lr``, ``warmup`` and ``steps`` (distillation's too)."""
    if step < cfg.warmup:
        return cfg.lr * (step + 1) / cfg.warmup
    t = min((step - cfg.warmup) / max(cfg.steps - cfg.warmup, 1), 1.0)
    return cfg.min_lr + 0.5 * (cfg.lr - cfg.min_lr) * (1 + math.cos(math.pi * t))


def _dist() -> tuple[int, int]:
    world = int(os.environ.get("WORLD_SIZE", "1"))
    if world > 1 and not torch.distributed.is_initialized():
        torch.distributed.init_process_group("nccl" if torch.cuda.is_available() else "gloo")
    return (torch.distributed.get_rank() if world > 1 else 0), world


def _save_optimizer(run: Path, opt: torch.optim.Optimizer, step: int, rng_state: dict) -> None:
    tmp = run / ".optimizer.pt.tmp"
    torch.save({"optimizer": opt.state_dict(), "step": step, "rng": rng_state}, tmp)
    os.replace(tmp, run / "optimizer.pt")


def warm_start(model: HandwritingModel, source: str | Path) -> int:
    """Copy every weight of the checkpoint at ``source`` whose name and shape
    match; parts new to ``model`` keep their initialisation. Returns the count."""
    from safetensors import SafetensorError
    from safetensors.torch import load_file

    from inkstroke.model.checkpoint import WEIGHTS

    try:
        state = load_file(str(Path(source) / WEIGHTS))
    except (OSError, ValueError, RuntimeError, SafetensorError) as e:
        raise InkstrokeError(f"{source}: cannot warm-start from it ({e})") from None
    own = model.state_dict()
    copied = {k: v for k, v in state.items() if k in own and own[k].shape == v.shape}
    own.update(copied)
    model.load_state_dict(own)
    return len(copied)


def train(
    cache_path: str | Path,
    cfg: TrainConfig,
    run: str | Path,
    resume: bool = False,
    command: str | None = None,
    indices: np.ndarray | None = None,
    quiet: bool = False,
    log: bool = True,
    init_from: str | Path | None = None,
) -> dict:
    """Train a model on a token cache; returns the final figures."""
    rank, world = _dist()
    torch.set_num_threads(cfg.threads)
    run = Path(run)
    cache = TokenCache.load(cache_path)
    cfg.model.n_bins = cache.stroke_tok.n_bins
    cfg.model.n_text = len(cache.text_tok)
    torch.manual_seed(cfg.seed + rank)
    rng = np.random.default_rng(cfg.seed + rank)  # this process's own draws (text dropout)
    device = "cuda" if torch.cuda.is_available() else "cpu"

    start_step = 0
    if resume and (run / META).exists():
        model, _, _, meta = load_checkpoint(run, device)
        model.train()
        start_step = int(meta.get("step", 0))
        cfg.model = model.cfg
    else:
        if resume and rank == 0 and not quiet:
            print(f"no checkpoint in {run}: starting afresh", file=sys.stderr)
        model = HandwritingModel(cfg.model).to(device)
        if init_from is not None:
            n = warm_start(model, init_from)
            if rank == 0 and not quiet:
                print(f"warm start: {n} tensors from {init_from}", file=sys.stderr)
    opt = torch.optim.AdamW(
        model.parameters(), lr=cfg.lr, weight_decay=cfg.weight_decay, betas=(0.9, 0.98)
    )
    if start_step and (run / "optimizer.pt").exists():
        state = torch.load(run / "optimizer.pt", weights_only=False)
        opt.load_state_dict(state["optimizer"])
        rng.bit_generator.state = state["rng"]["numpy"]
    net = model
    if world > 1:
        net = torch.nn.parallel.DistributedDataParallel(model)
    amp = (
        torch.autocast("cuda", dtype=torch.bfloat16)
        if device == "cuda"
        else torch.autocast("cpu", enabled=False)
    )

    train_idx = cache.indices("train") if indices is None else np.asarray(indices)
    valid_idx = cache.indices("valid") if indices is None else np.asarray(indices)
    lengths = np.asarray([cache.length(i) for i in range(len(cache))])
    continuous = cfg.model.head == "mdn"
    writer = None
    if rank == 0 and log:
        from torch.utils.tensorboard import SummaryWriter

        writer = SummaryWriter(str(run / "tb"))
    info_base = {
        "train_config": {k: v for k, v in asdict(cfg).items() if k != "model"},
        "data": {
            "cache": str(cache_path),
            "train_examples": int(len(train_idx)),
            "valid_examples": int(len(valid_idx)),
        },
        "command": command or " ".join(sys.argv),
        "warm_start": None if init_from is None else str(init_from),
    }
    t_start = time.time()
    elapsed_before = 0.0
    if start_step:
        elapsed_before = float(load_checkpoint(run)[3].get("train_seconds", 0.0))

    def diverged(loss: torch.Tensor, step: int) -> InkstrokeError:
        return InkstrokeError(
            f"training stopped: the loss became {loss.item()} at step {step}; the last good "
            f"checkpoint in {run} is intact (try a lower --lr or stronger clipping)"
        )

    def checkpoint(step: int, figures: dict, batch: dict) -> None:
        if rank != 0:
            return
        # the last update may have broken the weights: only a finite loss makes a good checkpoint
        model.eval()
        with torch.no_grad(), amp:
            loss = losses(model, model(batch), batch, cfg)["total"]
        model.train()
        if not torch.isfinite(loss):
            raise diverged(loss, step)
        save_checkpoint(
            run,
            model,
            cache.stroke_tok,
            cache.text_tok,
            {
                **info_base,
                "step": step,
                "figures": figures,
                "train_seconds": elapsed_before + time.time() - t_start,
            },
        )
        _save_optimizer(run, opt, step, {"numpy": rng.bit_generator.state})

    from rich.progress import BarColumn, Progress, TextColumn, TimeRemainingColumn

    progress = Progress(
        TextColumn("[bold]train"),
        BarColumn(),
        TextColumn("{task.completed}/{task.total}"),
        TextColumn("{task.fields[status]}"),
        TimeRemainingColumn(),
        disable=quiet or rank != 0,
    )
    step = start_step
    figures: dict = {}
    tokens_seen, t_window = 0, time.time()
    batches: list[np.ndarray] = []
    # the same epoch order on every process, so that each one trains on its own share
    order_rng = np.random.default_rng([cfg.seed, start_step])
    with progress:
        task = progress.add_task("train", total=cfg.steps, completed=step, status="")
        while step < min(cfg.steps, cfg.stop_after or cfg.steps):
            if not batches:
                batches = bucketed_batches(lengths[train_idx], cfg.max_tokens, order_rng)
                batches = [train_idx[b] for b in batches][rank::world]
            idx = batches.pop()
            batch = {
                k: v.to(device)
                for k, v in collate(cache, idx, cfg.text_dropout, rng, continuous).items()
            }
            for g in opt.param_groups:
                g["lr"] = lr_at(step, cfg)
            model.train()
            with amp:
                out = net(batch)
                terms = losses(model, out, batch, cfg)
            loss = terms["total"]
            if not torch.isfinite(loss):
                raise diverged(loss, step)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), cfg.clip)
            opt.step()
            step += 1
            tokens_seen += int(batch["step_mask"].sum()) * world
            if step % 20 == 0 or step == cfg.steps:
                tps = tokens_seen / max(time.time() - t_window, 1e-9)
                tokens_seen, t_window = 0, time.time()
                figures["tokens_per_s"] = tps
                progress.update(
                    task, completed=step, status=f"loss {loss.item():.3f}  {tps:,.0f} tok/s"
                )
                if writer:
                    for k, v in terms.items():
                        writer.add_scalar(f"train/{k}", v.item(), step)
                    writer.add_scalar("train/lr", lr_at(step, cfg), step)
                    writer.add_scalar("train/tokens_per_s", tps, step)
            if step % cfg.eval_every == 0 or step in (cfg.steps, cfg.stop_after):
                figures.update(evaluate(model, cache, valid_idx, cfg, device, continuous))
                figures["train_loss"] = loss.item()
                if writer:
                    for k, v in figures.items():
                        writer.add_scalar(f"valid/{k}", v, step)
                    _log_images(writer, model, cache, step)
            if step % cfg.save_every == 0 or step in (cfg.steps, cfg.stop_after) or step in cfg.snapshots:
                checkpoint(step, figures, batch)
                if step in cfg.snapshots and rank == 0:
                    save_checkpoint(
                        run / f"step-{step}",
                        model,
                        cache.stroke_tok,
                        cache.text_tok,
                        {**info_base, "step": step, "figures": dict(figures)},
                    )
    if writer:
        writer.close()
    return figures


@torch.no_grad()
def evaluate(
    model, cache, idx, cfg: TrainConfig, device, continuous: bool, limit: int = 512
) -> dict:
    model.eval()
    idx = np.asarray(idx)[:limit]
    totals: dict[str, float] = {}
    acc, n = 0.0, 0
    for a in range(0, len(idx), 64):
        batch = {
            k: v.to(device)
            for k, v in collate(cache, idx[a : a + 64], continuous=continuous).items()
        }
        out = model(batch)
        for k, v in losses(model, out, batch, cfg).items():
            totals[k] = totals.get(k, 0.0) + v.item()
        if not continuous:
            acc += token_accuracy(out, batch)
        n += 1
    figures = {f"valid_{k}": v / max(n, 1) for k, v in totals.items()}
    if not continuous:
        figures["valid_token_accuracy"] = acc / max(n, 1)
    return figures


def _log_images(writer, model, cache: TokenCache, step: int) -> None:
    """A sample and its cross-attention heatmap, for TensorBoard."""
    from inkstroke.sample.generate import Generator
    from inkstroke.sample.inspect import attention_figure, attention_maps

    gen = Generator(model, cache.stroke_tok, cache.text_tok)
    try:
        ink = gen.generate(["handwriting"], seed=0, temperature=0.5)[0]
        from inkstroke.render.raster import render_png_array

        writer.add_image(
            "sample/handwriting", render_png_array(ink, height=96), step, dataformats="HWC"
        )
        fig = attention_figure(*attention_maps(gen, "handwriting", seed=0))
        writer.add_figure("attention/handwriting", fig, step)
    except Exception as e:  # a picture must never stop a training run
        writer.add_text("sample/error", repr(e), step)
    model.train()
