import json

import imageio.v3 as iio
import numpy as np
import pytest
import typer
from typer.testing import CliRunner

from inkstroke.cli.hanzi import hanzi_eval, write_hanzi
from inkstroke.errors import InkstrokeError
from inkstroke.hanzi.evaluate import IPA_MINCHO, Zinnia
from inkstroke.hanzi.generate import (
    MODEL_DIR,
    HanziGenerator,
    consensus,
    is_hanzi,
    write_characters,
)
from inkstroke.io import hanzi
from inkstroke.io.jsonink import read_json

pytestmark = pytest.mark.skipif(not (MODEL_DIR / "config.json").is_file(), reason="no shipped hanzi model")


@pytest.fixture(scope="module", autouse=True)
def fonts():
    try:
        hanzi.kaiti_font_path("永")
    except InkstrokeError as e:
        pytest.skip(str(e))


def test_is_hanzi():
    assert all(map(is_hanzi, "永字八法峠龍〇"))
    assert not any(map(is_hanzi, "aZ1あア。, "))


def test_shipped_model_writes_strokes_on_the_glyph_with_its_licence():
    assert "Arphic Public License" in (MODEL_DIR / "README.md").read_text()
    assert (MODEL_DIR / "ARPHICPL.TXT").is_file()
    gen = HanziGenerator.load()
    assert gen.conditioning == "glyph"
    ink = gen.write("永")[0]
    assert ink.units == "mmah1024" and ink.y_axis == "up" and ink.text == "永"
    ref = hanzi.character_ink("永")
    assert len(ink.strokes) == len(ref.strokes)
    for mine, theirs in zip(ink.strokes, ref.strokes):  # same strokes, same order, same way
        assert np.linalg.norm(mine[0] - theirs[0]) < 120 and np.linalg.norm(mine[-1] - theirs[-1]) < 120


def test_consensus_keeps_the_stroke_count_most_views_agree_on_and_the_central_one():
    import torch

    line = torch.linspace(0, 1, 10)
    stroke = torch.stack([line, torch.zeros(10)], dim=1)  # (P, 2)
    three = torch.stack([stroke, stroke + 0.3, stroke + 0.6])
    candidates = [three[:2], three + 0.02, three - 0.01, three + 0.005]  # a slip: one stroke skipped
    assert consensus(candidates) is candidates[3]  # three strokes, nearest the other two
    assert consensus(candidates[:1]) is candidates[0]


def test_views_are_checked_and_one_view_is_the_plain_glyph():
    gen = HanziGenerator.load()
    for bad in (0, 10):
        with pytest.raises(InkstrokeError, match="views"):
            gen.write("永", views=bad)
    one, nine = gen.write("永", views=1)[0], gen.write("永", views=9)[0]
    assert len(one.strokes) == len(nine.strokes)  # the shifts are undone: the same character, in place
    for a, b in zip(one.strokes, nine.strokes):
        assert np.abs(a - b).max() < 60


def test_written_characters_are_read_by_zinnia():
    try:
        z = Zinnia("zh")
    except InkstrokeError as e:
        pytest.skip(str(e))
    chars = "永字八法中国人大"
    inks = write_characters(chars)
    assert sum(z.classify(ink)[0] == c for ink, c in zip(inks, chars)) >= 6


def test_write_svg_png_gif_json(tmp_path):
    svg = write_hanzi("永字\n八法", tmp_path / "a.svg")[0]
    text = svg.read_text()
    assert text.count("<path") >= 5 + 6 + 2 + 8 - 4 and 'width="' in text and "mm" in text
    png = write_hanzi("永字八法", tmp_path / "a.png", direction="columns")[0]
    h, w = iio.imread(png).shape[:2]
    assert h > 2 * w  # one column of four
    gif = write_hanzi("永", tmp_path / "a.gif")[0]
    frames = iio.imread(gif, index=None)
    ink_per_frame = [(f[..., 0] < 128).sum() for f in frames]
    assert len(frames) > 10 and ink_per_frame == sorted(ink_per_frame)  # strokes appear in order
    assert ink_per_frame[0] < ink_per_frame[-1] / 3
    js = write_hanzi("永字", tmp_path / "a.json")[0]
    back = read_json(js)
    assert back.units == "mm" and len(back.strokes) >= 8


def test_write_from_another_font(tmp_path):
    if not IPA_MINCHO.is_file():
        pytest.skip("IPA Mincho is not installed")
    out = write_hanzi("峠", tmp_path / "t.json", font=IPA_MINCHO)[0]
    assert len(read_json(out).strokes) >= 5


