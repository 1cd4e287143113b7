import pytest
import torch

from inkstroke.errors import InkstrokeError
from inkstroke.hanzi.model import HanziConfig
from inkstroke.hanzi.train import STATE, TrainConfig, load_writer, train

TINY = dict(d_model=32, n_head=2, n_dec=2, d_ff=64, channels=(8, 16), max_strokes=32, points=10)


class Stop(Exception):
    pass


def test_an_interrupted_run_resumes_to_the_same_weights(small_hanzi, tmp_path):
    cfg = dict(steps=6, batch=2, eval_every=2, warmup=2)
    train(small_hanzi, tmp_path / "whole", HanziConfig(**TINY), TrainConfig(**cfg), log=lambda *_: None)

    def interrupt(step: int) -> None:
        if step == 5:
            raise Stop

    with pytest.raises(Stop):
        train(small_hanzi, tmp_path / "cut", HanziConfig(**TINY), TrainConfig(**cfg), log=lambda *_: None,
              progress=interrupt)
    assert (tmp_path / "cut" / STATE).is_file() and load_writer(tmp_path / "cut")[1]["step"] == 4
    lines: list[str] = []
    train(small_hanzi, tmp_path / "cut", HanziConfig(**TINY), TrainConfig(**cfg), log=lines.append, resume=True)
    assert any("resuming" in line and "step 5" in line for line in lines)
    whole, meta = load_writer(tmp_path / "whole")
    resumed, meta_resumed = load_writer(tmp_path / "cut")
    assert meta_resumed["step"] == 6 and meta_resumed["chars_seen"] == meta["chars_seen"]
    for (name, a), b in zip(whole.state_dict().items(), resumed.state_dict().values(), strict=True):
        torch.testing.assert_close(a, b, msg=name)
    assert meta["command"] and meta["hardware"]["machine"] and meta["saved"]
    (tmp_path / "cut" / STATE).write_bytes(b"not a state")
    with pytest.raises(InkstrokeError, match="corrupt training state"):
        train(small_hanzi, tmp_path / "cut", HanziConfig(**TINY), TrainConfig(**cfg), log=lambda *_: None, resume=True)
