"""The motion-token transformer: shapes, masks, KV cache, MDN head, checkpoints, sampling."""

import json
import math

import numpy as np
import pytest
import torch
from scipy.stats import multivariate_normal

from inkstroke.errors import InkstrokeError
from inkstroke.model.checkpoint import META, WEIGHTS, load_checkpoint, save_checkpoint
from inkstroke.model.transformer import (
    HandwritingModel,
    ModelConfig,
    StepDecoder,
    StepHeads,
    mdn_nll,
)
from inkstroke.sample.generate import Generator, SampleOptions
from inkstroke.train.data import TokenCache, collate
from inkstroke.train.loop import TrainConfig, losses

torch.set_num_threads(1)  # two cores, shared: more threads only contend


@pytest.fixture(scope="module")
def cache(token_cache) -> TokenCache:
    return TokenCache.load(token_cache)


def small(cache: TokenCache, **changes) -> HandwritingModel:
    torch.manual_seed(0)
    cfg = ModelConfig(n_text=len(cache.text_tok), n_bins=cache.stroke_tok.n_bins, d_model=32, n_head=2,
                      n_enc=1, n_dec=2, d_ff=64, dropout=0.0, **changes)
    model = HandwritingModel(cfg).eval()
    if model.window_emb is not None:  # it starts at zero; give it something to say
        torch.nn.init.normal_(model.window_emb.weight, std=0.5)
    return model


WINDOW = pytest.mark.parametrize("window", [0.0, 0.6], ids=["no-window", "window"])


def batch_of(cache: TokenCache, n: int = 4, **kw) -> dict:
    return collate(cache, cache.indices("train")[:n], **kw)


def same_text_longer_padding(batch: dict, extra: int) -> dict:
    out = dict(batch)
    for k in ("chars", "char_x", "char_mask"):
        pad = torch.zeros(batch[k].shape[0], extra, dtype=batch[k].dtype)
        out[k] = torch.cat([batch[k], pad], dim=1)
    out["char_x"][:, -extra:] = 7.5  # padded slots hold junk that must be ignored
    out["chars"][:, -extra:] = 40
    return out


# ---------------------------------------------------------------- forward
def test_forward_shapes(cache):
    m = small(cache)
    batch = batch_of(cache)
    b, t = batch["targets"].shape[:2]
    out = m(batch)
    assert out["pen"].shape == out["end"].shape == (b, t)
    assert out["dx"].shape == out["dy"].shape == (b, t, cache.stroke_tok.n_bins)
    assert out["attention"] == [None, None]
    out = m(batch, want_weights=True)
    assert [w.shape for w in out["attention"]] == [(b, 2, t, 1 + batch["chars"].shape[1])] * 2
    assert all(torch.isfinite(v).all() for k, v in out.items() if k != "attention")


@WINDOW
def test_causal_mask_future_steps_do_not_change_the_past(cache, window):
    m = small(cache, window_sigma=window)
    batch = batch_of(cache, 1)
    t = int(batch["step_mask"].sum())
    k = t // 2
    changed = dict(batch)
    changed["inputs"] = batch["inputs"].clone()
    changed["pos"] = batch["pos"].clone()
    changed["inputs"][0, k:, :2] = torch.randint(0, cache.stroke_tok.n_bins, (t + 1 - k, 2)).float()
    changed["inputs"][0, k:, 2] = 1 - changed["inputs"][0, k:, 2]
    changed["pos"][0, k:] += 3.0
    a, b = m(batch), m(changed)
    for key in ("pen", "end", "dx", "dy"):
        assert torch.allclose(a[key][:, :k], b[key][:, :k], atol=1e-5), key
        assert not torch.allclose(a[key][:, k:], b[key][:, k:], atol=1e-3), key


@WINDOW
def test_padding_the_text_does_not_change_outputs(cache, window):
    m = small(cache, window_sigma=window)
    batch = batch_of(cache, 3)
    a = m(batch, want_weights=True)
    b = m(same_text_longer_padding(batch, 5), want_weights=True)
    for key in ("pen", "end", "dx", "dy"):
        assert torch.allclose(a[key], b[key], atol=1e-5), key
    for wa, wb in zip(a["attention"], b["attention"]):
        assert torch.allclose(wb[..., : wa.shape[-1]], wa, atol=1e-6)
        assert (wb[..., wa.shape[-1]:] == 0).all()


