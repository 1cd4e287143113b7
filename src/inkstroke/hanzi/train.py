"""Train the glyph-conditioned writer (or its character-id ablation) on CPU.

The glyph model trains on the characters outside the held-out split only,
so that evaluation on the held-out characters measures writing from the
glyph alone. Half the time a character's glyph comes from another font the
dataset holds (:meth:`HanziData.add_fonts`), its strokes carried over by an
affine registration. Augmentation makes each font look like many: a random affine map
(scale, aspect, shear, a little rotation and shift) applied to image and
strokes together, and a random change of stroke weight (dilation or erosion
of the filled channel). The char_id ablation trains on the same split, with
nothing to augment: its vocabulary is the training characters, and a
held-out character has no id it could be written from.

Checkpoints are ``model.safetensors`` plus ``config.json`` (model config,
the char_id vocabulary, how it was trained), saved atomically, JSON last.
"""

from __future__ import annotations

import io
import json
import math
import sys
import time
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

from inkstroke.errors import InkstrokeError
from inkstroke.hanzi.data import HanziData
from inkstroke.hanzi.model import HanziConfig, HanziWriter

WEIGHTS, CONFIG, STATE = "model.safetensors", "config.json", "train_state.pt"
OTHER_FONT = 0.5  # share of training glyphs drawn from another font, where the data has one
KIND = "inkstroke-hanzi-writer"


@dataclass
class TrainConfig:
    steps: int = 6000
    batch: int = 48
    lr: float = 1e-3
    warmup: int = 200
    weight_decay: float = 0.01
    seed: int = 0
    augment: bool = True
    input_noise: float = 0.015  # jitter of the strokes the decoder is fed, in glyph widths
    eval_every: int = 250
    threads: int = 1
    init: str | None = None  # start from this checkpoint's weights (same config), e.g. to anneal a run


def augment(images: torch.Tensor, strokes: torch.Tensor, g: torch.Generator):
    """The same random affine map on images (B, 2, S, S) and unit-frame strokes
    (B, T, P, 2), and a random weight change of the filled channel."""
    b = images.shape[0]
    u = lambda lo, hi: lo + (hi - lo) * torch.rand(b, generator=g)  # noqa: E731
    sx, sy, shear, rot = u(0.8, 1.02), u(0.8, 1.02), u(-0.1, 0.1), u(-0.06, 0.06)
    cos, sin = rot.cos(), rot.sin()
    a = torch.stack([torch.stack([cos * sx, cos * shear * sy - sin * sy], -1),
                     torch.stack([sin * sx, sin * shear * sy + cos * sy], -1)], -2)  # R @ [[sx, k sy], [0, sy]]
    shift = torch.stack([u(-0.07, 0.07), u(-0.07, 0.07)], -1)
    inv = torch.linalg.inv(a)
    theta = torch.cat([inv, -(inv @ shift[..., None])], dim=-1)  # output pixel -> input pixel
    grid = F.affine_grid(theta, list(images.shape), align_corners=False)
    images = F.grid_sample(images, grid, align_corners=False)
    n = strokes * 2 - 1  # unit frame -> affine_grid's [-1, 1]
    strokes = ((n @ a.transpose(1, 2)[:, None]) + shift[:, None, None]) * 0.5 + 0.5
    filled = images[:, :1]
    op = torch.randint(0, 4, (b, 1, 1, 1), generator=g)
    thick = F.max_pool2d(filled, 3, 1, 1)
    thin = -F.max_pool2d(-filled, 3, 1, 1)
    filled = torch.where(op == 1, thick, torch.where(op == 2, thin, filled))
    return torch.cat([filled, images[:, 1:]], dim=1), strokes


def make_batch(data: HanziData, idx: np.ndarray, cfg: HanziConfig, ids: dict | None = None,
               aug: torch.Generator | None = None) -> dict:
    t = int(data.counts[idx].max())
    strokes = data.strokes[idx, :t]
    batch = {"counts": torch.from_numpy(data.counts[idx])}
    if cfg.conditioning == "glyph":
        images = data.images[idx]
        if aug is not None and data.other_fonts:  # half the time, another font's glyph
            has = data.other_has[:, idx]  # (F, B)
            font = np.where(has, torch.rand(has.shape, generator=aug).numpy(), -1.0).argmax(0)
            swap = has.any(0) & (torch.rand(len(idx), generator=aug).numpy() < OTHER_FONT)
            images = np.where(swap[:, None, None, None], data.other_images[font, idx], images)
            strokes = np.where(swap[:, None, None, None], data.other_strokes[font, idx, :t], strokes)
        images = torch.from_numpy(images).float() / 255
        strokes = torch.from_numpy(strokes).float()
        if aug is not None:
            images, strokes = augment(images, strokes, aug)
        batch["images"] = images
    else:
        batch["char_ids"] = torch.tensor([ids.get(data.chars[i], 0) for i in idx])
        strokes = torch.from_numpy(strokes).float()
    batch["strokes"] = strokes
    return batch


