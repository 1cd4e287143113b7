"""The image reader: a second recogniser that reads the *picture* of a word.

The stroke recogniser (:mod:`inkstroke.recognize.model`) reads the pen's
motion, so it reads a scribbled "the" or a "0" closed as a "6" as surely as a
clear one: the motion says what the writer meant. A reader of paper (a
person, Tesseract) sees only the ink. This model sees the same: the word is
drawn as thin strokes on a fixed grid (:func:`word_image`: 12 px per body
height, 48 px tall, centred on the word's median line, so a comma stays
below the line and an apostrophe above it), read by a small convolutional
network and a bidirectional GRU, and trained with CTC on the same UNIPEN
words and lines as the stroke recogniser. ``write`` adds its score to the
stroke recogniser's when it ranks draws of a word.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np
import torch
from PIL import Image, ImageDraw
from torch import nn

from inkstroke.errors import InkstrokeError
from inkstroke.ink import Ink
from inkstroke.model.checkpoint import read_meta, read_weights, write_run
from inkstroke.recognize.decode import greedy_decode, text_log_likelihood
from inkstroke.tokenize.text import TextTokenizer, normalise_text

KIND = "inkstroke-image-reader"
MODEL_DIR = Path(__file__).resolve().parent.parent / "models" / "image-reader"
PX_PER_UNIT = 12.0  # pixels per body height (the judge's 48 px line is about four body heights)
HEIGHT = 48  # pixels: two body heights above and below the median line
STROKE = 2.5  # pen width in pixels, the judge's
MARGIN = 4  # pixels left and right
MAX_WIDTH = 1536  # pixels (about 120 body heights): longer inks are refused
SUPERSAMPLE = 2


def word_image(ink: Ink) -> np.ndarray:
    """The ink as an anti-aliased (HEIGHT, W) float32 coverage picture, 1 where
    the pen went. An ink in other units than the generator's normalised ones
    (body height 1) is normalised first."""
    if not any(len(s) for s in ink.strokes):
        raise InkstrokeError("cannot read an empty ink")
    if not np.isfinite(np.concatenate(ink.strokes)).all():
        raise InkstrokeError("the ink has NaN or infinite coordinates")
    if ink.units != "normalized":
        if np.ptp(ink.points(), axis=0).max() == 0:
            raise InkstrokeError("the ink is a single point: it has no size to read")
        ink = ink.normalized()
    ink = ink.y_down()
    strokes = [s for s in ink.strokes if len(s)]
    pts = np.concatenate(strokes)
    mid = float(np.median(ink.resampled_y(0.05)))
    x0 = float(pts[:, 0].min())
    width = int(np.ceil((float(pts[:, 0].max()) - x0) * PX_PER_UNIT)) + 2 * MARGIN
    width += -width % 4  # a whole number of frames: a picture reads the same alone or in a batch
    if width > MAX_WIDTH:
        raise InkstrokeError(f"the ink is too wide to read as one picture ({width} px, at most {MAX_WIDTH})")
    ss = SUPERSAMPLE
    canvas = Image.new("L", (width * ss, HEIGHT * ss), 0)
    draw = ImageDraw.Draw(canvas)
    pen = max(1, round(STROKE * ss))
    for s in strokes:
        px = np.empty_like(s, dtype=np.float64)
        px[:, 0] = ((s[:, 0] - x0) * PX_PER_UNIT + MARGIN) * ss
        px[:, 1] = ((s[:, 1] - mid) * PX_PER_UNIT + HEIGHT / 2) * ss
        if len(px) > 1:
            draw.line([tuple(p) for p in px.tolist()], fill=255, width=pen, joint="curve")
        r = pen / 2
        for x, y in (px[0], px[-1]):
            draw.ellipse([x - r, y - r, x + r, y + r], fill=255)
    return np.asarray(canvas.reduce(ss), dtype=np.float32) / 255.0


def collate_images(images: list[np.ndarray]) -> tuple[torch.Tensor, torch.Tensor]:
    """(B, 1, HEIGHT, W_max) batch padded with blank paper, and each picture's width."""
    widths = torch.tensor([im.shape[1] for im in images], dtype=torch.long)
    batch = torch.zeros(len(images), 1, HEIGHT, int(widths.max()))
    for k, im in enumerate(images):
        batch[k, 0, :, : im.shape[1]] = torch.from_numpy(im)
    return batch, widths


