"""The motion-token transformer: text in, pen steps out. One file, top to bottom.

* **Encoder** over characters. Each character is embedded and placed at its
  *expected x-offset* along the line (from fitted character widths, see
  :mod:`inkstroke.tokenize.text`), encoded with Fourier features of that
  offset. A learned ``null`` slot is always present, so the model also runs
  with no text at all (unconditional), which text dropout teaches.
* **Decoder** over pen steps. Step ``t``'s input is the previous step (its
  Δx bin, Δy bin and pen embeddings, or the continuous Δ for the MDN head),
  plus Fourier features of the pen's absolute position after it. The same
  x-features as the encoder's make cross-attention easy to learn: the pen at
  x looks for the character expected at x. Causal self-attention, then
  cross-attention to the text.
* **Heads** (``head="bins"``): pen (is the next move in the air?), then Δx
  given the pen, then Δy given pen and Δx, and an end-of-ink head. The
  chained heads make a joint distribution rather than three independent ones.
  ``head="mdn"`` is the Graves-style baseline: a Gaussian mixture over the
  continuous (Δx, Δy), with the same pen and end heads.
* **Character window** (``window_sigma > 0``): each decoder input also gets
  the embeddings of the characters expected under the pen, weighted by a
  Gaussian of the distance between the pen's x and each character's expected
  x. It is Graves's soft window with its position given by the geometry
  instead of learned, so the model knows which letter it is writing from the
  first step of training; cross-attention still sees the whole text.

Incremental decoding keeps a key/value cache per layer, so generating step
``t`` costs one step of compute, not ``t``. Sampling runs its steps through
:class:`StepDecoder` and :class:`StepHeads`: the same arithmetic, with the
weights laid out for one step at a time.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass

import torch
import torch.nn.functional as F
from torch import nn


@dataclass
class ModelConfig:
    n_text: int = 97  # text vocabulary size ([PAD], [UNK], printable ASCII)
    n_bins: int = 24  # Δx and Δy bins of the stroke tokenizer
    d_model: int = 128  # width of every layer
    n_head: int = 4  # attention heads
    n_enc: int = 2  # encoder layers
    n_dec: int = 4  # decoder layers
    d_ff: int = 384  # feed-forward width
    dropout: float = 0.1
    n_fourier: int = 16  # frequencies of the position features
    max_period: float = 64.0  # longest position period, in body heights
    min_period: float = 0.25  # shortest position period, in body heights
    max_steps: int = 2048  # longest decoder sequence (step-index encoding)
    window_sigma: float = 0.0  # width (body heights) of the positional character window; 0 = none
    head: str = "bins"  # "bins" (motion tokens) or "mdn" (Gaussian mixture baseline)
    n_mixtures: int = 20  # MDN components

    def to_dict(self) -> dict:
        return asdict(self)


class Fourier(nn.Module):
    """sin/cos features of a scalar position at geometric periods, projected to d."""

    def __init__(self, cfg: ModelConfig):
        super().__init__()
        periods = torch.logspace(math.log10(cfg.min_period), math.log10(cfg.max_period), cfg.n_fourier)
        self.register_buffer("freq", 2 * math.pi / periods, persistent=False)
        self.proj = nn.Linear(2 * cfg.n_fourier, cfg.d_model)

    def forward(self, pos: torch.Tensor) -> torch.Tensor:
        a = pos.unsqueeze(-1) * self.freq
        return self.proj(torch.cat([a.sin(), a.cos()], dim=-1))


def step_encoding(n: int, d: int, device=None) -> torch.Tensor:
    """The classic sinusoidal encoding of step indices (n, d)."""
    pos = torch.arange(n, device=device, dtype=torch.float32).unsqueeze(1)
    div = torch.exp(torch.arange(0, d, 2, device=device, dtype=torch.float32) * (-math.log(10000.0) / d))
    pe = torch.zeros(n, d, device=device)
    pe[:, 0::2] = torch.sin(pos * div)
    pe[:, 1::2] = torch.cos(pos * div)
    return pe


def padding_bias(mask: torch.Tensor, dtype: torch.dtype = torch.float32) -> torch.Tensor:
    """(B, S) True where attention may go -> additive (B, 1, 1, S): 0 there, -inf elsewhere."""
    bias = torch.zeros(mask.shape, dtype=dtype, device=mask.device)
    return bias.masked_fill(~mask, float("-inf"))[:, None, None, :]


class Attention(nn.Module):
    def __init__(self, cfg: ModelConfig, cross: bool):
        super().__init__()
        self.h, self.d = cfg.n_head, cfg.d_model
        self.cross = cross
        self.q = nn.Linear(cfg.d_model, cfg.d_model)
        self.kv = nn.Linear(cfg.d_model, 2 * cfg.d_model)
        self.out = nn.Linear(cfg.d_model, cfg.d_model)
        self.drop = cfg.dropout

    def split(self, x: torch.Tensor) -> torch.Tensor:
        b, t, _ = x.shape
        return x.view(b, t, self.h, self.d // self.h).transpose(1, 2)

    @staticmethod
    def _append(cache: dict, k: torch.Tensor, v: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Keys and values so far plus the new ones. The cache is a buffer that
        doubles when full, so a step costs a copy of the new entries only, not
        of the whole history (concatenating every step made long sequences
        quadratic in memory traffic)."""
        n, t = cache["n"], k.shape[2]
        if n + t > cache["k"].shape[2]:
            size = max(2 * cache["k"].shape[2], n + t)
            for name in ("k", "v"):
                old = cache[name]
                buf = old.new_empty(old.shape[0], old.shape[1], size, old.shape[3])
                buf[:, :, :n] = old[:, :, :n]
                cache[name] = buf
        cache["k"][:, :, n : n + t] = k
        cache["v"][:, :, n : n + t] = v
        cache["n"] = n + t
        return cache["k"][:, :, : n + t], cache["v"][:, :, : n + t]

    def forward(self, x, source, mask=None, causal=False, cache=None, want_weights=False):
        """``mask``: (B, S) True where the source may be attended to.
        ``cache``: a dict that holds keys/values across calls (incremental decoding)."""
        q = self.split(self.q(x))
        if cache is not None and self.cross and "k" in cache:
            k, v = cache["k"], cache["v"]
        else:
            k, v = (self.split(t) for t in self.kv(source).chunk(2, dim=-1))
            if cache is not None and not self.cross and "k" in cache:
                k, v = self._append(cache, k, v)
            elif cache is not None:
                cache["k"], cache["v"], cache["n"] = k, v, k.shape[2]
        bias = None if mask is None else padding_bias(mask, q.dtype)
        if causal and x.shape[1] > 1:
            t, s = x.shape[1], k.shape[2]
            tri = torch.ones(t, s, dtype=torch.bool, device=x.device).tril(diagonal=s - t)
            cbias = torch.zeros(t, s, dtype=q.dtype, device=q.device).masked_fill(~tri, float("-inf"))
            bias = cbias if bias is None else bias + cbias
        weights = None
        # One new step while decoding: plain matmuls beat the fused kernel, which copies
        # the self-attention keys (a slice of a larger buffer) whole and is slower on a
        # single query even against the few text slots.
        one_step = cache is not None and x.shape[1] == 1
        if want_weights or one_step:
            att = q @ k.transpose(-1, -2) / math.sqrt(q.shape[-1])
            if bias is not None:
                att = att + bias
            w = att.softmax(-1)
            y = w @ v
            weights = w if want_weights else None
        else:
            y = F.scaled_dot_product_attention(
                q, k, v, attn_mask=bias, dropout_p=self.drop if self.training else 0.0
            )
        y = y.transpose(1, 2).reshape(x.shape[0], x.shape[1], self.d)
        return self.out(y), weights