def test_bad_input_gets_a_clear_error_and_leaves_no_file(tmp_path):
    out = tmp_path / "x.svg"
    with pytest.raises(InkstrokeError, match="the text is empty"):
        write_hanzi("  \n", out)
    with pytest.raises(InkstrokeError, match=r"'a' \(U\+0061, not a CJK ideograph\)"):
        write_hanzi("永a字", out)
    with pytest.raises(InkstrokeError, match="not in the font"):
        write_hanzi("永\U00030000", out)  # CJK Extension G: no Kaiti has it
    with pytest.raises(InkstrokeError, match="no such font file"):
        write_hanzi("永", out, font=tmp_path / "none.ttf")
    with pytest.raises(InkstrokeError, match="unknown output format"):
        write_hanzi("永", tmp_path / "x.docx")
    with pytest.raises(InkstrokeError, match="unsupported mode"):
        write_hanzi("永", out, unsupported="guess")
    with pytest.raises(InkstrokeError, match="nothing to write"):
        write_hanzi("abc", out, unsupported="skip")
    assert list(tmp_path.iterdir()) == []


def test_latin_is_skipped_or_drawn_from_the_skeleton(tmp_path):
    skipped = read_json(write_hanzi("永a", tmp_path / "s.json", unsupported="skip")[0])
    alone = read_json(write_hanzi("永", tmp_path / "t.json")[0])
    assert len(skipped.strokes) == len(alone.strokes)
    drawn = read_json(write_hanzi("永a", tmp_path / "u.json", unsupported="skeleton")[0])
    assert len(drawn.strokes) > len(alone.strokes)
    assert max(s[:, 0].max() for s in drawn.strokes) > 20 + 10  # 'a' sits in the second cell


def test_methods(tmp_path):
    medians = write_characters("永", method="medians")[0]
    assert len(medians.strokes) == 5
    skeleton = write_characters("永", method="skeleton")[0]
    assert skeleton.meta["method"] == "skeleton" and len(skeleton.strokes) >= 1
    with pytest.raises(InkstrokeError, match="unknown method"):
        write_characters("永", method="trace")


def test_eval_command_reports_both_judgements(tmp_path):
    app = typer.Typer()
    app.command()(hanzi_eval)
    out = tmp_path / "r.json"
    result = CliRunner().invoke(app, ["--chars", "永字", "-o", str(out)])
    assert result.exit_code == 0, result.output
    report = json.loads(out.read_text())
    assert report["n"] == 2 and report["set"] == "chars"
    assert report["reference"]["top1"] == 1.0 and 0 <= report["generated"]["top1"] <= 1
    assert set(report["agreement"]) == {"count", "order_exact", "order_pairs"}
    assert json.loads(result.output) == report


def test_write_command_lays_out_columns(tmp_path):
    from inkstroke.cli.main import main

    out = tmp_path / "cols.png"
    assert main(["write", "永字八法", "--script", "hanzi", "--columns", "--per-line", "2", "-o", str(out)]) == 0
    h, w = iio.imread(out).shape[:2]
    assert 0.8 < h / w < 1.25  # two columns of two
    assert main(["write", "永字八法", "--script", "hanzi", "-o", str(tmp_path / "rows.png")]) == 0
    h, w = iio.imread(tmp_path / "rows.png").shape[:2]
    assert w > 2 * h  # one row of four


def test_shipped_model_writes_held_out_characters_zinnia_reads():
    from inkstroke.hanzi.evaluate import character_set, spread

    try:
        z = Zinnia("zh")
    except InkstrokeError as e:
        pytest.skip(str(e))
    pool, _, _ = character_set("held-out")  # never in the model's training data
    chars = spread(pool, 40)
    read = sum(z.classify(ink)[:1] == [c] for ink, c in zip(write_characters(chars), chars))
    assert read >= 20, f"Zinnia read {read} of 40 held-out characters (72% measured on all 672)"


def test_eval_of_a_set_in_another_font_leaves_out_what_the_font_lacks(tmp_path):
    if not IPA_MINCHO.is_file():
        pytest.skip("IPA Mincho is not installed")
    app = typer.Typer()
    app.command()(hanzi_eval)
    out = tmp_path / "r.json"
    result = CliRunner().invoke(app, ["--set", "held-out", "-n", "12", "--font", str(IPA_MINCHO), "-o", str(out)])
    assert result.exit_code == 0, result.output
    report = json.loads(out.read_text())
    assert report["n"] + len(report.get("not_in_font", "")) == 12 and report["n"] > 0
    assert report["font"] == str(IPA_MINCHO) and "top1" in report["reference"]


def test_train_refuses_a_file_that_is_not_a_font_before_building_the_dataset(tmp_path, capsys):
    from inkstroke.cli.main import main

    garbage = tmp_path / "garbage.ttf"
    garbage.write_bytes(b"not a font at all")
    data = tmp_path / "hanzi.npz"
    args = ["train-hanzi", "--out", str(tmp_path / "run"), "--data", str(data), "--other-font", str(garbage)]
    assert main(args) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "garbage.ttf: not a TrueType/OpenType font" in err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["garbage.ttf"]  # no dataset, no run
