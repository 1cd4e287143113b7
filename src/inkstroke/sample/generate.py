"""Sampling from a handwriting model: batched, KV-cached, streamable.

Each step samples the pen bit, then Δx given the pen, then Δy given both
(or a Gaussian-mixture Δ for the MDN baseline). ``temperature`` and
``top_k``/``top_p`` shape every categorical draw; ``bias`` (as in Graves
2013) sharpens them further, trading variety for neatness.

A sequence stops at the first of: the end head firing, the cross-attention
having moved past the last character while the pen is lifted, or a length
cap derived from the text length.

Every random number comes from a counter-based stream of its own row
(:class:`RowNoise`): a sequence's draws depend on its text, its seed and the
model, never on which other texts share its batch. So a batch can be cut up
or split across processes (as ``write`` does) without changing what any
sequence writes.
"""

from __future__ import annotations

import math
import os
from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np
import torch

from inkstroke.errors import InkstrokeError
from inkstroke.ink import Ink
from inkstroke.model.transformer import HandwritingModel, StepDecoder, StepHeads, mdn_params
from inkstroke.tokenize.strokes import StrokeTokenizer
from inkstroke.tokenize.text import TextTokenizer, normalise_text
from inkstroke.train.data import char_positions
from inkstroke.write.layout import PageLayout

WORD_SPACE = PageLayout.word_spacing  # body heights between streamed words: write's default
MAX_TEXT = 400  # characters per generated sequence; longer text is laid out in pieces
COMPACT_AT = 0.25  # drop finished sequences' decoder rows once this share of the rows is finished


@dataclass
class SampleOptions:
    temperature: float = 1.0
    top_k: int | None = None
    top_p: float | None = None
    bias: float = 0.0
    seed: int | None = 0  # None: a fresh random seed
    row_seeds: tuple[int, ...] | None = None  # one seed per text instead, each row's own stream
    max_steps: int | None = None
    steps_per_char: int = 40  # each text's length cap: this many steps per character, plus 30,
    min_steps: int = 60  # but at least this many
    width_scale: float = 1.0  # stretch of the expected character positions
    x_offset: float = 0.0  # where the first character starts, relative to the first point
    use_cache: bool = True
    run_to_cap: bool = False  # ignore the stop rules (for benchmarks)
    guidance: float = 0.0  # classifier-free guidance: >0 strengthens the text's pull on every choice

    def __post_init__(self) -> None:
        """Refuse settings that would sample garbage or NaN without saying so
        (a negative temperature used to be clamped to near-greedy quietly)."""
        for name in ("temperature", "bias", "guidance"):
            value = getattr(self, name)
            if not (isinstance(value, (int, float)) and math.isfinite(value) and value >= 0):
                raise InkstrokeError(f"{name} must be a number of at least 0, got {value!r}")
        if self.top_k is not None and self.top_k < 1:
            raise InkstrokeError(f"top_k must be at least 1, got {self.top_k}")
        if self.top_p is not None and not 0 < self.top_p <= 1:
            raise InkstrokeError(f"top_p must be in (0, 1], got {self.top_p}")
        if self.steps_per_char < 1:
            raise InkstrokeError(f"steps_per_char must be at least 1, got {self.steps_per_char}")
        if self.min_steps < 1:
            raise InkstrokeError(f"min_steps must be at least 1, got {self.min_steps}")

    def draw_temperature(self) -> float:
        """The temperature every categorical draw uses: ``temperature``, lowered by ``bias``."""
        return max(self.temperature, 1e-4) / (1.0 + self.bias)

    def row_keys(self, n: int) -> list[int]:
        """The noise key of each of ``n`` rows: row ``r`` of ``seed``, or its own
        ``row_seeds[r]``."""
        if self.row_seeds is not None:
            if len(self.row_seeds) != n:
                raise InkstrokeError(f"row_seeds has {len(self.row_seeds)} seeds for {n} texts")
            return [splitmix64(int(s)) for s in self.row_seeds]
        seed = self.seed if self.seed is not None else int.from_bytes(os.urandom(8), "little")
        return [splitmix64(splitmix64(seed) + r) for r in range(n)]


