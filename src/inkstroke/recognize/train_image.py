"""Training the image reader with CTC (``inkstroke train-recognizer --image``).

The pictures are drawn once from the stroke recogniser's token cache (the
same UNIPEN examples, writer-disjoint splits and normalised units) into a
picture cache beside the run; batches are bucketed by width. Checkpoints are
atomic and carry the optimiser state, so ``--resume`` goes on where an
interrupted run stopped (Ctrl-C saves first).
"""

from __future__ import annotations

import sys
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

from inkstroke.errors import InkstrokeError
from inkstroke.io.container import atomic_write_bytes
from inkstroke.recognize.image import (
    ImageReaderConfig,
    ImageReaderModel,
    collate_images,
    load_image_reader,
    save_image_reader,
    word_image,
)
from inkstroke.recognize.train import fit, greedy_errors, read_reader_config
from inkstroke.tokenize.text import TextTokenizer
from inkstroke.train.data import TokenCache, bucketed_batches


@dataclass
class PictureCache:
    """Every example's picture, side by side in one (HEIGHT, sum W) uint8 array."""

    pixels: np.ndarray
    offsets: np.ndarray  # (N + 1,) column offsets
    chars: list[np.ndarray]
    texts: list[str]
    splits: np.ndarray
    text_tok: TextTokenizer

    def width(self, i: int) -> int:
        return int(self.offsets[i + 1] - self.offsets[i])

    def image(self, i: int) -> np.ndarray:
        return self.pixels[:, self.offsets[i] : self.offsets[i + 1]].astype(np.float32) / 255.0

    def indices(self, split: str) -> np.ndarray:
        return np.flatnonzero(self.splits == split)

    def save(self, path: Path) -> None:
        import io
        import json

        buf = io.BytesIO()
        np.savez(buf, pixels=self.pixels, offsets=self.offsets, splits=self.splits,
                 texts=np.asarray(json.dumps(self.texts)), text_tok=np.asarray(json.dumps(self.text_tok.to_dict())))
        atomic_write_bytes(path, lambda f: f.write(buf.getvalue()))

    @classmethod
    def load(cls, path: Path) -> PictureCache:
        import json

        with np.load(path) as z:
            texts = json.loads(str(z["texts"]))
            tok = TextTokenizer.from_dict(json.loads(str(z["text_tok"])), str(path))
            return cls(z["pixels"], z["offsets"], [tok.encode(t, strict=False) for t in texts], texts,
                       z["splits"], tok)


def build_picture_cache(tokens: str | Path, quiet: bool = False) -> PictureCache:
    """Draw every example of a recogniser token cache; inks too wide to draw are left out."""
    from rich.progress import Progress

    cache = TokenCache.load(tokens)
    columns, widths, keep = [], [], []
    with Progress(disable=quiet, transient=True) as bar:
        task = bar.add_task("drawing pictures", total=len(cache))
        for i in range(len(cache)):
            bar.advance(task)
            try:
                im = word_image(cache.stroke_tok.decode(cache.example(i)[0]))
            except InkstrokeError:
                continue
            columns.append(np.rint(im * 255).astype(np.uint8))
            widths.append(im.shape[1])
            keep.append(i)
    if not keep:
        raise InkstrokeError(f"{tokens}: no example could be drawn")
    texts = [cache.texts[i] for i in keep]
    return PictureCache(np.concatenate(columns, axis=1), np.concatenate([[0], np.cumsum(widths)]),
                        [cache.example(i)[1] for i in keep], texts, cache.splits[keep], cache.text_tok)


@dataclass
class ImageReaderTrainConfig:
    steps: int = 7000
    max_pixels: int = 6000  # padded picture columns per batch
    lr: float = 1.5e-3
    min_lr: float = 3e-5
    warmup: int = 300
    weight_decay: float = 0.01
    clip: float = 1.0
    seed: int = 0
    eval_every: int = 500
    save_every: int = 250
    threads: int = 1
    model: ImageReaderConfig = field(default_factory=ImageReaderConfig)


def load_image_reader_config(path: str | Path | None) -> ImageReaderTrainConfig:
    return read_reader_config(path, ImageReaderTrainConfig, ImageReaderConfig)


@torch.no_grad()
def evaluate_pictures(model: ImageReaderModel, cache: PictureCache, idx: np.ndarray, batch: int = 64) -> dict:
    """Greedy character error rate on ``idx`` (the validation writers)."""
    model.eval()
    errors = chars = 0
    for a in range(0, len(idx), batch):
        part = idx[a : a + batch]
        images, widths = collate_images([cache.image(i) for i in part])
        e, c = greedy_errors(model(images, widths), ImageReaderModel.frames(widths), [cache.texts[i] for i in part],
                             cache.text_tok)
        errors, chars = errors + e, chars + c
    model.train()
    return {"valid_cer": errors / max(chars, 1)}


def train_image_reader(tokens: str | Path, cfg: ImageReaderTrainConfig, run: str | Path,
                       resume: bool = False, command: str | None = None, quiet: bool = False) -> dict:
    torch.set_num_threads(cfg.threads)
    run = Path(run)
    run.mkdir(parents=True, exist_ok=True)
    pictures_path = run / "pictures.npz"
    if not pictures_path.exists():
        build_picture_cache(tokens, quiet).save(pictures_path)
    cache = PictureCache.load(pictures_path)
    cfg.model.n_text = len(cache.text_tok)
    torch.manual_seed(cfg.seed)
    start = 0
    if resume and (run / "checkpoint.json").exists():
        model, _, meta = load_image_reader(run)
        start = int(meta.get("step", 0))
        cfg.model = model.cfg
    else:
        model = ImageReaderModel(cfg.model)
    model.train()
    opt = torch.optim.AdamW(model.parameters(), lr=cfg.lr, weight_decay=cfg.weight_decay)
    train_idx, valid_idx = cache.indices("train"), cache.indices("valid")
    if len(train_idx) == 0:
        raise InkstrokeError(f"{tokens}: no training examples")
    eval_idx = np.random.default_rng(cfg.seed).permutation(valid_idx)[:600]
    widths = np.diff(cache.offsets)
    info = {"train_config": {k: v for k, v in asdict(cfg).items() if k != "model"},
            "data": {"tokens": str(tokens), "pictures": int(len(cache.texts)),
                     "train_examples": int(len(train_idx)), "valid_examples": int(len(valid_idx))},
            "command": command or " ".join(sys.argv)}
    before = float(load_image_reader(run)[2].get("train_seconds", 0.0)) if start else 0.0

    def batches(rng: np.random.Generator) -> list[np.ndarray]:
        return [train_idx[b] for b in bucketed_batches(widths[train_idx], cfg.max_pixels, rng)]

    def loss_of(idx: np.ndarray) -> torch.Tensor:
        images, w = collate_images([cache.image(i) for i in idx])
        targets = [cache.chars[i] for i in idx]
        return F.ctc_loss(model(images, w).transpose(0, 1), torch.from_numpy(np.concatenate(targets).astype(np.int64)),
                          ImageReaderModel.frames(w), torch.tensor([len(t) for t in targets]),
                          blank=0, reduction="mean", zero_infinity=True)

    def save_model(extra: dict) -> None:
        save_image_reader(run, model, cache.text_tok, {**info, **extra})

    return fit(model, opt, cfg, run, start, before, "image reader", batches, loss_of,
               lambda: evaluate_pictures(model, cache, eval_idx), save_model, quiet)
