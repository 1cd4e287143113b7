"""Shared fixtures for the model stack: real word inks, a token cache, a tiny checkpoint.

The words are real UNIPEN handwriting from the extracted dataset when it is
present (two writers: one for train, one for valid). Without it they fall back
to Hershey script words, jittered so that no two are alike, plus the inks of
the UNIPEN fixture in ``tests/fixtures/unipen``: enough to fit bins and train
a tiny model, so the tests still run on a fresh machine.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest

from inkstroke.ink import Ink

FIXTURES = Path(__file__).parent / "fixtures"
REAL_UNIPEN = Path.home() / ".cache" / "inkstroke" / "unipen" / "train_r01_v07"
REPO = Path(__file__).resolve().parent.parent
TINY_CONFIG = REPO / "configs" / "tiny.toml"
TINY_STEPS = 40

FALLBACK_WORDS = ("the quick brown fox jumps over a lazy dog while seven wizards hum and "
                  "pack my box with five dozen liquor jugs Sphinx of black quartz judge "
                  "vow how vexingly quick daft zebras jump").split()


def _real_words() -> tuple[list[Ink], list[str]] | None:
    """A train writer (IBM) and a valid writer (another site), as labelled words."""
    from inkstroke.io.unipen import iter_unipen

    cat7 = REAL_UNIPEN / "data" / "7"
    parts = []
    for site, split in (("ibm", "train"), ("par", "valid")):
        files = sorted((cat7 / site).rglob("*.dat")) if (cat7 / site).is_dir() else []
        if not files:
            return None
        inks = [ink for ink in iter_unipen(files[0], report=[]) if ink.text and ink.num_points > 10]
        parts.append((inks, split))
    inks = [ink for part, _ in parts for ink in part]
    return inks, [split for part, split in parts for _ in part]


def _fallback_words() -> tuple[list[Ink], list[str]]:
    from inkstroke.io.hershey import hershey_ink
    from inkstroke.io.unipen import iter_unipen

    rng = np.random.default_rng(0)
    inks, splits = [], []
    for k in range(3):
        for w in FALLBACK_WORDS:
            ink = hershey_ink(w, font="scripts")
            shear = np.array([[1.0, rng.uniform(-0.3, 0.1)], [0.0, rng.uniform(0.9, 1.1)]])
            strokes = [s @ shear.T + rng.normal(0, 0.15, s.shape) for s in ink.strokes]
            inks.append(ink.copy(strokes=strokes, writer=f"hershey-{k}"))
            splits.append("valid" if k == 2 else "train")
    fixture = [ink for ink in iter_unipen(FIXTURES / "unipen", report=[]) if ink.text]
    return inks + fixture, splits + ["train"] * len(fixture)


@pytest.fixture(scope="session")
def words() -> tuple[list[Ink], list[str]]:
    """Labelled word inks and their splits (writer-disjoint)."""
    return _real_words() or _fallback_words()


@pytest.fixture(scope="session")
def inks_file(tmp_path_factory, words) -> Path:
    from inkstroke.io.container import write_inks

    path = tmp_path_factory.mktemp("data") / "words.inks"
    write_inks(path, *words)
    return path


@pytest.fixture(scope="session")
def token_cache(tmp_path_factory, inks_file) -> Path:
    """A token cache made by :func:`prepare_tokens`, as ``inkstroke train`` makes it."""
    from inkstroke.train.prepare import prepare_tokens

    path = tmp_path_factory.mktemp("tokens") / "tokens.npz"
    prepare_tokens(inks_file, path, progress=False)
    return path


@pytest.fixture(scope="session")
def tiny_run(tmp_path_factory, token_cache) -> Path:
    """A checkpoint of ``configs/tiny.toml`` trained for a few dozen steps (read-only:
    tests that change it use ``tiny_run_copy``)."""
    from inkstroke.train.loop import load_config, train

    run = tmp_path_factory.mktemp("runs") / "tiny"
    train(token_cache, load_config(TINY_CONFIG, {"steps": TINY_STEPS}), run, quiet=True, log=False)
    return run


@pytest.fixture
def tiny_run_copy(tmp_path, tiny_run) -> Path:
    """A writable copy of the tiny run, for tests that change or break it."""
    return Path(shutil.copytree(tiny_run, tmp_path / "run"))


@pytest.fixture(scope="session")
def tiny_generator(tiny_run):
    from inkstroke.sample.generate import Generator

    return Generator.from_checkpoint(tiny_run)


@pytest.fixture(scope="session")
def tiny_recognizer(tmp_path_factory, token_cache) -> Path:
    """A recogniser checkpoint trained for a few dozen steps on the word cache."""
    from inkstroke.recognize.model import RecognizerConfig
    from inkstroke.recognize.train import RecognizerTrainConfig, train_recognizer

    run = tmp_path_factory.mktemp("runs") / "recognizer"
    cfg = RecognizerTrainConfig(steps=30, max_tokens=2048, warmup=5, eval_every=30, save_every=30,
                                model=RecognizerConfig(d_model=48, n_head=2, n_layers=1, d_ff=96))
    train_recognizer(token_cache, cfg, run, quiet=True)
    return run


@pytest.fixture(scope="session")
def small_hanzi():
    """A hanzi dataset of four characters (永十口說) built from the fixtures' stroke data."""
    from inkstroke.hanzi import data

    for font in (data.GKAI, data.UKAI):
        if not font.is_file():
            pytest.skip(f"{font} is not installed")
    return data.build_dataset(Path(__file__).parent / "fixtures" / "hanzi", chars=["永", "十", "口", "說"])
