"""The recogniser: CTC decoding against brute force, the model's padding
invariance, training, the API's bad-input answers and the CLI."""

import itertools
import json
import math

import numpy as np
import pytest
import torch

from inkstroke.cli.main import main
from inkstroke.errors import InkstrokeError
from inkstroke.ink import Ink
from inkstroke.recognize.api import MODEL_DIR, Recognizer
from inkstroke.recognize.decode import beam_search, cer, greedy_decode, text_log_likelihood
from inkstroke.recognize.model import RecognizerConfig, RecognizerModel, collate_steps
from inkstroke.tokenize.text import TextTokenizer

TEXT = TextTokenizer()


def _collapse(path) -> tuple:
    out = []
    for k, c in enumerate(path):
        if c != 0 and (k == 0 or path[k - 1] != c):
            out.append(c)
    return tuple(out)


def _brute_force(logp: np.ndarray) -> dict[tuple, float]:
    """log P(label sequence) by summing every frame path: the CTC definition."""
    probs: dict[tuple, float] = {}
    for path in itertools.product(range(logp.shape[1]), repeat=logp.shape[0]):
        p = math.exp(sum(logp[t, c] for t, c in enumerate(path)))
        key = _collapse(path)
        probs[key] = probs.get(key, 0.0) + p
    return {k: math.log(v) for k, v in probs.items()}


@pytest.fixture
def small_logp():
    rng = np.random.default_rng(3)
    # vocabulary: blank, 'a' and 'b' live at ids 0 and the tokenizer's ids of a, b
    raw = rng.normal(0, 1.5, (5, 3))
    return raw - np.log(np.exp(raw).sum(1, keepdims=True))


def _to_vocab(logp3: np.ndarray) -> np.ndarray:
    """Spread a (F, 3) blank/a/b table over the full text vocabulary (others impossible)."""
    full = np.full((logp3.shape[0], len(TEXT)), -1e9)
    full[:, 0], full[:, TEXT.index["a"]], full[:, TEXT.index["b"]] = logp3.T
    return full


def test_cer_known_values():
    assert cer("kitten", "sitting") == pytest.approx(3 / 7)
    assert cer("", "") == 0.0 and cer("x", "") == 1.0 and cer("abc", "abc") == 0.0


def test_beam_search_and_likelihood_match_brute_force(small_logp):
    truth = _brute_force(small_logp)
    names = {(): "", (1,): "a", (2,): "b"}
    as_text = {"".join("ab"[c - 1] for c in k): v for k, v in truth.items()}
    assert names[()] == ""
    full = _to_vocab(small_logp)
    beams = beam_search(full, TEXT, beam=64)
    best_text, best_lp = beams[0]
    assert best_text == max(as_text, key=as_text.get)
    for text, lp in beams[:10]:
        assert lp == pytest.approx(as_text[text], abs=1e-6)
    # the exact likelihood of given texts, batched, agrees too
    texts = ["ab", "a", "bb", "aba"]
    logp = torch.tensor(full, dtype=torch.float32)[None].repeat(len(texts), 1, 1)
    ll = text_log_likelihood(logp, torch.full((len(texts),), 5), [TEXT.encode(t) for t in texts])
    for t, v in zip(texts, ll.tolist()):
        assert v == pytest.approx(as_text[t], abs=1e-3)


def test_greedy_merges_repeats_and_drops_blanks():
    a, b = TEXT.index["a"], TEXT.index["b"]
    path = [a, a, 0, a, b, b, 0, 0, b]
    logp = torch.full((1, len(path) + 2, len(TEXT)), -9.0)
    for t, c in enumerate(path):
        logp[0, t, c] = 0.0
    logp[0, len(path):, a] = 0.0  # frames past the ink's end are ignored
    assert greedy_decode(logp, torch.tensor([len(path)]), TEXT) == ["aabb"]