class Block(nn.Module):
    """Pre-norm transformer block: self-attention, optional cross-attention, MLP."""

    def __init__(self, cfg: ModelConfig, cross: bool):
        super().__init__()
        self.ln1 = nn.LayerNorm(cfg.d_model)
        self.self_att = Attention(cfg, cross=False)
        self.cross_att = Attention(cfg, cross=True) if cross else None
        self.ln2 = nn.LayerNorm(cfg.d_model) if cross else None
        self.ln3 = nn.LayerNorm(cfg.d_model)
        self.mlp = nn.Sequential(
            nn.Linear(cfg.d_model, cfg.d_ff), nn.GELU(), nn.Linear(cfg.d_ff, cfg.d_model)
        )
        self.drop = nn.Dropout(cfg.dropout)

    def forward(self, x, self_mask=None, causal=False, memory=None, memory_mask=None,
                cache=None, want_weights=False):
        h = self.ln1(x)
        a, _ = self.self_att(h, h, self_mask, causal, None if cache is None else cache["self"])
        x = x + self.drop(a)
        weights = None
        if self.cross_att is not None:
            a, weights = self.cross_att(self.ln2(x), memory, memory_mask, False,
                                        None if cache is None else cache["cross"], want_weights)
            x = x + self.drop(a)
        x = x + self.drop(self.mlp(self.ln3(x)))
        return x, weights


