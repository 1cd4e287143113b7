"""Recogniser checkpoints: the same folder layout as the generator's
(``model.safetensors`` + ``checkpoint.json``, atomic, JSON last), another kind."""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

from safetensors import SafetensorError
from safetensors.torch import load_file, save_file

from inkstroke.errors import InkstrokeError
from inkstroke.io.container import atomic_write_bytes
from inkstroke.model.checkpoint import META, WEIGHTS, hardware
from inkstroke.recognize.model import RecognizerConfig, RecognizerModel
from inkstroke.tokenize.strokes import StrokeTokenizer
from inkstroke.tokenize.text import TextTokenizer

KIND = "inkstroke-recognizer"


def save_recognizer(run_dir: str | Path, model: RecognizerModel, stroke_tok: StrokeTokenizer,
                    text_tok: TextTokenizer, info: dict) -> None:
    run_dir = Path(run_dir)
    run_dir.mkdir(parents=True, exist_ok=True)
    tmp = run_dir / f".{WEIGHTS}.tmp"
    save_file({k: v.detach().cpu().contiguous() for k, v in model.state_dict().items()}, str(tmp))
    umask = os.umask(0)
    os.umask(umask)
    os.chmod(tmp, 0o666 & ~umask)
    os.replace(tmp, run_dir / WEIGHTS)
    meta = {"kind": KIND, "version": 1, "model": model.cfg.to_dict(), "stroke_tokenizer": stroke_tok.to_dict(),
            "text_tokenizer": text_tok.to_dict(), "saved": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
            "hardware": hardware(), **info}
    atomic_write_bytes(run_dir / META, lambda f: f.write(json.dumps(meta, indent=1).encode()))


def load_recognizer(path: str | Path):
    """(model in eval mode, stroke tokenizer, text tokenizer, metadata)."""
    path = Path(path)
    run_dir = path.parent if path.is_file() else path
    meta_path = run_dir / META
    if not meta_path.exists():
        raise InkstrokeError(f"{run_dir}: no {META} (not an inkstroke recogniser)")
    try:
        meta = json.loads(meta_path.read_text())
    except (json.JSONDecodeError, UnicodeDecodeError) as e:
        raise InkstrokeError(f"{meta_path}: corrupt checkpoint metadata ({e})") from None
    if meta.get("kind") != KIND:
        raise InkstrokeError(f"{meta_path}: not a recogniser checkpoint (kind {meta.get('kind')!r})")
    try:
        cfg = RecognizerConfig(**meta["model"])
    except (KeyError, TypeError) as e:
        raise InkstrokeError(f"{meta_path}: bad recogniser config ({e})") from None
    stroke_tok = StrokeTokenizer.from_dict(meta.get("stroke_tokenizer", {}), str(meta_path))
    text_tok = TextTokenizer.from_dict(meta.get("text_tokenizer", {}), str(meta_path))
    try:
        state = load_file(str(run_dir / WEIGHTS))
    except (SafetensorError, OSError, ValueError, RuntimeError) as e:
        raise InkstrokeError(f"{run_dir / WEIGHTS}: corrupt or missing weights ({e})") from None
    model = RecognizerModel(cfg)
    try:
        model.load_state_dict(state, strict=True)
    except RuntimeError as e:
        raise InkstrokeError(f"{run_dir / WEIGHTS}: weights do not fit the config ({str(e).splitlines()[0]})") from None
    return model.eval(), stroke_tok, text_tok, meta
