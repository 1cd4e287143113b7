"""Token datasets: inks with text, tokenized once and cached as flat arrays.

A cache (``.npz``) holds every example's steps ``(T, 3)`` and character ids,
concatenated, with offsets, plus the split, the ink's x-extent (in body
heights, used to stretch the expected character positions onto the real
ink) and the tokenizers' JSON. Batches are formed by length bucketing so
that padding stays small.
"""

from __future__ import annotations

import json
import zipfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from inkstroke.errors import InkstrokeError
from inkstroke.ink import Ink
from inkstroke.tokenize.strokes import StrokeTokenizer
from inkstroke.tokenize.text import TextTokenizer, normalise_text


@dataclass
class TokenCache:
    steps: np.ndarray  # (sum T, 3) int16
    step_off: np.ndarray  # (N + 1,)
    chars: np.ndarray  # (sum L,) int16
    char_off: np.ndarray  # (N + 1,)
    x_extent: np.ndarray  # (N, 2) float32: xmin, xmax of the decoded ink (NaN: use the expected positions)
    splits: np.ndarray  # (N,) str
    texts: list[str]
    stroke_tok: StrokeTokenizer
    text_tok: TextTokenizer

    def __len__(self) -> int:
        return len(self.texts)

    def length(self, i: int) -> int:
        return int(self.step_off[i + 1] - self.step_off[i])

    def example(self, i: int) -> tuple[np.ndarray, np.ndarray, tuple[float, float]]:
        return (
            self.steps[self.step_off[i] : self.step_off[i + 1]],
            self.chars[self.char_off[i] : self.char_off[i + 1]],
            tuple(self.x_extent[i]),
        )

    def indices(self, split: str) -> np.ndarray:
        return np.flatnonzero(self.splits == split)

    def save(self, path: str | Path) -> None:
        from inkstroke.io.container import atomic_write_bytes

        meta = {
            "texts": self.texts,
            "stroke_tok": self.stroke_tok.to_dict(),
            "text_tok": self.text_tok.to_dict(),
        }
        arrays = dict(
            steps=self.steps,
            step_off=self.step_off,
            chars=self.chars,
            char_off=self.char_off,
            x_extent=self.x_extent,
            splits=self.splits.astype("U5"),
            meta=np.frombuffer(json.dumps(meta).encode(), dtype=np.uint8),
        )
        atomic_write_bytes(path, lambda f: np.savez(f, **arrays))

    @classmethod
    def load(cls, path: str | Path) -> TokenCache:
        try:
            z = np.load(path)
            meta = json.loads(z["meta"].tobytes().decode())
            return cls(
                z["steps"],
                z["step_off"],
                z["chars"],
                z["char_off"],
                z["x_extent"],
                z["splits"],
                meta["texts"],
                StrokeTokenizer.from_dict(meta["stroke_tok"]),
                TextTokenizer.from_dict(meta["text_tok"]),
            )
        except (OSError, EOFError, KeyError, ValueError, zipfile.BadZipFile) as e:
            raise InkstrokeError(f"{path}: not a token cache ({e})") from None


def build_cache(
    inks: list[Ink],
    splits: list[str],
    stroke_tok: StrokeTokenizer,
    text_tok: TextTokenizer,
    max_steps: int = 400,
    progress=None,
) -> TokenCache:
    """Tokenize labelled inks; those longer than ``max_steps`` or with unknown
    characters are left out (and counted in ``progress``'s description)."""
    steps, chars, extents, keep_splits, texts = [], [], [], [], []
    for ink, split in zip(inks, splits):
        if progress is not None:
            progress()
        text = normalise_text(ink.text or "")
        if not text or text_tok.unknown(text):
            continue
        try:
            prepared = StrokeTokenizer.prepare(ink, stroke_tok.step, stroke_tok.rdp)
            tok = stroke_tok.encode(prepared, prepared=True)
        except InkstrokeError:
            continue
        if len(tok) > max_steps or len(tok) < 2:
            continue
        decoded = stroke_tok.decode(tok).points()
        steps.append(tok.astype(np.int16))
        chars.append(text_tok.encode(text).astype(np.int16))
        extents.append((decoded[:, 0].min(), decoded[:, 0].max()))
        keep_splits.append(split)
        texts.append(text)
    if not steps:
        raise InkstrokeError("no usable labelled inks to build a token cache from")
    off = lambda parts: np.concatenate([[0], np.cumsum([len(p) for p in parts])]).astype(np.int64)  # noqa: E731
    return TokenCache(
        np.concatenate(steps),
        off(steps),
        np.concatenate(chars),
        off(chars),
        np.asarray(extents, dtype=np.float32),
        np.asarray(keep_splits),
        texts,
        stroke_tok,
        text_tok,
    )