class HandwritingModel(nn.Module):
    def __init__(self, cfg: ModelConfig):
        super().__init__()
        self.cfg = cfg
        d = cfg.d_model
        # encoder
        self.char_emb = nn.Embedding(cfg.n_text, d)
        self.null = nn.Parameter(torch.zeros(1, 1, d))
        self.x_features = Fourier(cfg)  # shared: queries and keys speak the same x-language
        self.encoder = nn.ModuleList(Block(cfg, cross=False) for _ in range(cfg.n_enc))
        self.enc_ln = nn.LayerNorm(d)
        # decoder inputs
        if cfg.head == "bins":
            self.dx_emb = nn.Embedding(cfg.n_bins, d)
            self.dy_emb = nn.Embedding(cfg.n_bins, d)
        else:
            self.delta_proj = nn.Linear(2, d)
        self.pen_emb = nn.Embedding(2, d)
        self.window_emb = nn.Embedding(cfg.n_text, d) if cfg.window_sigma > 0 else None
        self.bos = nn.Parameter(torch.zeros(1, 1, d))
        self.dec_y = Fourier(cfg)
        self.register_buffer("steps_pe", step_encoding(cfg.max_steps, d), persistent=False)
        self.decoder = nn.ModuleList(Block(cfg, cross=True) for _ in range(cfg.n_dec))
        self.dec_ln = nn.LayerNorm(d)
        # heads
        self.pen_head = nn.Linear(d, 1)
        self.end_head = nn.Linear(d, 1)
        if cfg.head == "bins":
            self.head_pen_emb = nn.Embedding(2, d)
            self.head_dx_emb = nn.Embedding(cfg.n_bins, d)
            self.dx_head = nn.Sequential(nn.Linear(d, d), nn.GELU(), nn.Linear(d, cfg.n_bins))
            self.dy_head = nn.Sequential(nn.Linear(d, d), nn.GELU(), nn.Linear(d, cfg.n_bins))
        else:
            self.head_pen_emb = nn.Embedding(2, d)
            self.mdn_head = nn.Sequential(nn.Linear(d, d), nn.GELU(), nn.Linear(d, 6 * cfg.n_mixtures))
        self.apply(self._init)
        if self.window_emb is not None:
            nn.init.zeros_(self.window_emb.weight)  # a warm start begins as the model it came from

    @staticmethod
    def _init(m: nn.Module) -> None:
        if isinstance(m, nn.Linear):
            nn.init.normal_(m.weight, std=0.02)
            nn.init.zeros_(m.bias)
        elif isinstance(m, nn.Embedding):
            nn.init.normal_(m.weight, std=0.02)

    def num_params(self) -> int:
        return sum(p.numel() for p in self.parameters())

    # ------------------------------------------------------------- encoder
    def encode(self, chars: torch.Tensor, char_x: torch.Tensor, char_mask: torch.Tensor):
        """chars, char_x: (B, L); char_mask: (B, L) True for real characters.
        Returns memory (B, 1 + L, d) and its mask; slot 0 is the null slot."""
        b = chars.shape[0]
        x = self.char_emb(chars) + self.x_features(char_x)
        x = torch.cat([self.null.expand(b, 1, -1), x], dim=1)
        mask = torch.cat([torch.ones(b, 1, dtype=torch.bool, device=chars.device), char_mask], dim=1)
        for block in self.encoder:
            x, _ = block(x, self_mask=mask)
        return self.enc_ln(x), mask

    # ------------------------------------------------------------- decoder
    def window(self, pen_x: torch.Tensor, text: tuple) -> torch.Tensor:
        """Soft window over the characters expected at the pen's x: (B, T, d)."""
        chars, char_x, char_mask = text
        dist = pen_x.unsqueeze(-1) - char_x.unsqueeze(1)  # (B, T, L)
        logits = (-0.5 * (dist / self.cfg.window_sigma) ** 2).masked_fill(~char_mask.unsqueeze(1), float("-inf"))
        w = torch.softmax(logits, dim=-1).nan_to_num(0.0)  # no text: no window
        return w @ self.window_emb(chars)

    def embed_steps(self, prev: torch.Tensor, pos: torch.Tensor, start: int = 0, text: tuple | None = None) -> torch.Tensor:
        """prev: (B, T, 3) previous steps (bins: ids; mdn: dx, dy, pen floats), the
        first row of a sequence being ignored in favour of BOS when ``start == 0``.
        pos: (B, T, 2) absolute pen position before the step to be predicted.
        text: (chars, char_x, char_mask) for the character window."""
        if self.cfg.head == "bins":
            e = self.dx_emb(prev[..., 0].long()) + self.dy_emb(prev[..., 1].long())
        else:
            e = self.delta_proj(prev[..., :2].float())
        e = e + self.pen_emb(prev[..., 2].long())
        if start == 0:
            e = torch.cat([self.bos.expand(e.shape[0], 1, -1), e[:, 1:]], dim=1)
        t = prev.shape[1]
        e = e + self.x_features(pos[..., 0]) + self.dec_y(pos[..., 1]) + self.steps_pe[start : start + t]
        if self.window_emb is not None and text is not None:
            e = e + self.window(pos[..., 0], text)
        return e

    def decode(self, h, memory, memory_mask, step_mask=None, cache=None, want_weights=False):
        weights = []
        for i, block in enumerate(self.decoder):
            h, w = block(h, self_mask=step_mask, causal=True, memory=memory, memory_mask=memory_mask,
                         cache=None if cache is None else cache[i], want_weights=want_weights)
            weights.append(w)
        return self.dec_ln(h), weights

    def new_cache(self) -> list[dict]:
        return [{"self": {}, "cross": {}} for _ in self.decoder]

    # --------------------------------------------------------------- heads
    def head_logits(self, h: torch.Tensor, pen: torch.Tensor, dx: torch.Tensor | None = None):
        """Chained heads. ``pen`` (and ``dx`` for Δy) are the true values when
        training, the sampled ones when generating."""
        out = {"pen": self.pen_head(h).squeeze(-1), "end": self.end_head(h).squeeze(-1)}
        if self.cfg.head == "bins":
            out["dx"] = self.dx_logits(h, pen)
            if dx is not None:
                out["dy"] = self.dy_logits(h, pen, dx)
        else:
            out["mdn"] = self.mdn_head(h + self.head_pen_emb(pen.long()))
        return out

    def dx_logits(self, h: torch.Tensor, pen: torch.Tensor) -> torch.Tensor:
        return self.dx_head(h + self.head_pen_emb(pen.long()))

    def dy_logits(self, h: torch.Tensor, pen: torch.Tensor, dx: torch.Tensor) -> torch.Tensor:
        return self.dy_head(h + self.head_pen_emb(pen.long()) + self.head_dx_emb(dx.long()))

    def forward(self, batch: dict, want_weights: bool = False):
        """Teacher-forced pass. ``batch`` holds chars, char_x, char_mask (B, L);
        steps (B, T, 3) with targets, pos (B, T, 2), step_mask (B, T + 1):
        position t predicts step t, and position T predicts the end."""
        memory, mmask = self.encode(batch["chars"], batch["char_x"], batch["char_mask"])
        prev = batch["inputs"]
        h = self.embed_steps(prev, batch["pos"], text=(batch["chars"], batch["char_x"], batch["char_mask"]))
        h, weights = self.decode(h, memory, mmask, want_weights=want_weights)
        tgt = batch["targets"]
        out = self.head_logits(h, tgt[..., 2], tgt[..., 0] if self.cfg.head == "bins" else None)
        out["attention"] = weights
        return out