def test_model_output_does_not_depend_on_padding():
    torch.manual_seed(0)
    model = RecognizerModel(RecognizerConfig(d_model=32, n_head=2, n_layers=2, d_ff=64)).eval()
    rng = np.random.default_rng(0)
    centers = np.linspace(-1, 1, 24)
    short = np.column_stack([rng.integers(0, 24, (2, 9)).T, rng.integers(0, 2, 9)])
    long_ = np.column_stack([rng.integers(0, 24, (2, 30)).T, rng.integers(0, 2, 30)])
    alone = collate_steps([short], centers)
    both = collate_steps([short, long_], centers)
    with torch.no_grad():
        a = model(alone["steps"], alone["height"], alone["lengths"])
        b = model(both["steps"], both["height"], both["lengths"])
    n = int(RecognizerModel.frames(torch.tensor([9]))[0])
    assert a.shape == (1, n, len(TEXT)) and n == 5
    torch.testing.assert_close(a[0, :n], b[0, :n], atol=1e-5, rtol=1e-4)
    assert torch.allclose(a.exp().sum(-1), torch.ones(1, n))


def test_training_learns_and_resumes(token_cache, tmp_path):
    from inkstroke.recognize.train import RecognizerTrainConfig, ctc_loss, train_recognizer
    from inkstroke.train.data import TokenCache

    cache = TokenCache.load(token_cache)
    idx = cache.indices("train")[:16]
    examples = [cache.example(i) for i in idx]
    batch = collate_steps([s for s, _, _ in examples], cache.stroke_tok.y.centers)
    targets = [c for _, c, _ in examples]
    cfg = RecognizerTrainConfig(steps=4, max_tokens=2048, warmup=1, eval_every=4, save_every=2,
                                model=RecognizerConfig(d_model=48, n_head=2, n_layers=1, d_ff=96))
    run = tmp_path / "rec"
    train_recognizer(token_cache, cfg, run, quiet=True)
    meta = json.loads((run / "checkpoint.json").read_text())
    assert meta["step"] == 4 and meta["kind"] == "inkstroke-recognizer" and meta["hardware"]["cpus"]
    assert {"train_config", "data", "command", "saved"} <= set(meta)
    cfg.steps = 6
    train_recognizer(token_cache, cfg, run, resume=True, quiet=True)
    assert json.loads((run / "checkpoint.json").read_text())["step"] == 6
    # and it can learn: the CTC loss of a fixed batch falls when trained on it
    torch.manual_seed(0)
    model = RecognizerModel(RecognizerConfig(n_bins=cache.stroke_tok.n_bins, d_model=64, n_head=2,
                                             n_layers=2, d_ff=128, dropout=0.0))
    opt = torch.optim.Adam(model.parameters(), lr=3e-3)
    first = ctc_loss(model, batch, targets).item()
    for _ in range(60):
        loss = ctc_loss(model, batch, targets)
        opt.zero_grad()
        loss.backward()
        opt.step()
    assert loss.item() < 0.5 * first


@pytest.fixture(scope="module")
def rec(tiny_recognizer):
    return Recognizer.from_checkpoint(tiny_recognizer)


def test_bad_inks_get_one_clear_error(rec):
    with pytest.raises(InkstrokeError, match="empty"):
        rec.read([Ink([])])
    with pytest.raises(InkstrokeError, match="single point"):
        rec.read([Ink([np.array([[1.0, 2.0]])])])
    with pytest.raises(InkstrokeError, match="NaN"):
        rec.read([Ink([np.array([[0.0, 0.0], [np.nan, 1.0]])])])
    a = np.linspace(0, 2 * np.pi, 40)
    loop = np.column_stack([np.cos(a), np.sin(a)])
    long_line = Ink([loop + (2.5 * k, 0) for k in range(600)])  # 600 letter-sized loops
    with pytest.raises(InkstrokeError, match="too long"):
        rec.read([long_line])
    # scoring never raises: an unreadable ink scores -inf
    scores = rec.score([Ink([]), Ink([np.array([[0.0, 0], [1, 1], [2, 0]])])], ["a", "a"])
    assert scores[0] == -np.inf and np.isfinite(scores[1])


