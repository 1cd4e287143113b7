"""Model speed: training tokens/s, generation points/s with and without the KV
cache at 1,000 steps, and peak memory.

    python benchmarks/model_speed.py [--checkpoint RUN] [--threads 1]

Without --checkpoint, the shipped default model is used.
"""

from __future__ import annotations

import argparse
import resource
import time

import torch

from inkstroke.model.checkpoint import load_checkpoint
from inkstroke.model.transformer import HandwritingModel
from inkstroke.sample.generate import Generator, SampleOptions
from inkstroke.train.loop import TrainConfig, losses
from inkstroke.write.api import MODEL_DIR


def fake_batch(cfg, b: int, t: int, chars: int) -> dict:
    """A batch of the training layout with random tokens (speed does not depend on values)."""
    g = torch.Generator().manual_seed(0)
    steps = torch.randint(0, cfg.n_bins, (b, t, 3), generator=g)
    steps[..., 2] = (torch.rand(b, t, generator=g) < 0.08).long()
    return {"inputs": steps.float(), "targets": steps, "deltas": torch.randn(b, t, 2) * 0.1,
            "pos": torch.randn(b, t, 2).cumsum(1), "step_mask": torch.ones(b, t, dtype=torch.bool),
            "end_mask": torch.ones(b, t, dtype=torch.bool), "end": torch.zeros(b, t),
            "chars": torch.randint(2, cfg.n_text, (b, chars), generator=g),
            "char_x": torch.linspace(0, chars, chars).expand(b, chars).contiguous(),
            "char_mask": torch.ones(b, chars, dtype=torch.bool)}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--checkpoint", default=str(MODEL_DIR))
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--steps", type=int, default=1000)
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    model, stok, ttok, _ = load_checkpoint(args.checkpoint)
    cfg = model.cfg
    print(f"model: {model.num_params():,} parameters, d={cfg.d_model}, {cfg.n_enc}+{cfg.n_dec} layers, "
          f"head={cfg.head}; torch threads={args.threads}")

    # training throughput: batches of 2048 padded steps, as in configs/handwriting-small.toml
    train_model = HandwritingModel(cfg).train()
    opt = torch.optim.AdamW(train_model.parameters(), 1e-3)
    batch = fake_batch(cfg, 24, 85, 12)
    tcfg = TrainConfig()
    for k in range(8):
        if k == 2:
            t0 = time.perf_counter()
        out = train_model(batch)
        loss = losses(train_model, out, batch, tcfg)["total"]
        opt.zero_grad()
        loss.backward()
        opt.step()
    dt = (time.perf_counter() - t0) / 6
    print(f"training: {24 * 85 / dt:,.0f} tokens/s ({dt * 1000:.0f} ms per step of {24 * 85} tokens)")

    # generation: 1,000 steps, one sequence, with and without the KV cache
    gen = Generator(model, stok, ttok)
    text = "the quick brown fox jumps over the lazy dog " * 3
    results = {}
    for use_cache in (True, False):
        n = 0
        t0 = time.perf_counter()
        opts = SampleOptions(seed=0, max_steps=args.steps, use_cache=use_cache, run_to_cap=True)
        for _ in gen.steps([text.strip()], opts):
            n += 1
        dt = time.perf_counter() - t0
        results[use_cache] = n / dt
        print(f"generation {'with' if use_cache else 'without'} KV cache: {n} steps in {dt:.2f} s = {n / dt:,.0f} points/s")
    print(f"KV-cache speed-up at {args.steps} steps: {results[True] / results[False]:.1f}x")
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"peak resident memory: {peak:,.0f} MiB")


if __name__ == "__main__":
    main()
