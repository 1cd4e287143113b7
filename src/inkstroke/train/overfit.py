"""The debug ladder: can the model memorise N real examples?

A model that cannot learn 1, 5 or 10 examples by heart has a bug in its data,
masks or heads, and no amount of data will fix it. The check is twofold:
teacher-forced step accuracy, and free-running (near-greedy) samples whose
points must lie close to the originals.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import numpy as np
import torch

from inkstroke.model.transformer import HandwritingModel
from inkstroke.sample.generate import Generator
from inkstroke.train.data import TokenCache, collate
from inkstroke.train.loop import TrainConfig, losses, token_accuracy


def shape_error(a: np.ndarray, b: np.ndarray, n: int = 64) -> float:
    """Mean distance between two point sequences resampled to ``n`` points along
    their path (pen-up jumps included), in body heights."""

    def along(p: np.ndarray) -> np.ndarray:
        if len(p) < 2:
            return np.repeat(p[:1], n, axis=0) if len(p) else np.zeros((n, 2))
        arc = np.concatenate([[0], np.cumsum(np.linalg.norm(np.diff(p, axis=0), axis=1))])
        t = np.linspace(0, arc[-1], n)
        return np.column_stack([np.interp(t, arc, p[:, 0]), np.interp(t, arc, p[:, 1])])

    return float(np.linalg.norm(along(a) - along(b), axis=1).mean())


def overfit_ladder(cache_path: str | Path, n: int, cfg: TrainConfig, out: str | Path | None = None,
                   max_steps: int = 1500, target_acc: float = 0.9, target_err: float = 0.15,
                   quiet: bool = False) -> bool:
    """Train on the first ``n`` train examples; print and return whether memorised."""
    torch.manual_seed(cfg.seed)
    cache = TokenCache.load(cache_path)
    idx = cache.indices("train")[:n]
    mcfg = replace(cfg.model, dropout=0.0, n_bins=cache.stroke_tok.n_bins, n_text=len(cache.text_tok))
    model = HandwritingModel(mcfg)
    opt = torch.optim.AdamW(model.parameters(), lr=2e-3, weight_decay=0.0)
    lcfg = replace(cfg, text_dropout=0.0)
    batch = collate(cache, idx, continuous=mcfg.head == "mdn")
    acc = 0.0
    step = 0
    for step in range(1, max_steps + 1):
        model.train()
        out_ = model(batch)
        loss = losses(model, out_, batch, lcfg)["total"]
        opt.zero_grad()
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        if step % 50 == 0:
            model.eval()
            with torch.no_grad():
                acc = token_accuracy(model(batch), batch) if mcfg.head == "bins" else 0.0
            if acc >= 0.999 or (mcfg.head == "mdn" and loss.item() < -3):
                break
    model.eval()
    gen = Generator(model, cache.stroke_tok, cache.text_tok)
    errors = []
    centers = np.stack([cache.stroke_tok.x.centers, cache.stroke_tok.y.centers], 1)
    for i in idx:
        steps_, chars, ext = cache.example(i)
        text = cache.text_tok.decode(chars.tolist())
        true = np.cumsum(np.column_stack([centers[steps_[:, 0], 0], centers[steps_[:, 1], 1]]), axis=0)
        # the free run uses the same character positions the model was trained with
        scale = (ext[1] - ext[0]) / max(cache.text_tok.expected_width(text), 1e-3)
        sample = gen.generate([text], temperature=0.05, seed=0, width_scale=scale, x_offset=ext[0],
                              max_steps=len(steps_) + 20)[0]
        pts = np.concatenate(sample.strokes) if sample.strokes else np.zeros((0, 2))
        errors.append(shape_error(pts, true) if len(pts) else float("inf"))
    err = float(np.mean(errors))
    ok = acc >= target_acc and err <= target_err
    if not quiet:
        print(f"overfit N={n}: steps={step} loss={loss.item():.4f} teacher-forced step accuracy={acc:.3f} "
              f"free-run mean point error={err:.3f} body heights -> {'MEMORISED' if ok else 'NOT memorised'}")
    return ok
