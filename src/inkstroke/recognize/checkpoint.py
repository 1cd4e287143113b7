"""Recogniser checkpoints: the generator's folder layout (``model.safetensors``
beside ``checkpoint.json``, both atomic), another kind."""

from __future__ import annotations

from pathlib import Path

from inkstroke.errors import InkstrokeError
from inkstroke.model.checkpoint import META, read_meta, read_weights, write_run
from inkstroke.recognize.model import RecognizerConfig, RecognizerModel
from inkstroke.tokenize.strokes import StrokeTokenizer
from inkstroke.tokenize.text import TextTokenizer

KIND = "inkstroke-recognizer"


def save_recognizer(run_dir: str | Path, model: RecognizerModel, stroke_tok: StrokeTokenizer,
                    text_tok: TextTokenizer, info: dict) -> None:
    write_run(run_dir, model, {"kind": KIND, "version": 1, "model": model.cfg.to_dict(),
                               "stroke_tokenizer": stroke_tok.to_dict(), "text_tokenizer": text_tok.to_dict(),
                               **info})


def load_recognizer(path: str | Path):
    """(model in eval mode, stroke tokenizer, text tokenizer, metadata)."""
    run_dir, meta = read_meta(path, KIND, "recogniser")
    try:
        cfg = RecognizerConfig(**meta["model"])
    except (KeyError, TypeError) as e:
        raise InkstrokeError(f"{run_dir / META}: bad recogniser config ({e})") from None
    stroke_tok = StrokeTokenizer.from_dict(meta.get("stroke_tokenizer", {}), str(run_dir / META))
    text_tok = TextTokenizer.from_dict(meta.get("text_tokenizer", {}), str(run_dir / META))
    if len(text_tok) != cfg.n_text:
        raise InkstrokeError(f"{run_dir / META}: text vocabulary has {len(text_tok)} symbols but the "
                             f"recogniser expects {cfg.n_text} (mismatched checkpoint)")
    return read_weights(run_dir, RecognizerModel(cfg)), stroke_tok, text_tok, meta
