from pathlib import Path

import numpy as np
import pytest

from inkstroke.errors import InkstrokeError
from inkstroke.hanzi import evaluate
from inkstroke.ink import Ink
from inkstroke.io import hanzi

HANZI = Path(__file__).parent / "fixtures" / "hanzi"


def zinnia(judge: str = "zh") -> evaluate.Zinnia:
    try:
        return evaluate.Zinnia(judge)
    except InkstrokeError as e:
        pytest.skip(str(e))


def test_model_classes_are_read_from_the_model_file():
    zinnia()
    zh = evaluate.zinnia_classes("zh")
    assert len(zh) == 6763 and zh[0] == "一" and "永" in zh  # GB2312's hanzi
    ja = evaluate.zinnia_classes("ja")
    assert "峠" in ja and "あ" in ja


def test_zinnia_reads_reference_medians():
    z = zinnia()
    for char in "永口":
        answers = z.classify(hanzi.character_ink(char, HANZI))
        assert answers[0] == char and len(answers) == 5


def test_zinnia_cares_about_stroke_order():
    z = zinnia()
    ink = hanzi.character_ink("永", HANZI)
    backwards = ink.copy(strokes=ink.strokes[::-1])
    assert z.classify(backwards)[0] != "永"
    assert z.classify(ink.copy(strokes=[])) == []
    with pytest.raises(InkstrokeError, match="mmah1024"):
        z.classify(ink.copy(units="mm"))


def test_missing_model_is_a_clear_error(tmp_path):
    with pytest.raises(InkstrokeError, match="no such Zinnia model"):
        evaluate.Zinnia(tmp_path / "none.model")
    bad = tmp_path / "bad.model"
    bad.write_bytes(b"\0" * 64)
    zinnia()
    with pytest.raises(InkstrokeError, match="cannot open"):
        evaluate.Zinnia(bad)


def test_stroke_agreement():
    ink = hanzi.character_ink("永", HANZI)
    assert evaluate.stroke_agreement(ink, ink) == {"count": 1.0, "order_exact": 1.0, "order_pairs": 1.0}
    swapped = ink.copy(strokes=[ink.strokes[1], ink.strokes[0], *ink.strokes[2:]])
    got = evaluate.stroke_agreement(swapped, ink)
    assert got["count"] == 1.0 and got["order_exact"] == 0.0
    assert got["order_pairs"] == pytest.approx(9 / 10)  # one of the 10 pairs is reversed
    fewer = ink.copy(strokes=ink.strokes[:3])
    assert evaluate.stroke_agreement(fewer, ink) == {"count": 0.0, "order_exact": 0.0, "order_pairs": 1.0}
    empty = Ink([], units="mmah1024", y_axis="up")
    assert evaluate.stroke_agreement(empty, ink)["order_pairs"] == 0.0


def test_judge_reports_both_sides_and_the_ratio():
    z = zinnia()
    refs = [hanzi.character_ink(c, HANZI) for c in "永口"]
    shuffled = [refs[0].copy(strokes=refs[0].strokes[::-1]), refs[1]]
    report = evaluate.judge(shuffled, list("永口"), z, refs)
    assert report["reference"]["top1"] == 1.0
    assert report["generated"]["top1"] == 0.5 and report["generated"]["misread"] == "永"
    assert report["top1_ratio"] == 0.5
    assert report["agreement"]["count"] == 1.0 and report["agreement"]["order_exact"] == 0.5
    with pytest.raises(InkstrokeError, match="one ink"):
        evaluate.judge(refs, ["永"], z)


def test_character_sets_are_what_they_say():
    zinnia("ja")
    held, judge, font = evaluate.character_set("held-out")
    assert judge == "zh" and font is None and 600 < len(held) < 760
    train, _, _ = evaluate.character_set("train")
    assert not set(held) & set(train)
    data = set(hanzi.available_characters())
    if not evaluate.IPA_MINCHO.is_file():
        pytest.skip("IPA Mincho is not installed")
    japanese, judge, font = evaluate.character_set("japanese")
    assert judge == "ja" and font == evaluate.IPA_MINCHO
    assert "峠" in japanese and "図" in japanese and not set(japanese) & data
    with pytest.raises(InkstrokeError, match="unknown character set"):
        evaluate.character_set("cantonese")


def test_spread_is_an_even_fixed_sample():
    chars = list("abcdefghij")
    assert evaluate.spread(chars, 3) == ["a", "e", "j"]
    assert evaluate.spread(chars, 0) == chars and evaluate.spread(chars, 50) == chars
    assert np.unique(evaluate.spread(chars, 10)).size == 10