_MASK = (1 << 64) - 1
_GOLDEN = 0x9E3779B97F4A7C15
_M1, _M2 = 0xBF58476D1CE4E5B9, 0x94D049BB133111EB
NOISE_STRIDE = 256  # counters a row may use per step
NOISE_BLOCK = 16  # steps whose noise a sampler draws at once


def splitmix64(x: int) -> int:
    """SplitMix64's output for state ``x``: the next state's hash, 64 bits.
    :class:`RowNoise` computes the same on tensors."""
    z = (x + _GOLDEN) & _MASK
    z = ((z ^ (z >> 30)) * _M1) & _MASK
    z = ((z ^ (z >> 27)) * _M2) & _MASK
    return z ^ (z >> 31)


def _signed(c: int) -> int:
    return c - (1 << 64) if c >= 1 << 63 else c


class RowNoise:
    """Uniform numbers in (0, 1), each a function of its row's key, the step and
    its index within the step: SplitMix64 run from the row's key, read at
    position ``step * NOISE_STRIDE + index``. With one ``torch.Generator`` per
    batch, a row's draws depended on how many rows came before it; with this,
    they depend on nothing but its own key. 23 bits each, so that the number
    and the half added to keep it off 0 and 1 are exact in a float32; on int64
    tensors, whose multiplication wraps as unsigned does."""

    def __init__(self, keys: list[int], device: str | torch.device = "cpu"):
        self.keys = torch.tensor([_signed(k & _MASK) for k in keys], dtype=torch.int64, device=device)

    @staticmethod
    def _shr(x: torch.Tensor, s: int) -> torch.Tensor:  # logical shift: int64's >> is arithmetic
        return (x >> s) & ((1 << (64 - s)) - 1)

    def block(self, rows: torch.Tensor, step: int, steps: int, count: int) -> torch.Tensor:
        """(len(rows), steps, count) float32 uniforms of ``rows`` (indices into the
        keys) at steps ``step`` … ``step + steps - 1``: a sampler asks for a block
        of steps at once, so that the dozen operations of the hash are paid once
        a block rather than once a step."""
        if count > NOISE_STRIDE:
            raise ValueError(f"at most {NOISE_STRIDE} numbers a step, asked for {count}")
        dev = self.keys.device
        pos = torch.arange(1, count + 1, device=dev) + torch.arange(step, step + steps, device=dev)[:, None] * NOISE_STRIDE
        z = self.keys[rows, None, None] + pos * _signed(_GOLDEN)
        z = (z ^ self._shr(z, 30)) * _signed(_M1)
        z = (z ^ self._shr(z, 27)) * _signed(_M2)
        z = z ^ self._shr(z, 31)
        return (self._shr(z, 41).float() + 0.5) * 2.0**-23

    def uniform(self, rows: torch.Tensor, step: int, count: int) -> torch.Tensor:
        """(len(rows), count) float32 uniforms of ``rows`` at ``step``."""
        return self.block(rows, step, 1, count)[:, 0]


def row_caps(texts: list[str], opts: SampleOptions) -> np.ndarray:
    """Each text's length cap in steps: ``max_steps`` if given, else
    ``steps_per_char`` per character plus 30, at least ``min_steps``."""
    if opts.max_steps:
        return np.full(len(texts), opts.max_steps)
    return np.array([max(opts.steps_per_char * len(t) + 30, opts.min_steps) for t in texts])


def _filter(logits: torch.Tensor, top_k: int | None, top_p: float | None) -> torch.Tensor:
    if top_k:
        kth = logits.topk(min(top_k, logits.shape[-1]), dim=-1).values[..., -1:]
        logits = logits.masked_fill(logits < kth, float("-inf"))
    if top_p is not None and top_p < 1.0:
        sorted_l, order = logits.sort(dim=-1, descending=True)
        cum = sorted_l.softmax(-1).cumsum(-1)
        drop = cum - sorted_l.softmax(-1) > top_p
        sorted_l = sorted_l.masked_fill(drop, float("-inf"))
        logits = torch.full_like(logits, float("-inf")).scatter(-1, order, sorted_l)
    return logits