class StepDecoder:
    """Sampling's inner loop: one new step per row through the step embedding and
    the decoder, against a batch's text and the steps the cache holds.

    It is :meth:`HandwritingModel.embed_steps` and :meth:`HandwritingModel.decode`
    for a single step, equal up to float rounding, with the weights laid out once
    so that a step takes about half as many operations. With one step of a
    hundred short sequences, each operation's fixed cost (microseconds of
    dispatch) outweighs its arithmetic, so the count is what sets the speed:

    * a self-attention's q, k and v come from one matmul, head-major so that
      each is a view, with 1/sqrt(head size) folded into q; keys and values go
      into one buffer sized for the whole run, one slice write a step, keys in
      one half and values in the other, so that each head's keys are contiguous
      rows for the two attention matmuls (read that way, the attention over a
      hundred cached steps took a fifth less time than with a step's k and v
      side by side);
    * a cross-attention's values are multiplied by its output projection once
      per batch (its bias too: each head's weights sum to one), so attention,
      projection and residual are one batched matmul a step, and the padding
      mask is added by the score matmul;
    * the step's three token embeddings are one lookup in a table of their
      sums, the x and y Fourier features one matmul, and the character window
      one more batched matmul onto the embedding.
    """

    def __init__(self, model: HandwritingModel, memory_mask: torch.Tensor, text: tuple,
                 cache: list[dict], capacity: int):
        """``cache``: what :meth:`HandwritingModel.decode` left after the prefix
        (BOS and any priming steps); ``capacity``: how many more steps may come."""
        m, cfg = model, model.cfg
        d, nh = cfg.d_model, cfg.n_head
        hd = d // nh
        b, s = memory_mask.shape
        self.model, self.d, self.nh, self.hd = m, d, nh, hd
        scale = 1 / math.sqrt(hd)
        bias = padding_bias(memory_mask).expand(b, nh, 1, s).reshape(b * nh, 1, s)
        self.layers = []
        for block, c in zip(m.decoder, cache):
            sa, ca = block.self_att, block.cross_att
            (wk, wv), (bk, bv) = sa.kv.weight.chunk(2), sa.kv.bias.chunk(2)
            qkv_w = torch.stack([sa.q.weight * scale, wk, wv]).view(3, nh, hd, d).transpose(0, 1).reshape(3 * d, d)
            qkv_b = torch.stack([sa.q.bias * scale, bk, bv]).view(3, nh, hd).transpose(0, 1).reshape(3 * d)
            own, cross = c["self"], c["cross"]
            n = own["n"]
            kv = own["k"].new_empty(b, nh, 2, n + capacity, hd)
            kv[:, :, 0, :n], kv[:, :, 1, :n] = own["k"][:, :, :n], own["v"][:, :, :n]
            # cross values times the output projection, per head: (B, H·S, d)
            wo = ca.out.weight.view(d, nh, hd).permute(1, 2, 0)  # (H, hd, d)
            vo = torch.bmm(cross["v"].transpose(0, 1).reshape(nh, b * s, hd), wo) + ca.out.bias / nh
            vo = vo.view(nh, b, s, d).transpose(0, 1).reshape(b, nh * s, d)
            self.layers.append({
                "ln1": block.ln1, "ln2": block.ln2, "ln3": block.ln3,
                "qkv_w": qkv_w.t().contiguous(), "qkv_b": qkv_b, "kv": kv,
                "out_w": sa.out.weight.t().contiguous(), "out_b": sa.out.bias,
                "cq_w": (ca.q.weight * scale).t().contiguous(), "cq_b": ca.q.bias * scale,
                "ckt": cross["k"].transpose(-1, -2).reshape(b * nh, hd, s), "cvo": vo, "cbias": bias,
                "fc_w": block.mlp[0].weight.t().contiguous(), "fc_b": block.mlp[0].bias,
                "proj_w": block.mlp[2].weight.t().contiguous(), "proj_b": block.mlp[2].bias,
            })
        self.n = cache[0]["self"]["n"]
        # the step embedding
        if cfg.head == "bins":
            self.table = (m.dx_emb.weight[:, None, None] + m.dy_emb.weight[None, :, None]
                          + m.pen_emb.weight[None, None]).reshape(-1, d)
            self.token_strides = torch.tensor([2 * cfg.n_bins, 2, 1], device=memory_mask.device)
        self.freq = m.x_features.freq  # the two Fourier modules share their periods
        self.fourier_w = torch.cat([m.x_features.proj.weight, m.dec_y.proj.weight], 1).t().contiguous()
        self.step_bias = m.steps_pe + m.x_features.proj.bias + m.dec_y.proj.bias
        self.window = m.window_emb is not None
        if self.window:
            chars, char_x, char_mask = text
            self.char_x = char_x
            self.blocked = padding_bias(char_mask)[:, 0, 0]
            self.values = m.window_emb(chars)
            self.coef = -0.5 / cfg.window_sigma**2
            self.textless = not char_mask.any(1).all()  # rows without text (guidance): no window, not NaN

    def keep_rows(self, rows: torch.Tensor) -> None:
        """Keep only ``rows`` (ascending) of the batch: finished sequences leave.
        The two largest, the key and value buffers (their filled steps) and the
        cross-attention values, are compacted in place into their front rows:
        fresh buffers cost half as much again, in page faults, as the copy."""
        k = len(rows)
        for layer in self.layers:
            kv, cvo = layer["kv"], layer["cvo"]
            kv[:k, :, :, : self.n] = kv[rows, :, :, : self.n]
            cvo[:k] = cvo[rows]
            layer["kv"], layer["cvo"] = kv[:k], cvo[:k]
            for name in ("ckt", "cbias"):
                t = layer[name]
                layer[name] = t.view(-1, self.nh, *t.shape[1:])[rows].flatten(0, 1)
        if self.window:
            self.char_x, self.blocked, self.values = self.char_x[rows], self.blocked[rows], self.values[rows]

    def embed(self, prev: torch.Tensor, pos: torch.Tensor, t: int) -> torch.Tensor:
        """Step ``t`` > 0 of each row: ``prev`` (B, 3) the step before it (bins:
        ids; mdn: dx, dy, pen), ``pos`` (B, 2) the pen's position after it."""
        m = self.model
        if m.cfg.head == "bins":
            e = F.embedding((prev.long() * self.token_strides).sum(-1), self.table)
        else:
            e = F.linear(prev[:, :2].float(), m.delta_proj.weight, m.delta_proj.bias)
            e = e + F.embedding(prev[:, 2].long(), m.pen_emb.weight)
        a = pos.unsqueeze(-1) * self.freq  # (B, 2, F)
        features = torch.cat([a.sin(), a.cos()], -1).view(len(pos), -1)
        e = torch.addmm(e + self.step_bias[t], features, self.fourier_w)
        if self.window:
            dist = pos[:, :1] - self.char_x
            w = torch.addcmul(self.blocked, dist, dist, value=self.coef).softmax(-1)
            if self.textless:
                w = w.nan_to_num(0.0)
            e = torch.baddbmm(e.unsqueeze(1), w.unsqueeze(1), self.values).squeeze(1)
        return e

    def __call__(self, x: torch.Tensor) -> torch.Tensor:
        """The decoder's output (B, d) for one embedded step per row, ``x`` (B, d)."""
        b, d, nh, hd, n = x.shape[0], self.d, self.nh, self.hd, self.n
        for layer in self.layers:
            qkv = torch.addmm(layer["qkv_b"], F.layer_norm(x, (d,), layer["ln1"].weight, layer["ln1"].bias,
                                                            layer["ln1"].eps), layer["qkv_w"]).view(b, nh, 3, hd)
            kv = layer["kv"]
            kv[:, :, :, n] = qkv[:, :, 1:]
            q = qkv[:, :, 0].view(b * nh, 1, hd)
            k = kv[:, :, 0, : n + 1].reshape(b * nh, n + 1, hd)  # views: no copy
            v = kv[:, :, 1, : n + 1].reshape(b * nh, n + 1, hd)
            y = torch.bmm(torch.bmm(q, k.transpose(1, 2)).softmax(-1), v).view(b, d)
            x = torch.addmm(x + layer["out_b"], y, layer["out_w"])
            ln = layer["ln2"]
            q = torch.addmm(layer["cq_b"], F.layer_norm(x, (d,), ln.weight, ln.bias, ln.eps), layer["cq_w"])
            att = torch.baddbmm(layer["cbias"], q.view(b * nh, 1, hd), layer["ckt"]).softmax(-1)
            x = torch.baddbmm(x.unsqueeze(1), att.view(b, 1, -1), layer["cvo"]).squeeze(1)
            ln = layer["ln3"]
            h = F.gelu(torch.addmm(layer["fc_b"], F.layer_norm(x, (d,), ln.weight, ln.bias, ln.eps), layer["fc_w"]))
            x = torch.addmm(x + layer["proj_b"], h, layer["proj_w"])
        self.n = n + 1
        ln = self.model.dec_ln
        return F.layer_norm(x, (d,), ln.weight, ln.bias, ln.eps)


