"""The glyph-conditioned stroke writer: a glyph image in, strokes in order out.

* **Encoder.** A small conv stem turns the (2, 64, 64) glyph image into a
  16 x 16 grid of features; each cell gets Fourier features of its centre
  (x, y), and a self-attention block lets cells see the whole character.
  The ablation (``conditioning="char_id"``) replaces the image by a learned
  embedding of the character id added to every cell: it can only write the
  characters it was trained on.
* **Decoder.** One step per *stroke*, not per pen move: a character is 1 to
  32 steps instead of hundreds, which is what a CPU can train, and stroke
  order is the hard part of writing hanzi. Step ``t`` sees the previous stroke
  (its points) and the pen's position after it, as Fourier features of the
  *same* modules as the image cells, so cross-attention can look for "the ink
  near the pen". Blocks, attention and Fourier features are those of the
  motion-token transformer (:mod:`inkstroke.model.transformer`).
* **Heads.** Where the next stroke starts is a *pointer* over the grid cells:
  a categorical choice, so that two plausible next strokes stay two choices
  instead of being averaged into one stroke between them. Given the start
  cell, a second pointer picks the cell the stroke ends in, and the points
  are regressed as offsets from the chord between the two (the glyph fixes
  the shape once its ends are known). An end head says when the character
  is finished.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass

import torch
import torch.nn.functional as F
from torch import nn

from inkstroke.model.transformer import Block, Fourier, step_encoding


@dataclass
class HanziConfig:
    conditioning: str = "glyph"  # "glyph" (image) or "char_id" (ablation)
    n_chars: int = 0  # characters known to the char_id model (index 0: unknown)
    image_size: int = 64
    grid: int = 16  # encoder cells per side
    channels: tuple[int, int] = (24, 48)  # conv stem widths before d_model
    points: int = 10  # points per stroke
    max_strokes: int = 32
    d_model: int = 128
    n_head: int = 4
    n_enc: int = 0  # self-attention blocks over the cells (costly on CPU: 256 cells)
    n_dec: int = 4
    d_ff: int = 256
    dropout: float = 0.0  # augmentation regularises; dropout's masks cost a CPU dearly
    n_fourier: int = 12
    min_period: float = 0.04  # position periods, in glyph widths
    max_period: float = 2.0

    def __post_init__(self) -> None:
        self.channels = tuple(self.channels)  # JSON gives a list back

    def to_dict(self) -> dict:
        return asdict(self)


class HanziWriter(nn.Module):
    def __init__(self, cfg: HanziConfig):
        super().__init__()
        self.cfg = cfg
        d, g = cfg.d_model, cfg.grid
        if cfg.conditioning == "glyph":
            if cfg.image_size != 4 * g:
                raise ValueError(f"the stem divides the image by 4: image_size must be {4 * g}")
            c1, c2 = cfg.channels
            self.stem = nn.Sequential(
                nn.Conv2d(2, c1, 3, stride=2, padding=1), nn.GELU(),
                nn.Conv2d(c1, c2, 3, padding=1), nn.GELU(),
                nn.Conv2d(c2, d, 3, stride=2, padding=1),
            )
        elif cfg.conditioning == "char_id":
            self.char_emb = nn.Embedding(max(cfg.n_chars, 1), d)
        else:
            raise ValueError(f"unknown conditioning {cfg.conditioning!r}")
        self.fx, self.fy = Fourier(cfg), Fourier(cfg)  # shared by cells and pen
        centres = (torch.arange(g, dtype=torch.float32) + 0.5) / g
        cy, cx = torch.meshgrid(centres, centres, indexing="ij")
        self.register_buffer("cell_xy", torch.stack([cx, cy], -1).view(g * g, 2), persistent=False)
        self.encoder = nn.ModuleList(Block(cfg, cross=False) for _ in range(cfg.n_enc))
        self.enc_ln = nn.LayerNorm(d)
        self.stroke_in = nn.Linear(2 * cfg.points, d)
        self.bos = nn.Parameter(torch.zeros(1, 1, d))
        self.register_buffer("steps_pe", step_encoding(cfg.max_strokes + 1, d), persistent=False)
        self.decoder = nn.ModuleList(Block(cfg, cross=True) for _ in range(cfg.n_dec))
        self.dec_ln = nn.LayerNorm(d)
        self.end_head = nn.Linear(d, 1)
        self.query, self.key = nn.Linear(d, d), nn.Linear(d, d)
        self.end_query, self.end_key = nn.Linear(d, d), nn.Linear(d, d)
        self.end_in = nn.Linear(d, d)
        self.shape_head = nn.Sequential(nn.Linear(d, 2 * d), nn.GELU(), nn.Linear(2 * d, 2 * cfg.points))
        self.register_buffer("along", torch.linspace(0, 1, cfg.points)[:, None], persistent=False)
        self.apply(self._init)

    @staticmethod
    def _init(m: nn.Module) -> None:
        if isinstance(m, nn.Linear | nn.Conv2d):
            nn.init.normal_(m.weight, std=0.02)
            nn.init.zeros_(m.bias)
        elif isinstance(m, nn.Embedding):
            nn.init.normal_(m.weight, std=0.02)

    def num_params(self) -> int:
        return sum(p.numel() for p in self.parameters())

    def where(self, xy: torch.Tensor) -> torch.Tensor:
        """Fourier features of unit-frame positions (..., 2)."""
        return self.fx(xy[..., 0]) + self.fy(xy[..., 1])

    def encode(self, images: torch.Tensor | None = None, char_ids: torch.Tensor | None = None):
        """Cell features (B, grid², d) of glyph images (B, 2, S, S) in [0, 1],
        or of character ids (B,) for the ablation."""
        if self.cfg.conditioning == "glyph":
            x = self.stem(images).flatten(2).transpose(1, 2)
        else:
            x = self.char_emb(char_ids)[:, None, :].expand(-1, self.cell_xy.shape[0], -1)
        x = x + self.where(self.cell_xy)
        for block in self.encoder:
            x, _ = block(x)
        return self.enc_ln(x)

    def decode(self, memory: torch.Tensor, prev: torch.Tensor) -> torch.Tensor:
        """Hidden states (B, T + 1, d) given the first T strokes (B, T, P, 2):
        state t is about to choose stroke t (or the end)."""
        b, t = prev.shape[:2]
        h = self.stroke_in(prev.flatten(2)) + self.where(prev[:, :, -1])
        h = torch.cat([self.bos.expand(b, 1, -1), h], dim=1) + self.steps_pe[: t + 1]
        for block in self.decoder:
            h, _ = block(h, causal=True, memory=memory)
        return self.dec_ln(h)

    def decode_step(self, memory: torch.Tensor, prev: torch.Tensor | None, t: int, cache: list[dict]):
        """The state (B, 1, d) of step ``t`` given stroke t - 1 (B, P, 2) (None
        at t = 0), keys and values of earlier steps and of the memory kept in
        ``cache`` (from :meth:`new_cache`): one step costs one step."""
        if prev is None:
            h = self.bos.expand(memory.shape[0], 1, -1)
        else:
            h = (self.stroke_in(prev.flatten(1)) + self.where(prev[:, -1]))[:, None]
        h = h + self.steps_pe[t]
        for block, c in zip(self.decoder, cache, strict=True):
            h, _ = block(h, causal=True, memory=memory, cache=c)
        return self.dec_ln(h)

    def new_cache(self) -> list[dict]:
        return [{"self": {}, "cross": {}} for _ in self.decoder]

    def pointer_logits(self, h: torch.Tensor, memory: torch.Tensor) -> torch.Tensor:
        """(B, T, cells): where each next stroke starts."""
        return self.query(h) @ self.key(memory).transpose(1, 2) / math.sqrt(h.shape[-1])

    def _gather(self, memory: torch.Tensor, cell: torch.Tensor) -> torch.Tensor:
        return torch.gather(memory, 1, cell[..., None].expand(-1, -1, memory.shape[-1]))

    def stroke_from_cell(self, h: torch.Tensor, memory: torch.Tensor, cell: torch.Tensor,
                         end_cell: torch.Tensor | None = None):
        """Stroke points (B, T, P, 2) and end-cell logits (B, T, cells) given
        the start cell (B, T) of each step; the end cell is the given one
        (training) or the most likely one. Points are regressed as offsets from
        the chord between the two cell centres: a pointer puts both ends of a
        long stroke in place, where regressing them would shrink the stroke
        towards the average."""
        start = self.cell_xy[cell]
        z = h + self._gather(memory, cell) + self.where(start)
        end_logits = self.end_query(z) @ self.end_key(memory).transpose(1, 2) / math.sqrt(z.shape[-1])
        if end_cell is None:
            end_cell = end_logits.argmax(-1)
        end = self.cell_xy[end_cell]
        z = z + self.end_in(self._gather(memory, end_cell) + self.where(end))
        offsets = self.shape_head(z).unflatten(-1, (self.cfg.points, 2))
        chord = start[..., None, :] + self.along * (end - start)[..., None, :]
        return chord + offsets / self.cfg.grid, end_logits

    def cell_of(self, xy: torch.Tensor) -> torch.Tensor:
        g = self.cfg.grid
        ij = (xy * g).floor().long().clamp(0, g - 1)
        return ij[..., 1] * g + ij[..., 0]

    def loss(self, batch: dict) -> tuple[torch.Tensor, dict]:
        """Teacher-forced losses. ``batch``: images (B, 2, S, S) or char_ids (B,),
        strokes (B, T, P, 2) unit frame, counts (B,) real strokes per character,
        and optionally ``inputs``: the strokes as the decoder reads them (noisy)."""
        strokes, counts = batch["strokes"], batch["counts"]
        b, t = strokes.shape[:2]
        memory = self.encode(batch.get("images"), batch.get("char_ids"))
        h = self.decode(memory, batch.get("inputs", strokes))  # (B, T + 1, d)
        steps = torch.arange(t + 1, device=strokes.device)
        live = steps[None, :] < counts[:, None]  # (B, T + 1): steps that draw a stroke
        until_end = steps[None, :] <= counts[:, None]
        end = F.binary_cross_entropy_with_logits(
            self.end_head(h).squeeze(-1)[until_end], (~live)[until_end].float()
        )
        cells, end_cells = self.cell_of(strokes[:, :, 0]), self.cell_of(strokes[:, :, -1])  # (B, T)
        logits = self.pointer_logits(h[:, :t], memory)
        mask = live[:, :t]
        pointer = F.cross_entropy(logits[mask], cells[mask])
        pred, end_logits = self.stroke_from_cell(h[:, :t], memory, cells, end_cells)
        pointer_end = F.cross_entropy(end_logits[mask], end_cells[mask])
        shape = (pred - strokes).abs()[mask].mean() * self.cfg.grid
        total = end + pointer + pointer_end + shape
        return total, {"end": end.item(), "pointer": pointer.item(), "pointer_end": pointer_end.item(),
                       "shape": shape.item()}

    @torch.no_grad()
    def generate(self, images: torch.Tensor | None = None, char_ids: torch.Tensor | None = None,
                 temperature: float = 0.0, generator: torch.Generator | None = None) -> list[torch.Tensor]:
        """Strokes (n, P, 2) in the unit frame for each glyph (or id). Greedy
        at ``temperature`` 0; otherwise start cells are sampled."""
        memory = self.encode(images, char_ids)
        b = memory.shape[0]
        strokes = memory.new_zeros(b, 0, self.cfg.points, 2)
        done = torch.zeros(b, dtype=torch.bool, device=memory.device)
        counts = torch.full((b,), self.cfg.max_strokes, dtype=torch.long, device=memory.device)
        cache = self.new_cache()
        for t in range(self.cfg.max_strokes):
            h = self.decode_step(memory, strokes[:, -1] if t else None, t, cache)
            if t > 0:
                ended = (self.end_head(h)[:, 0, 0] > 0) & ~done
                counts[ended] = t
                done |= ended
                if done.all():
                    break
            logits = self.pointer_logits(h, memory)[:, 0]
            if temperature > 0:
                probs = (logits / temperature).softmax(-1)
                cell = torch.multinomial(probs, 1, generator=generator)
            else:
                cell = logits.argmax(-1, keepdim=True)
            strokes = torch.cat([strokes, self.stroke_from_cell(h, memory, cell)[0]], dim=1)
        return [strokes[i, : counts[i]] for i in range(b)]

    @torch.no_grad()
    def beam_search(self, images: torch.Tensor | None = None, char_ids: torch.Tensor | None = None,
                    beam: int = 4) -> list[torch.Tensor]:
        """The most likely stroke sequence under the start-cell and end choices,
        searched ``beam`` hypotheses wide. One wrong start early on (say, a
        vertical before the horizontal it crosses) looks fine to greedy
        decoding but makes the rest unlikely; the beam keeps the alternative."""
        memory = self.encode(images, char_ids)
        b, n_cells, _ = memory.shape
        w = beam
        memory = memory.repeat_interleave(w, dim=0)
        strokes = memory.new_zeros(b * w, 0, self.cfg.points, 2)
        score = torch.full((b, w), float("-inf"), device=memory.device)
        score[:, 0] = 0.0  # one live hypothesis to start from
        best: list[torch.Tensor | None] = [None] * b
        best_score = torch.full((b,), float("-inf"), device=memory.device)
        rows = torch.arange(b, device=memory.device)[:, None] * w
        cache = self.new_cache()
        for t in range(self.cfg.max_strokes):
            h = self.decode_step(memory, strokes[:, -1] if t else None, t, cache)
            end = self.end_head(h)[:, 0, 0].view(b, w)
            if t > 0:
                finished, at = (score + F.logsigmoid(end)).max(dim=1)
                for i in torch.nonzero(finished > best_score).flatten().tolist():
                    best[i], best_score[i] = strokes[i * w + at[i]].clone(), finished[i]
                score = score + F.logsigmoid(-end)
            logp = self.pointer_logits(h, memory)[:, 0].log_softmax(-1).view(b, w, n_cells)
            top, idx = (score[..., None] + logp).view(b, w * n_cells).topk(w, dim=1)
            if (top[:, 0] <= best_score).all():  # scores only fall: no live hypothesis can win
                break
            src = (rows + idx // n_cells).flatten()
            new, _ = self.stroke_from_cell(h[src], memory, (idx % n_cells).view(-1, 1))
            strokes = torch.cat([strokes[src], new], dim=1)
            for c in cache:  # hypotheses moved: so do their pasts (the memory is the same within a character)
                c["self"]["k"], c["self"]["v"] = c["self"]["k"][src], c["self"]["v"][src]
            score = top
        return [s if s is not None else strokes[i * w] for i, s in enumerate(best)]