def _categorical(probs: torch.Tensor, uniform: torch.Tensor) -> torch.Tensor:
    """One index per row drawn from ``probs`` (B, K) with ``uniform`` (B, K) numbers
    in (0, 1): ``torch.multinomial``'s own method, the argmax of p / Exp(1) noise,
    without its validity checks, which cost as much as the draw and cannot fail
    on a softmax."""
    return (probs / -uniform.log()).argmax(-1)


def bins_noise(uniform: torch.Tensor, t: float) -> torch.Tensor:
    """A bins step's uniforms (..., 1 + 2·bins) made ready for :func:`_pick`, at
    temperature ``t``: the pen's as ``t·logit(u)``, the two categorical draws'
    as ``t`` times Gumbel noise, ``-log(-log u)``. Then drawing needs neither a
    softmax nor a division by ``t``: ``u < sigmoid(l / t)`` exactly when
    ``l > t·logit(u)``, and :func:`_categorical`'s argmax of softmax(l / t) / E
    is the argmax of ``l + t·g`` (the softmax's normaliser is common to every
    bin). Done for a block of steps at once, it takes the noise's own work out
    of the per-step loop."""
    u0, rest = uniform[..., :1], uniform[..., 1:]
    return t * torch.cat([u0.log() - (-u0).log1p(), -(-rest.log()).log()], -1)


def _pick(logits: torch.Tensor, noise: torch.Tensor, opts: SampleOptions, t: float) -> torch.Tensor:
    """One index per row from ``logits`` (B, K) at temperature ``t``, with
    :func:`bins_noise`'s scaled Gumbel ``noise`` (B, K), after any top-k/top-p cut."""
    if opts.top_k or (opts.top_p is not None and opts.top_p < 1.0):
        logits = _filter(logits / t, opts.top_k, opts.top_p) * t
    return (logits + noise).argmax(-1)


