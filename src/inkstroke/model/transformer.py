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
``t`` costs one step of compute, not ``t``.
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
                cache.clear()  # and with it any transposed copy decode_step made
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

    def step_context(self, text: tuple) -> dict:
        """What :meth:`embed_step` needs of a batch's text, computed once for all
        steps rather than at each: the characters' x, which slots are padding,
        and the window's character embeddings."""
        chars, char_x, char_mask = text
        values = self.window_emb(chars) if self.window_emb is not None else None
        return {"char_x": char_x, "blocked": ~char_mask, "values": values}

    def embed_step(self, prev: torch.Tensor, pos: torch.Tensor, t: int, context: dict) -> torch.Tensor:
        """:meth:`embed_steps` of one step per row, ``prev`` (B, 3) and ``pos`` (B, 2),
        as step ``t`` > 0 of a sequence, against :meth:`step_context`: (B, d), the
        same numbers bit for bit."""
        if self.cfg.head == "bins":
            e = F.embedding(prev[:, 0].long(), self.dx_emb.weight) + F.embedding(prev[:, 1].long(), self.dy_emb.weight)
        else:
            e = self.delta_proj(prev[:, :2].float())
        e = e + F.embedding(prev[:, 2].long(), self.pen_emb.weight)
        e = e + self.x_features(pos[:, 0]) + self.dec_y(pos[:, 1]) + self.steps_pe[t]
        if context["values"] is not None:
            dist = pos[:, :1] - context["char_x"]  # (B, L)
            logits = (-0.5 * (dist / self.cfg.window_sigma) ** 2).masked_fill(context["blocked"], float("-inf"))
            w = torch.softmax(logits, dim=-1).nan_to_num(0.0)
            e = e + torch.bmm(w[:, None], context["values"])[:, 0]
        return e

    def decode(self, h, memory, memory_mask, step_mask=None, cache=None, want_weights=False):
        weights = []
        for i, block in enumerate(self.decoder):
            h, w = block(h, self_mask=step_mask, causal=True, memory=memory, memory_mask=memory_mask,
                         cache=None if cache is None else cache[i], want_weights=want_weights)
            weights.append(w)
        return self.dec_ln(h), weights

    def decode_step(self, x: torch.Tensor, memory_mask: torch.Tensor, cache: list[dict]) -> torch.Tensor:
        """:meth:`decode` of one new step per row, ``x`` (B, d), against a cache that
        :meth:`decode` has filled; for sampling (no dropout). The blocks' arithmetic,
        written out flat, the same numbers bit for bit: with a single step their
        module calls and reshapes cost about a twelfth of the decoding time."""
        b, d, nh = x.shape[0], self.cfg.d_model, self.cfg.n_head
        hd = d // nh
        scale = math.sqrt(hd)
        bias = padding_bias(memory_mask, x.dtype)

        def norm(ln: nn.LayerNorm, t: torch.Tensor) -> torch.Tensor:
            return F.layer_norm(t, (d,), ln.weight, ln.bias, ln.eps)

        def attend(att: Attention, q: torch.Tensor, kt: torch.Tensor, v: torch.Tensor, mask=None) -> torch.Tensor:
            """q (B, d) against keys kt (B, H, hd, S) and values v (B, H, S, hd)."""
            s = v.shape[2]
            a = torch.bmm(q.view(b * nh, 1, hd), kt.reshape(b * nh, hd, s)) / scale
            if mask is not None:
                a = (a.view(b, nh, 1, s) + mask).view(b * nh, 1, s)
            y = torch.bmm(a.softmax(-1), v.reshape(b * nh, s, hd))
            return F.linear(y.view(b, d), att.out.weight, att.out.bias)

        for block, c in zip(self.decoder, cache):
            sa, ca, mlp, cross = block.self_att, block.cross_att, block.mlp, c["cross"]
            if "kt" not in cross:  # the text's keys and values laid out once for all steps, not at each
                cross["kt"], cross["v"] = cross.pop("k").transpose(-1, -2).contiguous(), cross["v"].contiguous()
            h = norm(block.ln1, x)
            k, v = F.linear(h, sa.kv.weight, sa.kv.bias).view(b, 2, nh, 1, -1).unbind(1)
            k, v = Attention._append(c["self"], k, v)
            x = x + attend(sa, F.linear(h, sa.q.weight, sa.q.bias), k.transpose(-1, -2), v)
            q = F.linear(norm(block.ln2, x), ca.q.weight, ca.q.bias)
            x = x + attend(ca, q, cross["kt"], cross["v"], bias)
            h = F.gelu(F.linear(norm(block.ln3, x), mlp[0].weight, mlp[0].bias))
            x = x + F.linear(h, mlp[2].weight, mlp[2].bias)
        return norm(self.dec_ln, x)

    def new_cache(self) -> list[dict]:
        return [{"self": {}, "cross": {}} for _ in self.decoder]

    @staticmethod
    def keep_cache_rows(cache: list[dict], rows: torch.Tensor) -> None:
        """Keep only ``rows`` of every layer's cache, in place. Of the self-attention
        buffers only the filled steps are copied, into buffers of the same capacity."""
        for layer in cache:
            own, cross = layer["self"], layer["cross"]
            for name in ("k", "v"):
                old, n = own[name], own["n"]
                own[name] = old.new_empty(len(rows), *old.shape[1:])
                own[name][:, :, :n] = old[rows, :, :n]
            for name, val in cross.items():
                if torch.is_tensor(val):
                    cross[name] = val[rows]

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