class StepHeads:
    """The chained bins heads laid out for drawing: one matmul from the decoder's
    output to the pen and end logits and both heads' hidden layers, whose
    embedding inputs (the drawn pen, and Δx) become lookups of their products
    with the first layer. The same numbers as :meth:`HandwritingModel.dx_logits`
    and :meth:`HandwritingModel.dy_logits` up to float rounding."""

    def __init__(self, model: HandwritingModel):
        m, d = model, model.cfg.d_model
        dx1, dy1 = m.dx_head[0], m.dy_head[0]
        w = torch.cat([m.pen_head.weight, m.end_head.weight, dx1.weight, dy1.weight])
        self.w, self.b = w.t().contiguous(), torch.cat([m.pen_head.bias, m.end_head.bias, dx1.bias, dy1.bias])
        self.d, self.n_bins = d, m.cfg.n_bins
        self.pen_dx = m.head_pen_emb.weight @ dx1.weight.t()  # (2, d)
        self.pen_and_dx_dy = ((m.head_pen_emb.weight[:, None] + m.head_dx_emb.weight[None]) @ dy1.weight.t()).view(-1, d)
        self.dx2, self.dy2 = m.dx_head[2], m.dy_head[2]
        self.z = None

    def pen_end(self, h: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Pen and end logits (B,) of decoder output ``h`` (B, d); keeps the hidden
        layers' share for :meth:`dx` and :meth:`dy` of the same rows."""
        self.z = torch.addmm(self.b, h, self.w)
        return self.z[:, 0], self.z[:, 1]

    def dx(self, pen: torch.Tensor) -> torch.Tensor:
        hidden = F.gelu(self.z[:, 2 : 2 + self.d] + F.embedding(pen, self.pen_dx))
        return F.linear(hidden, self.dx2.weight, self.dx2.bias)

    def dy(self, pen: torch.Tensor, dx: torch.Tensor) -> torch.Tensor:
        hidden = F.gelu(self.z[:, 2 + self.d :] + F.embedding(pen * self.n_bins + dx, self.pen_and_dx_dy))
        return F.linear(hidden, self.dy2.weight, self.dy2.bias)


def mdn_params(raw: torch.Tensor, n: int, bias: float = 0.0):
    """Split the MDN output into (log pi, mu (..,K,2), log sigma (..,K,2), rho)."""
    logit_pi, mu, log_sigma, rho = raw.split([n, 2 * n, 2 * n, n], dim=-1)
    mu = mu.unflatten(-1, (n, 2))
    log_sigma = log_sigma.unflatten(-1, (n, 2)).clamp(-7, 3) - bias
    return F.log_softmax(logit_pi * (1 + bias), -1), mu, log_sigma, torch.tanh(rho) * 0.99


def mdn_nll(raw: torch.Tensor, target: torch.Tensor, n: int) -> torch.Tensor:
    """Negative log-likelihood of (dx, dy) under the bivariate Gaussian mixture."""
    log_pi, mu, log_sigma, rho = mdn_params(raw, n)
    z = (target.unsqueeze(-2) - mu) / log_sigma.exp()
    zx, zy = z[..., 0], z[..., 1]
    one_m = 1 - rho**2
    log_n = (-(zx**2 + zy**2 - 2 * rho * zx * zy) / (2 * one_m)
             - log_sigma.sum(-1) - 0.5 * torch.log(one_m) - math.log(2 * math.pi))
    return -torch.logsumexp(log_pi + log_n, dim=-1)
