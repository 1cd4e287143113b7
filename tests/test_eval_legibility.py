"""Legibility judge: edit distances, CER/WER, Tesseract on rendered lines, the eval command."""

import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

from conftest import REAL_UNIPEN
from inkstroke.cli.main import main
from inkstroke.errors import InkstrokeError
from inkstroke.eval.legibility import (
    JudgeResult,
    _edit_kinds,
    levenshtein,
    ocr_image,
    read_lines,
    reference_lines,
    structural_rates,
    tesseract_available,
)
from inkstroke.io.hershey import hershey_ink

needs_tesseract = pytest.mark.skipif(not tesseract_available(), reason="tesseract is not installed")


def test_levenshtein_known_values():
    assert levenshtein("kitten", "sitting") == 3
    assert levenshtein("", "abc") == levenshtein("abc", "") == 3
    assert levenshtein("flaw", "lawn") == 2
    assert levenshtein("same", "same") == 0
    assert levenshtein("the cat sat".split(), "the hat sat down".split()) == 2


@given(st.text("abc ", max_size=12), st.text("abc ", max_size=12), st.text("abc ", max_size=12))
def test_levenshtein_is_a_metric_and_edit_kinds_add_up(a, b, c):
    d = levenshtein(a, b)
    assert d == levenshtein(b, a) and (d == 0) == (a == b)
    assert levenshtein(a, c) <= d + levenshtein(b, c)
    assert abs(len(a) - len(b)) <= d <= max(len(a), len(b))
    s, dele, ins = _edit_kinds(a, b)
    assert s + dele + ins == d and ins - dele == len(b) - len(a)


def test_cer_wer_and_error_kinds():
    r = JudgeResult("t", ["hello world", "abc"], ["Helo world!", "abc"])
    # H for h (1), a deleted l (1), an inserted ! (1) over 14 reference characters
    assert r.cer == pytest.approx(3 / 14)
    assert r.cer_nocase == pytest.approx(2 / 14)
    assert r.wer == pytest.approx(2 / 3)
    assert r.error_kinds() == pytest.approx({"substitutions": 1 / 14, "deletions": 1 / 14,
                                             "insertions": 1 / 14})
    s = r.summary()
    assert s["lines"] == 2 and s["cer"] == round(3 / 14, 4) and s["judge"].startswith("tesseract")
    empty = JudgeResult("t", ["abc"], [""])
    assert empty.cer == 1.0 and empty.wer == 1.0


@needs_tesseract
def test_tesseract_reads_a_rendered_hershey_line():
    texts = ["hello world", "The quick brown fox"]
    images = [ocr_image(hershey_ink(t)) for t in texts]
    assert images[0].mode == "L" and images[0].height < 100
    result = JudgeResult("hershey", texts, read_lines(images))
    assert result.cer <= 0.1, result.hyps
    # the judge is no push-over: a scribble does not read as the text
    scribble = hershey_ink("~~~ ~~~")
    assert JudgeResult("noise", ["hello world"], read_lines([ocr_image(scribble)])).cer > 0.5


@pytest.fixture(scope="module")
def line_data(tmp_path_factory):
    """Real UNIPEN text lines of one writer, as the validation split."""
    if not (REAL_UNIPEN / "data" / "8" / "art").is_dir():
        pytest.skip(f"the UNIPEN dataset is not extracted at {REAL_UNIPEN}")
    from inkstroke.io.container import write_inks
    from inkstroke.io.unipen import iter_unipen

    files = sorted((REAL_UNIPEN / "data" / "8" / "art").rglob("*.dat"))
    inks = list(iter_unipen(files[0], report=[]))
    path = tmp_path_factory.mktemp("lines") / "lines.inks"
    write_inks(path, inks, ["valid"] * len(inks))
    return path


def test_reference_lines_are_single_lines_of_the_split(line_data):
    lines = reference_lines(line_data, n=3)
    assert len(lines) == 3
    for ink in lines:
        x0, y0, x1, y1 = ink.bounds()
        assert len(ink.text.split()) >= 2 and (x1 - x0) > 2.5 * (y1 - y0)
    with pytest.raises(InkstrokeError, match="only"):
        reference_lines(line_data, n=500)
    with pytest.raises(InkstrokeError, match="only 0"):
        reference_lines(line_data, n=1, split="test")


@needs_tesseract
def test_eval_command_reports_both_sides(line_data, tiny_run, tmp_path, capsys):
    out = tmp_path / "report.json"
    images = tmp_path / "images"
    assert main(["eval", "legibility", "--data", str(line_data), "-n", "2", "--model", str(tiny_run),
                 "-o", str(out), "--images", str(images)]) == 0
    report = json.loads(out.read_text())
    assert json.loads(capsys.readouterr().out) == report
    human, generated = report["human"], report["generated"]
    assert human["lines"] == generated["lines"] == 2
    for side in (human, generated):
        assert 0 <= side["cer"] and 0 <= side["wer"]
        assert side["cer"] == pytest.approx(side["substitutions"] + side["deletions"] + side["insertions"],
                                            abs=2e-4)
    assert 0 <= generated["missing_word_rate"] <= 1 and 0 <= generated["trailing_gibberish_rate"] <= 1
    assert generated["words"] >= 4
    # the model's own defaults, as write resolved them (the tiny run records none: write's)
    assert report["settings"]["temperature"] == 0.6 and report["settings"]["guidance"] == 1.5
    assert report["settings"]["candidates"] >= 1
    refs = {ink.text for ink in reference_lines(line_data, n=2)}
    assert {e["text"] for e in report["examples"]} == refs
    assert all({"human_read", "generated_read"} <= set(e) for e in report["examples"])
    assert sorted(p.name for p in images.iterdir()) == ["generated-0.png", "generated-1.png", "human-0.png",
                                                        "human-1.png"]


def test_eval_command_without_tesseract_or_data_fails_cleanly(tmp_path, capsys):
    assert main(["eval", "legibility", "--data", str(tmp_path / "none.inks"), "-n", "2"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "none.inks" in err


@needs_tesseract
def test_both_judges_read_the_same_lines(line_data, tiny_run, tmp_path):
    out = tmp_path / "both.json"
    assert main(["eval", "legibility", "--data", str(line_data), "-n", "2", "--model", str(tiny_run),
                 "--judge", "both", "--candidates", "1", "-o", str(out)]) == 0
    report = json.loads(out.read_text())
    assert set(report["judges"]) == {"tesseract", "recogniser"}
    assert report["human"] == report["judges"]["tesseract"]["human"]
    rec = report["judges"]["recogniser"]
    assert rec["human"]["judge"].startswith("inkstroke recogniser") and rec["generated"]["lines"] == 2
    # the same texts under both judges
    assert [e["text"] for e in rec["examples"]] == [e["text"] for e in report["examples"]]
    assert main(["eval", "legibility", "--data", str(line_data), "-n", "2", "--judge", "ocr"]) == 2


def test_structural_rates_count_cut_off_words_but_not_narrow_signs():
    from inkstroke.write.api import load_generator

    tok = load_generator().text_tok

    def word(text: str) -> "object":  # set in a print font, body height about 1
        return hershey_ink(text).y_down().normalized(1.0)

    whole = [(w, word(w)) for w in ("conversation", "began", ";", "/", "1")]
    assert structural_rates(whole, tok)["missing_word_rate"] == 0.0
    cut = [("conversation", word("co")), ("began", word("began")), (";", word(";").copy(strokes=[]))]
    assert structural_rates(cut, tok)["missing_word_rate"] == pytest.approx(2 / 3, abs=1e-3)
