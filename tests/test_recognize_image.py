"""The image reader: its pictures keep where marks sit on the line, a picture
reads the same alone or in a batch, training learns and resumes, bad inks get
one clear error, and the shipped reader reads real handwriting."""

import json

import numpy as np
import pytest
import torch

from inkstroke.errors import InkstrokeError
from inkstroke.ink import Ink
from inkstroke.recognize.decode import cer
from inkstroke.recognize.image import (
    HEIGHT,
    MODEL_DIR,
    PX_PER_UNIT,
    HalvingMaxPool,
    ImageReader,
    ImageReaderConfig,
    ImageReaderModel,
    collate_images,
    word_image,
)


def _loop(x: float, y: float = -0.5, r: float = 0.5) -> np.ndarray:
    a = np.linspace(0, 2 * np.pi, 40)
    return np.column_stack([x + r * np.cos(a), y + r * np.sin(a)])


def _word(mark: np.ndarray | None = None, letters: int = 3) -> Ink:
    """Letter-sized loops on the baseline y = 0 (y down, body height 1), and a mark."""
    strokes = [_loop(1.2 * k) for k in range(letters)] + ([mark] if mark is not None else [])
    return Ink(strokes, units="normalized", y_axis="down")


def _rows(picture: np.ndarray, columns: slice) -> np.ndarray:
    return np.flatnonzero(picture[:, columns].max(axis=1) > 0.5)


def test_pictures_keep_a_comma_below_the_line_and_an_apostrophe_above():
    comma = np.array([[3.3, 0.0], [3.25, 0.5]])  # from the baseline down
    apostrophe = np.array([[3.3, -1.9], [3.25, -1.4]])  # above the body
    low, high = word_image(_word(comma)), word_image(_word(apostrophe))
    assert low.shape[0] == HEIGHT == high.shape[0]
    mark = slice(low.shape[1] - 8, low.shape[1])  # right of the last loop
    body = _rows(low, slice(0, 20))
    assert _rows(low, mark).min() > body.mean() and _rows(high, mark).max() < body.min()
    # the same scale for every word: three more letters, 3.6 body heights more paper
    longer = word_image(_word(letters=6))
    assert longer.shape[1] - word_image(_word()).shape[1] == pytest.approx(3.6 * PX_PER_UNIT, abs=4)
    assert longer.shape[1] % 4 == 0 and 0.0 <= longer.min() and longer.max() <= 1.0


def test_an_ink_in_other_units_is_normalised_first():
    word = _word()
    big = word.copy(strokes=[s * 37.0 for s in word.strokes], units="unit")
    np.testing.assert_allclose(word_image(big).shape, word_image(word.normalized()).shape, atol=4)


def test_bad_inks_get_one_clear_error():
    with pytest.raises(InkstrokeError, match="empty"):
        word_image(Ink([]))
    with pytest.raises(InkstrokeError, match="NaN"):
        word_image(Ink([np.array([[0.0, 0.0], [np.nan, 1.0]])]))
    with pytest.raises(InkstrokeError, match="single point"):
        word_image(Ink([np.array([[1.0, 2.0], [1.0, 2.0]])]))
    with pytest.raises(InkstrokeError, match="too wide"):
        word_image(_word(letters=200))


def test_a_picture_reads_the_same_alone_or_in_a_batch():
    torch.manual_seed(0)
    model = ImageReaderModel(ImageReaderConfig(channels=(8, 8, 16, 16), d_rnn=16)).eval()
    rng = np.random.default_rng(0)
    short, wide = rng.random((HEIGHT, 36)).astype(np.float32), rng.random((HEIGHT, 100)).astype(np.float32)
    with torch.no_grad():
        alone = model(*collate_images([short]))
        both = model(*collate_images([short, wide]))
    assert alone.shape == (1, 9, ImageReaderConfig().n_text)
    torch.testing.assert_close(alone[0], both[0, :9], atol=1e-5, rtol=1e-4)
    assert torch.allclose(alone.exp().sum(-1), torch.ones(1, 9))


@pytest.fixture(scope="module")
def tiny_reader(tmp_path_factory, token_cache):
    from inkstroke.recognize.train_image import ImageReaderTrainConfig, train_image_reader

    run = tmp_path_factory.mktemp("runs") / "image-reader"
    cfg = ImageReaderTrainConfig(steps=4, max_pixels=1500, warmup=1, eval_every=4, save_every=2,
                                 model=ImageReaderConfig(channels=(8, 8, 16, 16), d_rnn=16))
    train_image_reader(token_cache, cfg, run, quiet=True)
    return run, cfg


def test_training_records_itself_and_resumes(tiny_reader, token_cache):
    from inkstroke.recognize.train_image import train_image_reader

    run, cfg = tiny_reader
    meta = json.loads((run / "checkpoint.json").read_text())
    assert meta["step"] == 4 and meta["kind"] == "inkstroke-image-reader" and meta["hardware"]["cpus"]
    assert {"train_config", "data", "command", "saved", "render"} <= set(meta)
    assert 0.0 <= meta["figures"]["valid_cer"]
    cfg.steps = 6
    train_image_reader(token_cache, cfg, run, resume=True, quiet=True)
    assert json.loads((run / "checkpoint.json").read_text())["step"] == 6