@WINDOW
def test_padding_the_steps_does_not_change_outputs(cache, window):
    """A short example batched with a long one decodes as it does alone."""
    m = small(cache, window_sigma=window)
    idx = cache.indices("train")
    lengths = np.array([cache.length(i) for i in idx])
    short, long = idx[np.argmin(lengths)], idx[np.argmax(lengths)]
    alone = m(collate(cache, [short]))
    both = m(collate(cache, [short, long]))
    t = alone["dx"].shape[1]
    assert both["dx"].shape[1] > t
    for key in ("pen", "end", "dx", "dy"):
        assert torch.allclose(alone[key][0], both[key][0, :t], atol=1e-5), key


@WINDOW
def test_kv_cached_incremental_decoding_matches_the_full_pass(cache, window):
    m = small(cache, window_sigma=window)
    batch = batch_of(cache, 2)
    memory, mmask = m.encode(batch["chars"], batch["char_x"], batch["char_mask"])
    prev, pos = batch["inputs"], batch["pos"]
    text = (batch["chars"], batch["char_x"], batch["char_mask"])
    full, _ = m.decode(m.embed_steps(prev, pos, text=text), memory, mmask)
    c = m.new_cache()
    prefix = 5  # a prefix in one pass, as priming does, then one step at a time
    parts = [m.decode(m.embed_steps(prev[:, :prefix], pos[:, :prefix], text=text), memory, mmask, cache=c)[0]]
    for t in range(prefix, prev.shape[1]):
        parts.append(m.decode(m.embed_steps(prev[:, t : t + 1], pos[:, t : t + 1], start=t, text=text),
                              memory, mmask, cache=c)[0])
    inc = torch.cat(parts, dim=1)
    assert torch.allclose(inc, full, atol=1e-5)
    # sampling's one-step decoder, its weights laid out anew: the same numbers up to rounding
    c2 = m.new_cache()
    flat = [m.decode(m.embed_steps(prev[:, :prefix], pos[:, :prefix], text=text), memory, mmask, cache=c2)[0]]
    step = StepDecoder(m, mmask, text, c2, capacity=prev.shape[1] - prefix)
    for t in range(prefix, prev.shape[1]):
        x = step.embed(prev[:, t], pos[:, t], t)
        assert torch.allclose(x, m.embed_steps(prev[:, t : t + 1], pos[:, t : t + 1], start=t, text=text)[:, 0],
                              atol=1e-5)
        flat.append(step(x)[:, None])
    assert not mmask.all() and torch.allclose(torch.cat(flat, dim=1), inc, atol=1e-5)
    # and its heads, against the model's own
    heads, h = StepHeads(m), inc[:, -1]
    pen, dx = batch["targets"][:, -1, 2].long(), batch["targets"][:, -1, 0].long()
    pen_logit, end_logit = heads.pen_end(h)
    assert torch.allclose(pen_logit, m.pen_head(h)[:, 0], atol=1e-5)
    assert torch.allclose(end_logit, m.end_head(h)[:, 0], atol=1e-5)
    assert torch.allclose(heads.dx(pen), m.dx_logits(h, pen), atol=1e-5)
    assert torch.allclose(heads.dy(pen, dx), m.dy_logits(h, pen, dx), atol=1e-5)
    tgt = batch["targets"]
    assert torch.allclose(m(batch)["dx"], m.head_logits(full, tgt[..., 2], tgt[..., 0])["dx"], atol=1e-5)
    assert c[0]["self"]["n"] == prev.shape[1]  # the prefix was never recomputed
    tgt = batch["targets"]
    a, b = m.head_logits(full, tgt[..., 2], tgt[..., 0]), m.head_logits(inc, tgt[..., 2], tgt[..., 0])
    assert all(torch.allclose(a[k], b[k], atol=1e-5) for k in a)


@WINDOW
def test_unconditional_mode(cache, window):
    m = small(cache, window_sigma=window)
    dropped = batch_of(cache, 3, text_dropout=1.0, rng=np.random.default_rng(0))
    assert not dropped["char_mask"].any()
    out = m(dropped, want_weights=True)
    assert torch.isfinite(out["dx"]).all()
    for w in out["attention"]:
        assert torch.allclose(w[..., 0], torch.ones(()))  # only the null slot is left
    # no text at all: zero characters
    none = dict(dropped)
    none.update(chars=torch.zeros(3, 0, dtype=torch.long), char_x=torch.zeros(3, 0),
                char_mask=torch.zeros(3, 0, dtype=torch.bool))
    assert torch.allclose(m(none)["dx"], out["dx"], atol=1e-5)


