"""The recogniser: motion tokens in, characters out, trained with CTC.

It reads the generator's own token language: each step ``(dx_bin, dy_bin,
pen_up)`` of :class:`~inkstroke.tokenize.strokes.StrokeTokenizer` is embedded
(one table per channel, summed), together with the step's height above the
ink's median line, which the Δ tokens alone do not say (an "l" and an "e" can
move alike; only where they sit tells them apart). A strided convolution
halves the sequence (about 7 frames per character remain, room enough for
CTC's blanks between doubled letters), a depthwise convolution gives every
frame its relative position (so lines longer than any seen in training are
read the same way), and a small pre-norm transformer encoder reads the whole
ink in both directions. A linear layer gives, per frame, the log-probability
of each character of the text vocabulary or of the CTC blank (id 0, the
vocabulary's padding symbol, never a character).

CTC rather than an encoder-decoder: for a reader it is faster (one pass, no
autoregression), it cannot hallucinate text after the ink ends, and its
likelihood of a given text is exact and cheap, which is what sample-and-rank
needs.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

BLANK = 0  # the text vocabulary's PAD id doubles as the CTC blank
Y_CLIP = 4.0  # body heights: heights beyond this are clipped (stray marks)


@dataclass
class RecognizerConfig:
    n_text: int = 97  # text vocabulary size (the generator's)
    n_bins: int = 24  # stroke bins per axis (the generator's)
    d_model: int = 192
    n_head: int = 4
    n_layers: int = 4
    d_ff: int = 768
    dropout: float = 0.1
    pos_kernel: int = 31  # frames seen by the relative-position convolution

    def to_dict(self) -> dict:
        return asdict(self)


def step_features(steps: np.ndarray, y_centers: np.ndarray) -> np.ndarray:
    """The continuous input of each step: its height above the median line of
    the ink (body heights, clipped), from the decoded y positions."""
    y = np.cumsum(y_centers[steps[:, 1]])
    return np.clip(y - np.median(y), -Y_CLIP, Y_CLIP).astype(np.float32)[:, None]


class EncoderLayer(nn.Module):
    def __init__(self, cfg: RecognizerConfig):
        super().__init__()
        self.norm1 = nn.LayerNorm(cfg.d_model)
        self.attn = nn.MultiheadAttention(cfg.d_model, cfg.n_head, dropout=cfg.dropout, batch_first=True)
        self.norm2 = nn.LayerNorm(cfg.d_model)
        self.ff = nn.Sequential(nn.Linear(cfg.d_model, cfg.d_ff), nn.GELU(), nn.Dropout(cfg.dropout),
                                nn.Linear(cfg.d_ff, cfg.d_model))
        self.drop = nn.Dropout(cfg.dropout)

    def forward(self, x: torch.Tensor, pad: torch.Tensor) -> torch.Tensor:
        h = self.norm1(x)
        x = x + self.drop(self.attn(h, h, h, key_padding_mask=pad, need_weights=False)[0])
        return x + self.drop(self.ff(self.norm2(x)))


class RecognizerModel(nn.Module):
    def __init__(self, cfg: RecognizerConfig):
        super().__init__()
        self.cfg = cfg
        d = cfg.d_model
        self.emb_x = nn.Embedding(cfg.n_bins, d)
        self.emb_y = nn.Embedding(cfg.n_bins, d)
        self.emb_pen = nn.Embedding(2, d)
        self.height = nn.Linear(1, d)
        self.subsample = nn.Conv1d(d, d, kernel_size=5, stride=2, padding=2)
        self.position = nn.Conv1d(d, d, kernel_size=cfg.pos_kernel, padding=cfg.pos_kernel // 2, groups=d)
        self.layers = nn.ModuleList(EncoderLayer(cfg) for _ in range(cfg.n_layers))
        self.norm = nn.LayerNorm(d)
        self.out = nn.Linear(d, cfg.n_text)

    @staticmethod
    def frames(lengths: torch.Tensor) -> torch.Tensor:
        """Frames left after the stride-2 subsampling of ``lengths`` steps."""
        return (lengths - 1) // 2 + 1

    def forward(self, steps: torch.Tensor, height: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
        """Log-probabilities (B, frames, n_text) of steps (B, T, 3), heights (B, T, 1)."""
        x = self.emb_x(steps[..., 0]) + self.emb_y(steps[..., 1]) + self.emb_pen(steps[..., 2]) + self.height(height)
        mask = (torch.arange(steps.shape[1], device=steps.device)[None] < lengths[:, None]).unsqueeze(-1)
        x = F.gelu(self.subsample((x * mask).transpose(1, 2)))
        n = self.frames(lengths)
        pad = torch.arange(x.shape[2], device=x.device)[None] >= n[:, None]
        x = x.masked_fill(pad.unsqueeze(1), 0.0)  # padding frames must not reach the real ones
        x = (x + F.gelu(self.position(x))).transpose(1, 2)
        for layer in self.layers:
            x = layer(x, pad)
        return F.log_softmax(self.out(self.norm(x)), dim=-1)


def collate_steps(examples: list[np.ndarray], y_centers: np.ndarray) -> dict[str, torch.Tensor]:
    """Pad token sequences (T_i, 3) into one batch for :meth:`RecognizerModel.forward`."""
    t_max = max(len(s) for s in examples)
    steps = np.zeros((len(examples), t_max, 3), dtype=np.int64)
    height = np.zeros((len(examples), t_max, 1), dtype=np.float32)
    for k, s in enumerate(examples):
        steps[k, : len(s)] = s
        height[k, : len(s)] = step_features(s, y_centers)
    return {"steps": torch.from_numpy(steps), "height": torch.from_numpy(height),
            "lengths": torch.tensor([len(s) for s in examples], dtype=torch.long)}