class Generator:
    def __init__(self, model: HandwritingModel, stroke_tok: StrokeTokenizer, text_tok: TextTokenizer,
                 device: str = "cpu", sampling: dict | None = None):
        self.model, self.stroke_tok, self.text_tok, self.device = model, stroke_tok, text_tok, device
        # sampling settings the checkpoint stands for (a distilled model: its built-in guidance)
        self.sampling = dict(sampling or {})
        self.centers = torch.tensor(np.stack([stroke_tok.x.centers, stroke_tok.y.centers], 1),
                                    dtype=torch.float32, device=device)
        # the Δ of every (dx bin, dy bin) pair, looked up in one step
        cx, cy = self.centers[:, 0], self.centers[:, 1]
        self.deltas = torch.stack(torch.broadcast_tensors(cx[:, None], cy[None]), -1).reshape(-1, 2)

    @classmethod
    def from_checkpoint(cls, path, device: str = "cpu") -> Generator:
        from inkstroke.model.checkpoint import load_checkpoint

        model, stok, ttok, meta = load_checkpoint(path, device)
        return cls(model, stok, ttok, device, meta.get("sampling"))

    # ------------------------------------------------------------ helpers
    def check_text(self, text: str) -> str:
        text = normalise_text(text)
        if not text.strip():
            raise InkstrokeError("the text is empty")
        if len(text) > MAX_TEXT:
            raise InkstrokeError(f"the text is {len(text)} characters long; at most {MAX_TEXT} fit one "
                                 "sequence (use inkstroke.write for layout of long text)")
        bad = self.text_tok.unknown(text)
        if bad:
            raise InkstrokeError("unsupported characters: " + ", ".join(repr(c) for c in bad))
        return text

    def _memory(self, texts: list[str], opts: SampleOptions, prime: tuple[Ink, str] | None):
        """Encoder memory for a batch; with a prime, its text comes first and its
        characters are stretched onto the prime ink's real extent. Also returns
        each text's last character x and its width unit, in the frame the
        decoder moves in, so that the end-of-text test agrees with where the
        encoder told the decoder the text lies."""
        rows, xs, unit = [], [], []
        prime_tokens = None
        for text in texts:
            if prime is None:
                ids = self.text_tok.encode(text)
                xs.append(char_positions(self.text_tok, ids, None, opts.width_scale) + opts.x_offset)
                rows.append(ids)
                unit.append(1.0)
                continue
            ink, ptext = prime
            ptext = self.check_text(ptext)
            prime_tokens = self.stroke_tok.encode(ink)
            decoded = self.stroke_tok.decode(prime_tokens).points()
            x0, x1 = float(decoded[:, 0].min()), float(decoded[:, 0].max())
            pids = self.text_tok.encode(ptext + " ")
            px = char_positions(self.text_tok, pids, (x0, x1 + self.text_tok.char_width(" ")))
            scale = (x1 - x0 + self.text_tok.char_width(" ")) / max(self.text_tok.expected_width(ptext + " "), 1e-3)
            ids = self.text_tok.encode(text)
            tx = char_positions(self.text_tok, ids, None, opts.width_scale * scale) + x1 + self.text_tok.char_width(" ") * scale
            rows.append(np.concatenate([pids, ids]))
            xs.append(np.concatenate([px, tx]))
            unit.append(scale)
        b, n = len(rows), max(len(r) for r in rows)
        chars = torch.zeros(b, n, dtype=torch.long)
        char_x = torch.zeros(b, n)
        mask = torch.zeros(b, n, dtype=torch.bool)
        for k, (r, x) in enumerate(zip(rows, xs)):
            chars[k, : len(r)] = torch.from_numpy(r)
            char_x[k, : len(r)] = torch.from_numpy(x)
            mask[k, : len(r)] = True
        text = (chars.to(self.device), char_x.to(self.device), mask.to(self.device))
        memory, mmask = self.model.encode(*text)
        last = [float(x[-1]) for x in xs]
        ends = (torch.tensor(last, device=self.device), torch.tensor(unit, device=self.device))
        return memory, mmask, text, prime_tokens, ends

    def _sample_step(self, h: torch.Tensor, heads: StepHeads | None, opts: SampleOptions, u: torch.Tensor):
        """One (pen, dx, dy) draw per sequence from its noise ``u``: bins, its
        uniforms (B, 1 + 2·bins) through :func:`bins_noise`; mdn, its uniforms
        (B, 3 + mixtures) as they are. Returns the step (bins: ids; mdn: dx, dy, pen), its Δ,
        the pen bit and whether the end head fires.

        With guidance, ``h`` holds the text-conditioned rows, then the same
        sequences' unconditioned rows, and every categorical choice uses
        ``uncond + (1 + guidance) * (cond - uncond)`` logits."""
        m, g = self.model, opts.guidance
        n = h.shape[0] // 2 if g > 0 else h.shape[0]

        def guide(logits: torch.Tensor) -> torch.Tensor:
            if g <= 0:
                return logits
            cond, uncond = logits[:n], logits[n:]
            return uncond + (1 + g) * (cond - uncond)

        def both(x: torch.Tensor) -> torch.Tensor:
            return torch.cat([x, x]) if g > 0 else x

        t = opts.draw_temperature()
        if heads is not None:
            pen_logit, end_logit = heads.pen_end(h)
        else:
            pen_logit, end_logit = m.pen_head(h).squeeze(-1), m.end_head(h).squeeze(-1)
        if heads is not None:
            nb = heads.n_bins
            pen = (guide(pen_logit) > u[:, 0]).long()
            dx = _pick(guide(heads.dx(both(pen))), u[:, 1 : 1 + nb], opts, t)
            dy = _pick(guide(heads.dy(both(pen), both(dx))), u[:, 1 + nb :], opts, t)
            delta = self.deltas[dx * len(self.centers) + dy]
            step = torch.stack([dx, dy, pen], -1)
        else:  # the mixture itself is not guided: it is a density, not logits
            pen = (u[:, 0] < torch.sigmoid(guide(pen_logit) / t)).long()
            raw = m.head_logits(h[:n], pen)["mdn"]
            log_pi, mu, log_sigma, rho = mdn_params(raw, m.cfg.n_mixtures, opts.bias)
            k = _categorical((log_pi / max(opts.temperature, 1e-4)).softmax(-1), u[:, 3:])
            ar = torch.arange(len(k), device=h.device)
            mu, sigma, rho = mu[ar, k], log_sigma[ar, k].exp() * opts.temperature ** 0.5, rho[ar, k]
            radius, angle = (-2 * u[:, 1].log()).sqrt(), 2 * math.pi * u[:, 2]  # Box-Muller
            z = torch.stack([radius * angle.cos(), radius * angle.sin()], -1)
            delta = torch.stack([mu[:, 0] + sigma[:, 0] * z[:, 0],
                                 mu[:, 1] + sigma[:, 1] * (rho * z[:, 0] + (1 - rho**2).sqrt() * z[:, 1])], -1)
            step = torch.cat([delta, pen[:, None].float()], -1)
        return step, delta, pen, end_logit[:n] > 0

    # ------------------------------------------------------------ sampling
    @torch.inference_mode()  # no_grad, and no view or version bookkeeping per op: ~5 % of a line
    def steps(self, texts: list[str], opts: SampleOptions | None = None,
              prime: tuple[Ink, str] | None = None) -> Iterator[tuple[torch.Tensor, torch.Tensor, torch.Tensor]]:
        """Yield, per decoding step, (position after the step (B, 2), pen_up (B,), alive (B,))."""
        opts = opts or SampleOptions()
        texts = [self.check_text(t) for t in texts]
        m, dev = self.model, self.device
        noise = RowNoise(opts.row_keys(len(texts)), dev)
        per_step = 1 + 2 * m.cfg.n_bins if m.cfg.head == "bins" else 3 + m.cfg.n_mixtures
        memory, mmask, text, prime_tokens, (last_char_x, char_unit) = self._memory(texts, opts, prime)
        b = len(texts)
        rows = b
        if opts.guidance > 0:  # the same sequences again, without text (as text dropout trained them)
            unc = (text[0], text[1], torch.zeros_like(text[2]))
            u_memory, u_mmask = m.encode(*unc)
            memory, mmask = torch.cat([memory, u_memory]), torch.cat([mmask, u_mmask])
            text = tuple(torch.cat([c, u]) for c, u in zip(text, unc))
            rows = 2 * b
        caps = torch.as_tensor(row_caps(texts, opts), device=dev)
        cap = min(int(caps.max()), m.cfg.max_steps - 1 - (0 if prime_tokens is None else len(prime_tokens)))
        continuous = m.cfg.head == "mdn"
        # the prefix: BOS, then any prime steps, all in one teacher-forced pass
        if prime_tokens is not None:
            pt = torch.as_tensor(prime_tokens, device=dev)
            d = torch.stack([self.centers[pt[:, 0], 0], self.centers[pt[:, 1], 1]], -1)
            prev_rows = torch.cat([d, pt[:, 2:].float()], -1) if continuous else pt.float()
            prev = torch.cat([torch.zeros(1, 3, device=dev), prev_rows]).expand(rows, -1, -1)
            pos = torch.cat([torch.zeros(1, 2, device=dev), d.cumsum(0)]).expand(rows, -1, -1)
            offset = pos[:b, -1].clone()
        else:
            prev = torch.zeros(rows, 1, 3, device=dev)
            pos = torch.zeros(rows, 1, 2, device=dev)
            offset = torch.zeros(b, 2, device=dev)
        cache = m.new_cache() if opts.use_cache else None
        h = m.embed_steps(prev, pos, text=text)
        h, _ = m.decode(h, memory, mmask, cache=cache)
        h = h[:, -1]
        t = prev.shape[1]
        step_decoder = StepDecoder(m, mmask, text, cache, cap) if opts.use_cache else None
        heads = StepHeads(m) if m.cfg.head == "bins" else None
        cur = pos[:b, -1].clone()
        all_prev, all_pos = prev, pos
        guided = rows > b
        done_x = last_char_x + 0.5 * char_unit  # past the last character: the text is written

        def both(x: torch.Tensor) -> torch.Tensor:
            return torch.cat([x, x]) if guided else x

        # ``act``: the sequences still being decoded (indices into the batch); ``slot``:
        # the decoder row each occupies (of ``slots``, plus as many unconditioned rows
        # under guidance). A finished sequence leaves ``act`` at once, so no random draw
        # is spent on it, but its rows of the decoder and of every cache stay until a
        # share COMPACT_AT of them are finished: dropping rows copies every cache, and
        # doing so at every step cost more than computing the finished rows.
        act = torch.arange(b, device=dev)
        slot, slots = torch.arange(b, device=dev), b
        passed_end = torch.zeros(b, dtype=torch.bool, device=dev)
        for k in range(cap):
            if k % NOISE_BLOCK == 0:  # the live sequences' noise for the next NOISE_BLOCK steps
                block = noise.block(act, k, min(NOISE_BLOCK, cap - k), per_step)
                if heads is not None:
                    block = bins_noise(block, opts.draw_temperature())
            if len(slot) < slots:  # some rows are finished sequences awaiting compaction
                h = h[torch.cat([slot, slot + slots]) if guided else slot]
            step, delta, pen, stop = self._sample_step(h, heads, opts, block[:, k % NOISE_BLOCK])
            passed_end |= cur[:, 0] > done_x
            stop |= passed_end & (pen == 1)  # and lifting the pen
            stop |= caps <= k  # its own length cap: a short word stops where it would alone
            alive = torch.ones_like(stop) if opts.run_to_cap else ~stop
            n_alive = int(alive.sum())
            if n_alive == 0:
                break
            cur = torch.addcmul(cur, delta, alive[:, None])
            if len(act) == b:
                yield cur - offset, pen, alive
            else:
                full_pos = torch.zeros(b, 2, device=dev)
                full_pen = torch.zeros(b, dtype=pen.dtype, device=dev)
                full_alive = torch.zeros(b, dtype=torch.bool, device=dev)
                full_pos[act], full_pen[act], full_alive[act] = cur - offset, pen, alive
                yield full_pos, full_pen, full_alive
            if n_alive < len(act):
                keep = alive.nonzero().squeeze(1)
                act, slot, cur, offset, step = act[keep], slot[keep], cur[keep], offset[keep], step[keep]
                block = block[keep]
                done_x, passed_end, caps = done_x[keep], passed_end[keep], caps[keep]
                if slots - len(slot) >= COMPACT_AT * slots:
                    keep_rows = torch.cat([slot, slot + slots]) if guided else slot
                    if step_decoder is not None:  # it holds all it needs of the text
                        step_decoder.keep_rows(keep_rows)
                    else:
                        memory, mmask = memory[keep_rows], mmask[keep_rows]
                        text = tuple(c[keep_rows] for c in text)
                        all_prev, all_pos = all_prev[keep_rows], all_pos[keep_rows]
                    slot, slots = torch.arange(len(slot), device=dev), len(slot)
            # every row's next input: the drawn step of a live sequence, a zero step
            # (never read) in the row of a finished one
            row, at = step, cur
            if len(slot) < slots:
                row, at = step.new_zeros(slots, 3), torch.zeros(slots, 2, device=dev)
                row[slot], at[slot] = step, cur
            row, at = both(row), both(at)
            if step_decoder is not None:
                h = step_decoder(step_decoder.embed(row, at, t))
            else:
                all_prev = torch.cat([all_prev, row[:, None].float()], 1)
                all_pos = torch.cat([all_pos, at[:, None]], 1)
                h = m.decode(m.embed_steps(all_prev, all_pos, text=text), memory, mmask)[0][:, -1]
            t += 1

    def generate(self, texts: list[str], prime: tuple[Ink, str] | None = None, **options) -> list[Ink]:
        """One y-down ink (body height ≈ 1) per text. An ink whose sequence was
        still going when it reached its length cap is marked ``meta["cut_at_cap"]``:
        it never finished its text (most often it was scribbling over itself)."""
        opts = SampleOptions(**options)
        run = [tuple(t.cpu().numpy() for t in out) for out in self.steps(texts, opts, prime)]
        if not run:
            return [_to_ink(np.zeros((0, 2)), np.zeros(0, int), normalise_text(t)) for t in texts]
        pos, pen, alive = (np.stack(part) for part in zip(*run))  # (T, B, ...)
        # still alive at its own cap's last step (the last sequence to stop ends the run, so
        # reaching the run's length alone says nothing)
        cut = alive.sum(0) >= row_caps([normalise_text(t) for t in texts], opts)
        inks = [_to_ink(pos[alive[:, k], k], pen[alive[:, k], k], normalise_text(t)) for k, t in enumerate(texts)]
        for ink, c in zip(inks, cut):
            if c and not opts.run_to_cap:
                ink.meta["cut_at_cap"] = True
        return inks

    def stream(self, text: str, prime: tuple[Ink, str] | None = None, **options) -> Iterator[tuple[float, float, bool]]:
        """Yield (x, y, pen_up) as each point is produced (pen_up: the move to it was in the air)."""
        for pos, pen, _ in self.steps([text], SampleOptions(**options), prime):
            yield float(pos[0, 0]), float(pos[0, 1]), bool(pen[0])

    def stream_words(self, text: str, prime: tuple[Ink, str] | None = None, space: float = WORD_SPACE,
                     **options) -> Iterator[tuple[float, float, bool]]:
        """Yield (x, y, pen_up) of a line written as ``write`` writes it, word by
        word, in reading order, as fast as the slowest word is decoded.

        All words are decoded together, one batch step at a time. The word being
        shown streams live; the words after it are already (partly) written by
        the time it ends, so they follow at once, each set ``space`` body heights
        after the one before and moved onto the first word's baseline (the median
        height of a word's points plus half a body height: each word of the
        training data starts at its own first point, not on a common line).
        """
        words = self.check_text(text).split()
        bufs: list[list[tuple[float, float, bool]]] = [[] for _ in words]
        done = [False] * len(words)
        cur, sent = 0, 0
        x_off = dx = dy = 0.0
        base: float | None = None

        def baseline(points) -> float:
            return float(np.median([p[1] for p in points])) + 0.5 if points else 0.0

        def drain() -> Iterator[tuple[float, float, bool]]:
            nonlocal cur, sent, x_off, dx, dy, base
            while cur < len(words):
                pts = bufs[cur]
                for k in range(sent, len(pts)):
                    x, y, up = pts[k]
                    yield x + dx, y + dy, bool(up or k == 0)
                sent = len(pts)
                if not done[cur]:
                    return
                if pts:
                    if base is None:
                        base = baseline(pts)
                    x_off = max(p[0] for p in pts) + dx + space
                cur, sent = cur + 1, 0
                if cur < len(words):
                    dx = x_off - min((p[0] for p in bufs[cur]), default=0.0)
                    dy = 0.0 if base is None else base - baseline(bufs[cur])

        for pos, pen, alive in self.steps(words, SampleOptions(**options), prime):
            p, q, a = pos.cpu().numpy(), pen.cpu().numpy(), alive.cpu().numpy()
            for k in range(len(words)):
                if a[k]:
                    bufs[k].append((float(p[k, 0]), float(p[k, 1]), bool(q[k])))
                else:
                    done[k] = True
            yield from drain()
        done = [True] * len(words)
        yield from drain()


def _to_ink(points: np.ndarray, pens: np.ndarray, text: str) -> Ink:
    """Points (N, 2) into strokes, a new stroke where the pen moved in the air."""
    starts = np.flatnonzero(pens)
    cuts = starts[starts > 0]
    strokes = np.split(points.astype(np.float64), cuts) if len(points) else []
    return Ink([s for s in strokes if len(s) > 1], text=text, units="normalized", y_axis="down",
               source="inkstroke")