def test_cross_attention_weights_sum_to_one(cache):
    m = small(cache)
    batch = batch_of(cache, 3)
    out = m(batch, want_weights=True)
    for w in out["attention"]:
        assert torch.allclose(w.sum(-1), torch.ones(w.shape[:-1]), atol=1e-5)
        assert (w >= 0).all()
        padded = ~torch.cat([torch.ones(3, 1, dtype=torch.bool), batch["char_mask"]], 1)
        assert (w.masked_select(padded[:, None, None, :].expand_as(w)) == 0).all()


# ---------------------------------------------------------------- losses and heads
def test_mdn_nll_is_the_bivariate_gaussian_density():
    mu, sigma, rho = np.array([0.1, -0.2]), np.array([0.5, 0.3]), 0.4
    raw = torch.tensor([0.0, *mu, *np.log(sigma), math.atanh(rho / 0.99)], dtype=torch.float64)
    x = np.array([0.3, 0.1])
    cov = [[sigma[0] ** 2, rho * sigma[0] * sigma[1]], [rho * sigma[0] * sigma[1], sigma[1] ** 2]]
    want = -multivariate_normal(mu, cov).logpdf(x)
    assert mdn_nll(raw, torch.tensor(x), 1).item() == pytest.approx(want, rel=1e-6)
    # a mixture of two: the density is the weighted sum
    raw2 = torch.tensor([math.log(0.25), math.log(0.75), *mu, 1.0, 1.0, *np.log(sigma), 0.0, 0.0,
                         math.atanh(rho / 0.99), 0.0], dtype=torch.float64)
    p = 0.25 * multivariate_normal(mu, cov).pdf(x) + 0.75 * multivariate_normal([1, 1], np.eye(2)).pdf(x)
    assert mdn_nll(raw2, torch.tensor(x), 2).item() == pytest.approx(-math.log(p), rel=1e-6)


@pytest.mark.parametrize("head", ["bins", "mdn"])
def test_loss_is_finite_and_decreases_on_a_batch(cache, head):
    m = small(cache, head=head, n_mixtures=5).train()
    batch = batch_of(cache, 4, continuous=head == "mdn")
    cfg = TrainConfig()
    opt = torch.optim.AdamW(m.parameters(), lr=3e-3)
    history = []
    for _ in range(25):
        terms = losses(m, m(batch), batch, cfg)
        assert all(torch.isfinite(v) for v in terms.values())
        history.append(terms["total"].item())
        opt.zero_grad()
        terms["total"].backward()
        opt.step()
    assert set(terms) == ({"pen", "end", "dx", "dy", "total"} if head == "bins" else {"pen", "end", "mdn", "total"})
    assert history[-1] < history[0] - 0.5


# ---------------------------------------------------------------- checkpoints
def test_config_is_saved_in_the_checkpoint(cache, tmp_path):
    m = small(cache, head="mdn", n_mixtures=3)
    save_checkpoint(tmp_path, m, cache.stroke_tok, cache.text_tok, {"step": 7})
    meta = json.loads((tmp_path / META).read_text())
    assert meta["model"] == m.cfg.to_dict() and meta["step"] == 7
    assert meta["stroke_tokenizer"] == cache.stroke_tok.to_dict()
    assert meta["hardware"]["torch"] == torch.__version__
    back, stok, ttok, meta2 = load_checkpoint(tmp_path / META)  # the JSON path works too
    assert back.cfg == m.cfg and not back.training
    assert ttok.vocab == cache.text_tok.vocab and stok.n_bins == cache.stroke_tok.n_bins
    batch = batch_of(cache, 2, continuous=True)
    assert torch.equal(back(batch)["mdn"], m(batch)["mdn"])
    assert not list(tmp_path.glob("*.tmp"))


def test_tiny_run_checkpoint_loads(tiny_run):
    model, stok, ttok, meta = load_checkpoint(tiny_run)
    assert meta["model"]["d_model"] == 64 and model.cfg.n_dec == 2
    assert meta["step"] == 40 and meta["train_config"]["steps"] == 40


