"""Checkpoints: ``model.safetensors`` (weights) beside ``checkpoint.json``
(model config, both tokenizers, and how the model was made: training config,
data, command, time and hardware). Both are written atomically, JSON last,
so a checkpoint folder is always either the old one or the new one.
"""

from __future__ import annotations

import json
import os
import platform
import sys
import time
from pathlib import Path

import torch
from safetensors import SafetensorError
from safetensors.torch import load_file, save_file

from inkstroke.errors import InkstrokeError
from inkstroke.io.container import atomic_write_bytes
from inkstroke.model.transformer import HandwritingModel, ModelConfig
from inkstroke.tokenize.strokes import StrokeTokenizer
from inkstroke.tokenize.text import TextTokenizer

WEIGHTS, META = "model.safetensors", "checkpoint.json"


def hardware() -> dict:
    return {"machine": platform.machine(), "processor": platform.processor() or platform.machine(),
            "cpus": os.cpu_count(), "torch_threads": torch.get_num_threads(),
            "cuda": torch.cuda.get_device_name(0) if torch.cuda.is_available() else None,
            "python": sys.version.split()[0], "torch": torch.__version__,
            "platform": platform.platform()}


def write_run(run_dir: str | Path, model: torch.nn.Module, meta: dict) -> None:
    """Weights, then metadata, each written atomically: a reader sees the old
    checkpoint or the new one, never half of one."""
    run_dir = Path(run_dir)
    run_dir.mkdir(parents=True, exist_ok=True)
    state = {k: v.detach().cpu().contiguous() for k, v in model.state_dict().items()}
    tmp = run_dir / f".{WEIGHTS}.tmp"
    save_file(state, str(tmp))
    umask = os.umask(0)
    os.umask(umask)
    os.chmod(tmp, 0o666 & ~umask)
    os.replace(tmp, run_dir / WEIGHTS)
    meta = {**meta, "saved": time.strftime("%Y-%m-%dT%H:%M:%S%z"), "hardware": hardware()}
    atomic_write_bytes(run_dir / META, lambda f: f.write(json.dumps(meta, indent=1).encode()))


def read_meta(path: str | Path, kind: str, what: str) -> tuple[Path, dict]:
    """(run folder, metadata) of a checkpoint folder or its JSON, checked to be ``kind``."""
    path = Path(path)
    if path.is_file() and path.name not in (META, WEIGHTS):
        raise InkstrokeError(f"{path}: not an inkstroke checkpoint (give its run folder or its {META})")
    run_dir = path.parent if path.is_file() else path
    meta_path = run_dir / META
    if not meta_path.exists():
        raise InkstrokeError(f"{run_dir}: no {META} (not an inkstroke checkpoint)")
    try:
        meta = json.loads(meta_path.read_text())
    except (json.JSONDecodeError, UnicodeDecodeError) as e:
        raise InkstrokeError(f"{meta_path}: corrupt checkpoint metadata ({e})") from None
    if meta.get("kind") != kind:
        raise InkstrokeError(f"{meta_path}: not a {what} checkpoint")
    return run_dir, meta


def read_weights(run_dir: Path, model: torch.nn.Module, device: str = "cpu") -> torch.nn.Module:
    """Load ``model.safetensors`` into ``model`` (strict), as one clear error if it does not fit."""
    try:
        state = load_file(str(run_dir / WEIGHTS), device=device)
    except (SafetensorError, OSError, ValueError, RuntimeError) as e:
        raise InkstrokeError(f"{run_dir / WEIGHTS}: corrupt or missing weights ({e})") from None
    try:
        model.load_state_dict(state, strict=True)
    except RuntimeError as e:
        first = str(e).splitlines()[0]
        raise InkstrokeError(f"{run_dir / WEIGHTS}: weights do not fit the config ({first})") from None
    return model.to(device).eval()


def save_checkpoint(run_dir: str | Path, model: HandwritingModel, stroke_tok: StrokeTokenizer,
                    text_tok: TextTokenizer, info: dict) -> None:
    write_run(run_dir, model, {"kind": "inkstroke-handwriting-model", "version": 1, "model": model.cfg.to_dict(),
                               "stroke_tokenizer": stroke_tok.to_dict(), "text_tokenizer": text_tok.to_dict(),
                               **info})


def load_checkpoint(path: str | Path, device: str = "cpu"):
    """(model in eval mode, stroke tokenizer, text tokenizer, metadata) from a
    checkpoint folder or its ``checkpoint.json``; every mismatch is an error."""
    run_dir, meta = read_meta(path, "inkstroke-handwriting-model", "handwriting model")
    meta_path = run_dir / META
    try:
        cfg = ModelConfig(**meta["model"])
    except (KeyError, TypeError) as e:
        raise InkstrokeError(f"{meta_path}: bad model config ({e})") from None
    stroke_tok = StrokeTokenizer.from_dict(meta.get("stroke_tokenizer", {}), str(meta_path))
    text_tok = TextTokenizer.from_dict(meta.get("text_tokenizer", {}), str(meta_path))
    if stroke_tok.n_bins != cfg.n_bins:
        raise InkstrokeError(f"{meta_path}: tokenizer has {stroke_tok.n_bins} bins but the model "
                             f"expects {cfg.n_bins} (mismatched checkpoint)")
    if len(text_tok) != cfg.n_text:
        raise InkstrokeError(f"{meta_path}: text vocabulary has {len(text_tok)} symbols but the "
                             f"model expects {cfg.n_text} (mismatched checkpoint)")
    return read_weights(run_dir, HandwritingModel(cfg), device), stroke_tok, text_tok, meta