def test_training_learns(token_cache):
    """The CTC loss of a fixed batch of real pictures falls when trained on it."""
    import torch.nn.functional as F

    from inkstroke.recognize.train_image import build_picture_cache

    cache = build_picture_cache(token_cache, quiet=True)
    idx = cache.indices("train")[:12]
    images, widths = collate_images([cache.image(i) for i in idx])
    targets = [cache.chars[i] for i in idx]
    flat = torch.from_numpy(np.concatenate(targets).astype(np.int64))
    lengths = torch.tensor([len(t) for t in targets])
    torch.manual_seed(0)
    model = ImageReaderModel(ImageReaderConfig(channels=(16, 16, 32, 32), d_rnn=48, dropout=0.0))
    opt = torch.optim.Adam(model.parameters(), lr=3e-3)

    def loss() -> torch.Tensor:
        logp = model(images, widths)
        return F.ctc_loss(logp.transpose(0, 1), flat, ImageReaderModel.frames(widths), lengths, zero_infinity=True)

    first = loss().item()
    for _ in range(80):
        value = loss()
        opt.zero_grad()
        value.backward()
        opt.step()
    assert value.item() < 0.5 * first


def test_scoring_never_raises_and_reading_gives_text(tiny_reader, words):
    reader = ImageReader.from_checkpoint(tiny_reader[0])
    scores = reader.score([Ink([]), words[0][0]], ["a", words[0][0].text])
    assert scores[0] == -np.inf and np.isfinite(scores[1])
    assert all(isinstance(t, str) for t in reader.read(words[0][:3]))
    with pytest.raises(InkstrokeError, match="no image reader"):
        ImageReader.from_checkpoint(tiny_reader[0].parent / "nothing")


@pytest.mark.skipif(not (MODEL_DIR / "checkpoint.json").exists(), reason="no image reader shipped")
def test_shipped_image_reader_reads_real_handwriting(words):
    """The shipped reader on real UNIPEN words of writers it never saw, from their pictures."""
    inks = [ink for ink, split in zip(*words) if split == "valid"][:60]
    if any(ink.writer.startswith("hershey") for ink in inks):
        pytest.skip("the real UNIPEN data is not extracted")
    reader = ImageReader.from_checkpoint()
    reads = reader.read(inks)
    total = sum(cer(text, ink.text) * len(ink.text) for text, ink in zip(reads, inks))
    assert total / sum(len(ink.text) for ink in inks) < 0.5
    right = reader.score(inks[:10], [ink.text for ink in inks[:10]])
    wrong = reader.score(inks[:10], ["zzqx" for _ in inks[:10]])
    assert (right > wrong).all()
    # pictures of mixed widths, in width-ordered batches of 3: the same scores, in order
    assert np.allclose(reader.score(inks[:10], [ink.text for ink in inks[:10]], batch=3), right, atol=1e-5)


def test_train_recognizer_image_command(inks_file, tmp_path, capsys):
    from inkstroke.cli.main import main

    config = tmp_path / "tiny.toml"
    config.write_text("max_pixels = 1500\nwarmup = 1\neval_every = 2\nsave_every = 2\n"
                      "[model]\nchannels = [8, 8, 16, 16]\nd_rnn = 16\n")
    run = tmp_path / "img"
    assert main(["train-recognizer", "--image", "--data", str(inks_file), "--config", str(config),
                 "--out", str(run), "--steps", "2"]) == 0
    meta = json.loads((run / "checkpoint.json").read_text())
    assert meta["kind"] == "inkstroke-image-reader" and meta["step"] == 2
    assert meta["command"].startswith("inkstroke ") and meta["model"]["channels"] == [8, 8, 16, 16]
    assert (run / "pictures.npz").exists() and (run / "tokens.npz").exists()
    capsys.readouterr()
    config.write_text("stepz = 3\n")
    assert main(["train-recognizer", "--image", "--data", str(inks_file), "--config", str(config),
                 "--out", str(tmp_path / "bad")]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "stepz" in err


@pytest.mark.skipif(not (MODEL_DIR / "checkpoint.json").exists(), reason="no image reader shipped")
def test_an_ink_too_wide_to_draw_reads_as_nothing_in_the_accuracy_report():
    from inkstroke.eval.recognition import image_reads

    reads = image_reads([_word(letters=200), _word(letters=3)])
    assert reads[0] == "" and isinstance(reads[1], str)


def test_recognize_command_reads_the_picture(tiny_reader, inks_file, capsys):
    from inkstroke.cli.main import main

    run = str(tiny_reader[0])
    assert main(["recognize", f"{inks_file}:0", f"{inks_file}:1", "--image", "--model", run, "--json"]) == 0
    docs = json.loads(capsys.readouterr().out)
    assert [d["ink"] for d in docs] == [f"{inks_file}:0", f"{inks_file}:1"]
    assert all(isinstance(d["text"], str) and d["label"] for d in docs)
    assert main(["recognize", f"{inks_file}:0", "--image", "--nbest", "2", "--model", run]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "--nbest" in err


@pytest.mark.parametrize("width", [True, False])
@pytest.mark.parametrize("shape", [(3, 4, 48, 20), (2, 5, 13, 9)])
def test_halving_max_pool_is_max_pool_2d(width, shape):
    x = torch.randn(*shape, requires_grad=True)
    want = torch.nn.MaxPool2d((2, 2) if width else (2, 1))(x)
    got = HalvingMaxPool(width)(x)
    assert torch.equal(got, want)
    got.sum().backward()  # it trains: each window's maximum gets the gradient
    assert x.grad.sum().item() == pytest.approx(want.numel())