class HalvingMaxPool(nn.Module):
    """``nn.MaxPool2d`` over 2x2 windows (2x1 with ``width=False``), as the
    elementwise maximum of strided views: the same numbers, five to forty
    times faster on the CPU, where ``max_pool2d`` also works out the argmax
    indices that only its backward pass needs (it was a quarter of the
    reader's time). An odd last row or column is dropped, as MaxPool2d does."""

    def __init__(self, width: bool = True):
        super().__init__()
        self.width = width

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h, w = x.shape[-2] // 2 * 2, x.shape[-1] // 2 * 2 if self.width else x.shape[-1]
        x = torch.maximum(x[..., 0:h:2, :w], x[..., 1:h:2, :w])
        return torch.maximum(x[..., 0::2], x[..., 1::2]) if self.width else x


@dataclass
class ImageReaderConfig:
    n_text: int = 97  # text vocabulary size (the generator's)
    channels: tuple[int, int, int, int] = (16, 32, 64, 64)
    d_rnn: int = 128
    dropout: float = 0.1

    def __post_init__(self) -> None:
        self.channels = tuple(self.channels)  # TOML and JSON give lists

    def to_dict(self) -> dict:
        return {**asdict(self), "channels": list(self.channels)}


class ImageReaderModel(nn.Module):
    """Four 3x3 convolutions (pooled to a quarter of the width and 1/16 of the
    height: a frame every 4 px, about three per letter), the columns flattened,
    two bidirectional GRU layers, log-probabilities per frame (blank = 0)."""

    def __init__(self, cfg: ImageReaderConfig):
        super().__init__()
        self.cfg = cfg
        layers: list[nn.Module] = []
        c_in = 1
        for k, c in enumerate(cfg.channels):
            # pooled before the ReLU: the same numbers (both keep maxima), a quarter of the work
            layers += [nn.Conv2d(c_in, c, 3, padding=1), nn.BatchNorm2d(c), HalvingMaxPool(width=k < 2), nn.ReLU()]
            c_in = c
        self.conv = nn.Sequential(*layers)  # four layers per block
        self.proj = nn.Linear(c_in * (HEIGHT // 16), cfg.d_rnn)
        self.rnn = nn.GRU(cfg.d_rnn, cfg.d_rnn, num_layers=2, bidirectional=True, batch_first=True,
                          dropout=cfg.dropout)
        self.drop = nn.Dropout(cfg.dropout)
        self.head = nn.Linear(2 * cfg.d_rnn, cfg.n_text)

    @staticmethod
    def frames(widths: torch.Tensor) -> torch.Tensor:
        return torch.clamp(widths // 4, min=1)

    def forward(self, images: torch.Tensor, widths: torch.Tensor) -> torch.Tensor:
        h = images
        for k in range(len(self.cfg.channels)):
            h = self.conv[4 * k : 4 * k + 4](h)
            # blank paper beyond a picture's own width, as if it were read alone
            valid = widths // (2 ** min(k + 1, 2))
            h = h * (torch.arange(h.shape[-1]) < valid[:, None]).to(h.dtype)[:, None, None, :]
        # h: (B, C, HEIGHT/16, W/4)
        b, c, hh, w = h.shape
        h = self.drop(torch.relu(self.proj(h.permute(0, 3, 1, 2).reshape(b, w, c * hh))))
        frames = torch.clamp(self.frames(widths), max=w)
        packed = nn.utils.rnn.pack_padded_sequence(h, frames.cpu(), batch_first=True, enforce_sorted=False)
        out, _ = self.rnn(packed)
        out, _ = nn.utils.rnn.pad_packed_sequence(out, batch_first=True, total_length=w)
        return torch.log_softmax(self.head(self.drop(out)), dim=-1)


def save_image_reader(run_dir: str | Path, model: ImageReaderModel, text_tok: TextTokenizer, info: dict) -> None:
    write_run(run_dir, model, {"kind": KIND, "version": 1, "model": model.cfg.to_dict(),
                               "render": {"px_per_unit": PX_PER_UNIT, "height": HEIGHT, "stroke": STROKE},
                               "text_tokenizer": text_tok.to_dict(), **info})


def load_image_reader(path: str | Path) -> tuple[ImageReaderModel, TextTokenizer, dict]:
    """(model in eval mode, text tokenizer, metadata)."""
    run_dir, meta = read_meta(path, KIND, "image reader")
    try:
        cfg = ImageReaderConfig(**meta["model"])
    except (KeyError, TypeError) as e:
        raise InkstrokeError(f"{run_dir}: bad image reader config ({e})") from None
    text_tok = TextTokenizer.from_dict(meta.get("text_tokenizer", {}), str(run_dir))
    if len(text_tok) != cfg.n_text:
        raise InkstrokeError(f"{run_dir}: text vocabulary has {len(text_tok)} symbols but the image reader "
                             f"expects {cfg.n_text} (mismatched checkpoint)")
    return read_weights(run_dir, ImageReaderModel(cfg)), text_tok, meta


class ImageReader:
    """Reads and scores inks by their pictures; the counterpart of
    :class:`~inkstroke.recognize.api.Recognizer` for the ranking in ``write``."""

    def __init__(self, model: ImageReaderModel, text_tok: TextTokenizer, meta: dict):
        self.model, self.text_tok, self.meta = model, text_tok, meta

    @classmethod
    def from_checkpoint(cls, path: str | Path | None = None) -> ImageReader:
        path = Path(path) if path else MODEL_DIR
        if not (path / "checkpoint.json").exists() and not path.is_file():
            where = "the shipped image reader is missing; reinstall inkstroke" if path == MODEL_DIR else "no image reader here"
            raise InkstrokeError(f"{path}: {where}")
        return cls(*load_image_reader(path))

    @torch.no_grad()
    def _logp(self, images: list[np.ndarray]) -> tuple[torch.Tensor, torch.Tensor]:
        batch, widths = collate_images(images)
        return self.model(batch, widths), ImageReaderModel.frames(widths)

    def read(self, inks: list[Ink], batch: int = 64) -> list[str]:
        """Greedy reading of each ink."""
        out: list[str] = []
        for a in range(0, len(inks), batch):
            logp, frames = self._logp([word_image(ink) for ink in inks[a : a + batch]])
            out.extend(greedy_decode(logp, frames, self.text_tok))
        return out

    def score(self, inks: list[Ink], texts: list[str], batch: int = 32) -> np.ndarray:
        """log P(text | picture) per character of text (-inf for an ink with nothing
        to read). Pictures go through the model ``batch`` at a time in order of
        width, so that a batch is padded to about its own width."""
        if len(inks) != len(texts):
            raise InkstrokeError("score needs one text per ink")
        scores = np.full(len(inks), -np.inf)
        ok, images = [], []
        for i, ink in enumerate(inks):
            try:
                images.append(word_image(ink))
                ok.append(i)
            except InkstrokeError:
                continue
        targets = [self.text_tok.encode(normalise_text(texts[i]), strict=False) for i in ok]
        order = np.argsort([im.shape[1] for im in images], kind="stable")
        for a in range(0, len(order), batch):
            part = order[a : a + batch]
            logp, frames = self._logp([images[k] for k in part])
            ll = text_log_likelihood(logp, frames, [targets[k] for k in part]).numpy()
            scores[np.asarray(ok)[part]] = ll / np.maximum([len(targets[k]) for k in part], 1)
        return scores


@lru_cache(maxsize=2)
def load_image_reader_cached(model: str | None = None) -> ImageReader:
    return ImageReader.from_checkpoint(model)