def _break(run, what):
    if what == "truncated weights":
        data = (run / WEIGHTS).read_bytes()
        (run / WEIGHTS).write_bytes(data[: len(data) // 2])
    elif what == "garbage weights":
        (run / WEIGHTS).write_bytes(b"\x00" * 64)
    elif what == "no weights":
        (run / WEIGHTS).unlink()
    elif what == "bad json":
        (run / META).write_text((run / META).read_text()[:-40])
    elif what == "no json":
        (run / META).unlink()
    else:
        meta = json.loads((run / META).read_text())
        if what == "tokenizer bins":
            for k in ("x_centers", "y_centers"):
                meta["stroke_tokenizer"][k] = meta["stroke_tokenizer"][k][:-2]
        elif what == "text vocabulary":
            meta["text_tokenizer"]["vocab"].append("\u00e9")
        elif what == "config":
            meta["model"]["d_ff"] = 96
        elif what == "unknown config key":
            meta["model"]["layers"] = 3
        elif what == "kind":
            meta["kind"] = "something"
        (run / META).write_text(json.dumps(meta))


@pytest.mark.parametrize("what, message", [
    ("truncated weights", "corrupt or missing weights"),
    ("garbage weights", "corrupt or missing weights"),
    ("no weights", "corrupt or missing weights"),
    ("bad json", "corrupt checkpoint metadata"),
    ("no json", "not an inkstroke checkpoint"),
    ("tokenizer bins", "mismatched checkpoint"),
    ("text vocabulary", "mismatched checkpoint"),
    ("config", "do not fit the config"),
    ("unknown config key", "bad model config"),
    ("kind", "not a handwriting model"),
])
def test_corrupt_or_mismatched_checkpoint_is_an_error(tiny_run_copy, what, message):
    _break(tiny_run_copy, what)
    with pytest.raises(InkstrokeError, match=message):
        load_checkpoint(tiny_run_copy)


# ---------------------------------------------------------------- generation
def test_generation_is_reproducible_and_seed_dependent(tiny_generator):
    gen = tiny_generator
    a = gen.generate(["hello", "of"], seed=3, temperature=0.8)
    b = gen.generate(["hello", "of"], seed=3, temperature=0.8)
    c = gen.generate(["hello", "of"], seed=4, temperature=0.8)
    assert [x.text for x in a] == ["hello", "of"]
    for x, y in zip(a, b):
        assert len(x.strokes) == len(y.strokes)
        assert all(np.array_equal(s, t) for s, t in zip(x.strokes, y.strokes))
    assert not all(x.num_points == y.num_points and np.array_equal(x.points(), y.points()) for x, y in zip(a, c))


@pytest.mark.parametrize("options", [{"temperature": 1.0}, {"temperature": 0.5, "top_k": 5},
                                     {"temperature": 1.0, "top_p": 0.8, "bias": 0.5},
                                     {"temperature": 0.8, "guidance": 1.5}])
def test_cached_and_uncached_generation_are_identical(tiny_generator, options):
    gen = tiny_generator
    a = gen.generate(["minimum", "go"], seed=11, use_cache=True, max_steps=120, **options)
    b = gen.generate(["minimum", "go"], seed=11, use_cache=False, max_steps=120, **options)
    assert sum(x.num_points for x in a) > 0
    for x, y in zip(a, b):
        assert x.num_points == y.num_points
        assert np.allclose(x.points(), y.points(), atol=1e-5)


@pytest.mark.parametrize("guidance", [0.0, 1.5])
def test_primed_generation_is_the_same_with_and_without_the_cache(guidance):
    """A prime is a teacher-forced prefix in the cache; the one-step decoder goes on
    from it (the shipped model: one whose steps depend on what came before)."""
    from inkstroke.write.api import MODEL_DIR

    gen = Generator.from_checkpoint(MODEL_DIR)
    prime = gen.generate(["hello"], seed=2, temperature=0.5)[0]
    assert prime.num_points > 10
    opts = {"seed": 4, "temperature": 0.8, "guidance": guidance, "max_steps": 60}
    a = gen.generate(["go", "minimum"], prime=(prime, "hello"), use_cache=True, **opts)
    b = gen.generate(["go", "minimum"], prime=(prime, "hello"), use_cache=False, **opts)
    assert sum(x.num_points for x in a) > 0
    for x, y in zip(a, b):
        assert x.num_points == y.num_points
        assert np.allclose(x.points(), y.points(), atol=1e-5)


@pytest.mark.parametrize("guidance", [0.0, 1.5])
def test_finished_rows_wait_in_the_batch_without_changing_the_others(cache, monkeypatch, guidance):
    """Sequences that end early keep their decoder rows until COMPACT_AT of the
    batch has ended; dropping them at once (0) or never (2) draws the same inks."""
    import inkstroke.sample.generate as generate

    m = small(cache)
    torch.nn.init.normal_(m.end_head.weight, std=1.0)  # an end head that fires at scattered steps
    torch.nn.init.constant_(m.end_head.bias, -1.0)
    gen = Generator(m, cache.stroke_tok, cache.text_tok)
    texts = ["a", "hello", "of", "minimum", "go", "x", "quick", "brown"]
    runs = {}
    for at in (0.0, 0.25, 2.0):
        monkeypatch.setattr(generate, "COMPACT_AT", at)
        for use_cache in (True, False):
            runs[at, use_cache] = gen.generate(texts, seed=5, temperature=0.8, guidance=guidance,
                                               max_steps=80, use_cache=use_cache)
    lengths = [ink.num_points for ink in runs[0.0, True]]
    assert len(set(lengths)) > 3 and max(lengths) > 2 * min(lengths)  # they did end at scattered steps
    for inks in runs.values():
        assert [ink.num_points for ink in inks] == lengths
        for x, y in zip(inks, runs[0.0, True]):
            assert np.allclose(x.points(), y.points(), atol=1e-5)


def test_guidance_changes_what_is_drawn_and_keeps_batches_apart(cache):
    m = small(cache)
    # a model whose text matters: strong characters, strong cross-attention
    torch.nn.init.normal_(m.char_emb.weight, std=2.0)
    for block in m.decoder:
        torch.nn.init.normal_(block.cross_att.out.weight, std=0.5)
    gen = Generator(m, cache.stroke_tok, cache.text_tok)
    opts = {"seed": 7, "run_to_cap": True, "max_steps": 50, "temperature": 0.5}
    plain = list(gen.stream("guide", **opts))
    assert list(gen.stream("guide", guidance=0.0, **opts)) == plain
    guided = list(gen.stream("guide", guidance=3.0, **opts))
    assert len(guided) == 50 and guided != plain
    # guided, each text of a batch still gets its own conditioning
    both = gen.steps(["guide", "other"], SampleOptions(guidance=3.0, **opts))
    both = np.array([p.numpy() for p, _, _ in both])
    assert both.shape == (50, 2, 2) and not np.allclose(both[:, 0], both[:, 1])


@pytest.mark.parametrize("guidance", [0.0, 1.0])
def test_mdn_model_generates(cache, guidance):
    m = small(cache, head="mdn", n_mixtures=3)
    gen = Generator(m, cache.stroke_tok, cache.text_tok)
    opts = {"seed": 0, "max_steps": 40, "run_to_cap": True, "guidance": guidance}
    a = np.array(list(gen.stream("ab", **opts)))
    b = np.array(list(gen.stream("ab", use_cache=False, **opts)))
    assert a.shape == (40, 3) and np.allclose(a, b, atol=1e-4)
    assert np.isfinite(a).all()


def test_the_character_window_follows_the_pen(cache):
    m = small(cache, window_sigma=0.3)
    chars = torch.tensor([[10, 20, 30]])
    char_x = torch.tensor([[0.0, 1.0, 2.0]])
    mask = torch.ones(1, 3, dtype=torch.bool)
    w = m.window(torch.tensor([[0.0, 1.0, 2.0, 1.5]]), (chars, char_x, mask))
    emb = m.window_emb.weight
    assert torch.allclose(w[0, 0], emb[10], atol=0.02 * emb.abs().max().item())
    assert torch.allclose(w[0, 2], emb[30], atol=0.02 * emb.abs().max().item())
    assert torch.allclose(w[0, 3], (emb[20] + emb[30]) / 2, atol=1e-5)  # halfway between two
    # no text: no window, and no NaN
    none = m.window(torch.zeros(1, 2), (chars, char_x, torch.zeros(1, 3, dtype=torch.bool)))
    assert torch.equal(none, torch.zeros_like(none))
    # a fresh window starts silent, so a warm start begins as the model it came from
    torch.manual_seed(0)
    assert (HandwritingModel(m.cfg).window_emb.weight == 0).all()


def test_generation_uses_the_window(cache):
    m = small(cache, window_sigma=0.6)
    gen = Generator(m, cache.stroke_tok, cache.text_tok)
    a = np.array(list(gen.stream("window", seed=1, max_steps=60, run_to_cap=True)))
    b = np.array(list(gen.stream("window", seed=1, max_steps=60, run_to_cap=True, use_cache=False)))
    assert len(a) == 60 and np.allclose(a, b, atol=1e-5)
    torch.nn.init.zeros_(m.window_emb.weight)
    c = np.array(list(gen.stream("window", seed=1, max_steps=60, run_to_cap=True)))
    assert not np.allclose(a, c)
