import json

import pytest
import torch

from inkstroke.errors import InkstrokeError
from inkstroke.hanzi.model import HanziConfig, HanziWriter
from inkstroke.hanzi.train import load_writer, save_writer

TINY = dict(d_model=32, n_head=2, n_dec=2, d_ff=64, channels=(8, 16), max_strokes=6, points=4)


def toy_batch(n: int = 4) -> dict:
    """Glyphs of n horizontal bars; each character is its bars, top to bottom."""
    images = torch.zeros(n, 2, 64, 64)
    strokes = torch.zeros(n, 3, 4, 2)
    counts = torch.tensor([1 + k % 3 for k in range(n)])
    for k in range(n):
        for i in range(int(counts[k])):
            row = 12 + 18 * i
            images[k, :, row : row + 3, 10:54] = 1
            y = (row + 1.5) / 64
            strokes[k, i] = torch.stack([torch.linspace(10 / 64, 54 / 64, 4), torch.full((4,), y)], -1)
    return {"images": images, "strokes": strokes, "counts": counts}


def test_loss_and_shapes():
    torch.manual_seed(0)
    model = HanziWriter(HanziConfig(**TINY))
    batch = toy_batch()
    loss, parts = model.loss(batch)
    assert loss.ndim == 0 and set(parts) == {"end", "pointer", "pointer_end", "shape"}
    memory = model.encode(batch["images"])
    assert memory.shape == (4, 16 * 16, 32)
    h = model.decode(memory, batch["strokes"])
    assert h.shape == (4, 4, 32)  # BOS + one state per given stroke


def decoded_toy():
    """A tiny writer in eval mode, a toy batch, its memory and its decoder states."""
    torch.manual_seed(0)
    model = HanziWriter(HanziConfig(**TINY)).eval()
    batch = toy_batch(3)
    memory = model.encode(batch["images"])
    return model, batch, memory, model.decode(memory, batch["strokes"])


def test_decoder_is_causal():
    model, batch, memory, before = decoded_toy()
    changed = batch["strokes"].clone()
    changed[:, 2] += 0.3
    after = model.decode(memory, changed)
    torch.testing.assert_close(before[:, :3], after[:, :3])  # states before stroke 2 is seen
    assert not torch.allclose(before[:, 3], after[:, 3])


def test_cell_of_matches_the_cell_centres():
    model = HanziWriter(HanziConfig(**TINY))
    assert model.cell_of(model.cell_xy).tolist() == list(range(16 * 16))
    assert model.cell_of(torch.tensor([[-0.2, 1.3]])).tolist() == [15 * 16]  # clamped to the grid


def test_overfits_toy_glyphs_and_writes_them_back():
    torch.manual_seed(0)
    model = HanziWriter(HanziConfig(**TINY))
    batch = toy_batch()
    opt = torch.optim.AdamW(model.parameters(), lr=3e-3)
    for _ in range(300):
        loss, _ = model.loss(batch)
        opt.zero_grad()
        loss.backward()
        opt.step()
    model.eval()
    written = model.generate(images=batch["images"])
    for k, strokes in enumerate(written):
        n = int(batch["counts"][k])
        assert strokes.shape == (n, 4, 2)
        assert (strokes - batch["strokes"][k, :n]).abs().max() < 0.06  # within about 4 pixels


def test_char_id_ablation_takes_ids_not_images():
    model = HanziWriter(HanziConfig(conditioning="char_id", n_chars=5, **TINY)).eval()
    batch = toy_batch(2)
    del batch["images"]
    batch["char_ids"] = torch.tensor([1, 4])
    loss, _ = model.loss(batch)
    assert torch.isfinite(loss)
    assert len(model.generate(char_ids=torch.tensor([2]))) == 1
    with pytest.raises(ValueError, match="conditioning"):
        HanziWriter(HanziConfig(conditioning="pinyin"))


def test_checkpoint_round_trip_and_clear_errors(tmp_path):
    torch.manual_seed(0)
    model = HanziWriter(HanziConfig(**TINY)).eval()
    save_writer(tmp_path / "ck", model, {"step": 3})
    back, meta = load_writer(tmp_path / "ck")
    assert meta["step"] == 3 and back.cfg == model.cfg
    images = toy_batch(2)["images"]
    for a, b in zip(model.generate(images=images), back.generate(images=images)):
        torch.testing.assert_close(a, b)
    with pytest.raises(InkstrokeError, match="no config.json"):
        load_writer(tmp_path)
    config = tmp_path / "ck" / "config.json"
    meta["model"]["d_model"] = 48
    config.write_text(json.dumps(meta))
    with pytest.raises(InkstrokeError, match="not fitting the config"):
        load_writer(tmp_path / "ck")
    config.write_text("{")
    with pytest.raises(InkstrokeError, match="corrupt"):
        load_writer(tmp_path / "ck")


def test_cached_steps_match_the_full_decoder():
    model, batch, memory, full = decoded_toy()
    cache = model.new_cache()
    with torch.no_grad():
        steps = [model.decode_step(memory, batch["strokes"][:, t - 1] if t else None, t, cache)
                 for t in range(4)]
    torch.testing.assert_close(torch.cat(steps, dim=1), full, atol=1e-5, rtol=1e-4)