def char_positions(
    text_tok: TextTokenizer,
    chars: np.ndarray,
    extent: tuple[float, float] | None,
    width_scale: float = 1.0,
) -> np.ndarray:
    """Expected x-centre of each character; stretched onto ``extent`` when known."""
    text = text_tok.decode(chars.tolist())
    x = text_tok.x_centers(text) * width_scale
    if extent is not None:
        expected = max(text_tok.expected_width(text), 1e-3)
        x0, x1 = extent
        x = x0 + x * max(x1 - x0, 0.2) / expected
    return x.astype(np.float32)


def collate(
    cache: TokenCache,
    idx,
    text_dropout: float = 0.0,
    rng: np.random.Generator | None = None,
    continuous: bool = False,
) -> dict[str, torch.Tensor]:
    """A padded batch in the layout :meth:`HandwritingModel.forward` expects."""
    centers = np.stack([cache.stroke_tok.x.centers, cache.stroke_tok.y.centers], axis=1)
    examples = [cache.example(i) for i in idx]
    b = len(examples)
    t_max = max(len(s) for s, _, _ in examples) + 1
    l_max = max(max(len(c) for _, c, _ in examples), 1)
    inputs = np.zeros((b, t_max, 3), dtype=np.float32)
    targets = np.zeros((b, t_max, 3), dtype=np.int64)
    deltas = np.zeros((b, t_max, 2), dtype=np.float32)
    pos = np.zeros((b, t_max, 2), dtype=np.float32)
    step_mask = np.zeros((b, t_max), dtype=bool)
    end_mask = np.zeros((b, t_max), dtype=bool)
    end = np.zeros((b, t_max), dtype=np.float32)
    chars = np.zeros((b, l_max), dtype=np.int64)
    char_x = np.zeros((b, l_max), dtype=np.float32)
    char_mask = np.zeros((b, l_max), dtype=bool)
    for k, (s, c, ext) in enumerate(examples):
        t = len(s)
        d = np.column_stack([centers[s[:, 0], 0], centers[s[:, 1], 1]])
        targets[k, :t] = s
        deltas[k, :t] = d
        inputs[k, 1 : t + 1] = np.column_stack([d, s[:, 2]]) if continuous else s
        pos[k, 1 : t + 1] = np.cumsum(d, axis=0)
        step_mask[k, :t] = True
        end_mask[k, : t + 1] = True
        end[k, t] = 1
        if rng is not None and rng.random() < text_dropout:
            continue
        chars[k, : len(c)] = c
        # a NaN extent: the expected positions, as when sampling (a guided teacher's own draws)
        char_x[k, : len(c)] = char_positions(cache.text_tok, c, None if np.isnan(ext[0]) else ext)
        char_mask[k, : len(c)] = True
    as_t = torch.from_numpy
    return {
        "inputs": as_t(inputs),
        "targets": as_t(targets),
        "deltas": as_t(deltas),
        "pos": as_t(pos),
        "step_mask": as_t(step_mask),
        "end_mask": as_t(end_mask),
        "end": as_t(end),
        "chars": as_t(chars),
        "char_x": as_t(char_x),
        "char_mask": as_t(char_mask),
    }


def bucketed_batches(
    lengths: np.ndarray, max_tokens: int, rng: np.random.Generator, max_batch: int = 256
) -> list[np.ndarray]:
    """Shuffle, sort within chunks by length, and cut into batches of at most
    ``max_tokens`` padded steps: little padding, still random order."""
    order = rng.permutation(len(lengths))
    chunk = 64 * 50
    batches = []
    for a in range(0, len(order), chunk):
        part = order[a : a + chunk]
        part = part[np.argsort(lengths[part], kind="stable")]
        cur: list[int] = []
        longest = 0
        for i in part:
            longest_new = max(longest, lengths[i] + 1)
            if cur and (longest_new * (len(cur) + 1) > max_tokens or len(cur) >= max_batch):
                batches.append(np.asarray(cur))
                cur, longest_new = [], lengths[i] + 1
            cur.append(int(i))
            longest = longest_new
        if cur:
            batches.append(np.asarray(cur))
    rng.shuffle(batches)
    return batches