def save_writer(out: str | Path, model: HanziWriter, info: dict, chars: list[str] | None = None) -> None:
    from safetensors.torch import save

    from inkstroke.io.container import atomic_write_bytes

    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    blob = save({k: v.detach().cpu().contiguous() for k, v in model.state_dict().items()})
    atomic_write_bytes(out / WEIGHTS, lambda f: f.write(blob))
    from inkstroke.model.checkpoint import hardware

    meta = {"kind": KIND, "version": 1, "model": model.cfg.to_dict(), **info,
            "saved": time.strftime("%Y-%m-%dT%H:%M:%S%z"), "hardware": hardware()}
    if chars is not None:
        meta["chars"] = "".join(chars)
    atomic_write_bytes(out / CONFIG, lambda f: f.write(json.dumps(meta, indent=1, ensure_ascii=False).encode()))


def load_writer(path: str | Path) -> tuple[HanziWriter, dict]:
    """(model in eval mode, its config.json) from a checkpoint folder."""
    from safetensors import SafetensorError
    from safetensors.torch import load_file

    path = Path(path)
    folder = path.parent if path.is_file() else path
    try:
        meta = json.loads((folder / CONFIG).read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise InkstrokeError(f"{folder}: no {CONFIG} (not a hanzi writer checkpoint)") from None
    except (json.JSONDecodeError, UnicodeDecodeError) as e:
        raise InkstrokeError(f"{folder / CONFIG}: corrupt ({e})") from None
    if not isinstance(meta, dict) or meta.get("kind") != KIND:
        raise InkstrokeError(f"{folder / CONFIG}: not a hanzi writer checkpoint")
    try:
        model = HanziWriter(HanziConfig(**meta["model"]))
    except (KeyError, TypeError, ValueError) as e:
        raise InkstrokeError(f"{folder / CONFIG}: bad model config ({e})") from None
    try:
        model.load_state_dict(load_file(str(folder / WEIGHTS)), strict=True)
    except (SafetensorError, OSError, RuntimeError, ValueError) as e:
        first = str(e).splitlines()[0] if str(e) else type(e).__name__
        raise InkstrokeError(f"{folder / WEIGHTS}: missing, corrupt or not fitting the config ({first})") from None
    return model.eval(), meta


def _save_state(path: Path, opt, rng: np.random.Generator, aug: torch.Generator | None,
                order: np.ndarray) -> None:
    from inkstroke.io.container import atomic_write_bytes

    state = {"optimizer": opt.state_dict(), "numpy": rng.bit_generator.state,
             "torch": torch.get_rng_state(), "aug": None if aug is None else aug.get_state(), "order": order}
    buf = io.BytesIO()
    torch.save(state, buf)
    atomic_write_bytes(path, lambda f: f.write(buf.getvalue()))


def evaluate_loss(model: HanziWriter, data: HanziData, idx: np.ndarray, ids: dict | None, batch: int = 64) -> dict:
    model.eval()
    sums: dict[str, float] = {}
    with torch.no_grad():
        for a in range(0, len(idx), batch):
            chunk = idx[a : a + batch]
            total, parts = model.loss(make_batch(data, chunk, model.cfg, ids))
            for k, v in {"loss": total.item(), **parts}.items():
                sums[k] = sums.get(k, 0.0) + v * len(chunk)
    model.train()
    return {k: v / len(idx) for k, v in sums.items()}


def train(data: HanziData, out: str | Path, model_cfg: HanziConfig | None = None,
          cfg: TrainConfig | None = None, log=print, resume: bool = False,
          progress=None) -> HanziWriter:
    """Train, log losses every ``eval_every`` steps, save to ``out`` at each
    evaluation and at the end. With ``resume``, a run interrupted in ``out``
    goes on from its last save: weights, optimiser, step and random streams
    (``STATE``, which is not part of the model one ships)."""
    model_cfg = model_cfg or HanziConfig()
    cfg = cfg or TrainConfig()
    torch.set_num_threads(cfg.threads)
    torch.manual_seed(cfg.seed)
    rng = np.random.default_rng(cfg.seed)
    aug = torch.Generator().manual_seed(cfg.seed) if cfg.augment else None
    train_idx, held_idx = data.split(False), data.split(True)
    chars, ids = None, None
    if model_cfg.conditioning == "char_id":
        chars = [data.chars[i] for i in train_idx]
        ids = {c: i + 1 for i, c in enumerate(chars)}
        model_cfg.n_chars = len(chars) + 1
        aug = None
    if cfg.init:
        model, meta = load_writer(cfg.init)
        if model.cfg != model_cfg:
            raise InkstrokeError(f"{cfg.init}: its model config differs from the one asked for")
        info_init = {"init": {"from": cfg.init, "step": meta.get("step"), "train": meta.get("train")}}
    else:
        model, info_init = HanziWriter(model_cfg), {}
    model.train()
    decay = [p for p in model.parameters() if p.dim() >= 2]
    no_decay = [p for p in model.parameters() if p.dim() < 2]
    opt = torch.optim.AdamW([{"params": decay, "weight_decay": cfg.weight_decay},
                             {"params": no_decay, "weight_decay": 0.0}], lr=cfg.lr, betas=(0.9, 0.98))
    # the char_id model cannot write held-out characters: it is checked on training ones
    eval_idx = held_idx if model_cfg.conditioning == "glyph" else train_idx[:: max(1, len(train_idx) // 500)]
    log(f"{model.num_params():,} parameters; {len(train_idx)} training characters, "
        f"{len(held_idx)} held out")
    info = {"train": asdict(cfg), "data_chars": len(data.chars), "held_out": len(held_idx),
            "other_fonts": data.other_fonts, "command": " ".join(sys.argv), **info_init}
    first, seen, before = 1, 0, 0.0
    state_path = Path(out) / STATE
    if resume and state_path.is_file():
        saved, meta = load_writer(out)
        if saved.cfg != model_cfg:
            raise InkstrokeError(f"{out}: its model config differs from the one asked for; cannot resume")
        model.load_state_dict(saved.state_dict())
        model.train()
        try:
            state = torch.load(state_path, weights_only=False)
        except Exception as e:  # a torn or foreign file: say which, never a traceback
            raise InkstrokeError(f"{state_path}: corrupt training state, cannot resume ({type(e).__name__})") from None
        opt.load_state_dict(state["optimizer"])
        rng.bit_generator.state = state["numpy"]
        torch.set_rng_state(state["torch"])
        if aug is not None:
            aug.set_state(state["aug"])
        order = state["order"]
        first, seen, before = meta["step"] + 1, meta["chars_seen"], float(meta["seconds"])
        log(f"resuming {out} at step {first}")
    start = time.time()
    for step in range(first, cfg.steps + 1):
        lr = cfg.lr * min(1.0, step / cfg.warmup) * 0.5 * (1 + math.cos(math.pi * step / cfg.steps))
        for group in opt.param_groups:
            group["lr"] = lr
        if (step - 1) % 500 == 0:  # characters of like stroke count batch together: less padding
            order = train_idx[np.lexsort((rng.random(len(train_idx)), data.counts[train_idx]))]
        at = int(rng.integers(0, len(order) - cfg.batch + 1))
        idx = order[at : at + cfg.batch]
        batch = make_batch(data, idx, model_cfg, ids, aug)
        if cfg.input_noise > 0:  # its own strokes will not be perfect: teach it to read rough ones
            batch["inputs"] = batch["strokes"] + cfg.input_noise * torch.randn(batch["strokes"].shape)
        loss, parts = model.loss(batch)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        seen += len(idx)
        if progress is not None:
            progress(step)
        if step % cfg.eval_every == 0 or step == cfg.steps:
            held = evaluate_loss(model, data, eval_idx, ids)
            elapsed = before + time.time() - start
            log(f"step {step} lr {lr:.2e} train {loss.item():.3f} "
                + " ".join(f"{k} {v:.3f}" for k, v in parts.items())
                + " | eval " + " ".join(f"{k} {v:.3f}" for k, v in held.items())
                + f" | {(time.time() - start) / (step - first + 1):.2f} s/step")
            save_writer(out, model.eval(), {**info, "step": step, "chars_seen": seen,
                                            "seconds": round(elapsed), "eval": held}, chars)
            _save_state(state_path, opt, rng, aug, order)
            model.train()
    return model.eval()