def test_read_and_nbest_are_consistent(rec, words):
    inks = words[0][:3]
    assert all(isinstance(r.text, str) for r in rec.read(inks))
    beams = rec.read(inks, nbest=3)
    for b in beams:
        assert len(b.nbest) <= 3 and b.text == b.nbest[0][0]
        assert all(p1 >= p2 for (_, p1), (_, p2) in zip(b.nbest, b.nbest[1:]))
    # the likelihood of the beam's best reading is what the scorer gives it
    b = beams[0]
    if b.text:
        per_char = rec.score([inks[0]], [b.text])[0]
        assert per_char * len(b.text) == pytest.approx(b.nbest[0][1], abs=1e-2)


def test_recognize_command(tiny_recognizer, inks_file, tmp_path, capsys):
    assert main(["recognize", f"{inks_file}:0", f"{inks_file}:1", "--model", str(tiny_recognizer), "--json",
                 "--nbest", "2"]) == 0
    docs = json.loads(capsys.readouterr().out)
    assert [d["ink"] for d in docs] == [f"{inks_file}:0", f"{inks_file}:1"]
    assert all(len(d["nbest"]) <= 2 and d["label"] for d in docs)
    bad = tmp_path / "bad.json"
    bad.write_text("{not json")
    assert main(["recognize", str(bad), "--model", str(tiny_recognizer)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "bad.json" in err
    assert main(["recognize", f"{inks_file}:0", "--model", str(tmp_path)]) == 2
    assert "no recogniser" in capsys.readouterr().err


@pytest.mark.skipif(not (MODEL_DIR / "checkpoint.json").exists(), reason="no recogniser shipped")
def test_shipped_recognizer_reads_real_handwriting(words):
    """The shipped model on real UNIPEN words, read from the strokes."""
    inks = [ink for ink, split in zip(*words) if split == "valid"][:60]
    if any(ink.writer.startswith("hershey") for ink in inks):
        pytest.skip("the real UNIPEN data is not extracted")
    rec = Recognizer.from_checkpoint()
    reads = rec.read(inks)
    total = sum(cer(r.text, ink.text) * len(ink.text) for r, ink in zip(reads, inks))
    assert total / sum(len(ink.text) for ink in inks) < 0.35
    # the intended text scores better than a wrong one
    right = rec.score(inks[:10], [ink.text for ink in inks[:10]])
    wrong = rec.score(inks[:10], ["zzqx" for _ in inks[:10]])
    assert (right > wrong).all()
    # the same, from the motion tokens (as scripts/legible_subset.py scores cached datasets)
    tokens = [rec.tokens(ink) for ink in inks[:10]]
    assert np.allclose(rec.score_steps(tokens, [ink.text for ink in inks[:10]]), right, atol=1e-5)
    # inks of mixed lengths, in length-ordered batches of 3 or all at once: the same scores, in order
    texts = [ink.text for ink in inks[:10]]
    assert len({len(t) for t in tokens}) > 5
    assert np.allclose(rec.score_steps(tokens, texts, batch=3), rec.score_steps(tokens, texts, batch=100), atol=1e-5)


def test_usage_errors_exit_2_without_a_traceback(capsys, tmp_path):
    out = tmp_path / "x.svg"
    for argv in (["recognize", "x.json", "--nbest", "99"], ["write", "hi", "-o", str(out), "--candidates", "0"],
                 ["write", "hi", "-o", str(out), "--no-such-option"]):
        assert main(argv) == 2
        err = capsys.readouterr().err
        assert "Traceback" not in err and err.startswith("error: ") and err.count("\n") == 1
    assert not out.exists()
