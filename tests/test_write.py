"""inkstroke write: page layout, the Python API, every output format, bad input, the shipped model."""

import json
import os
import re

import numpy as np
import pytest
import torch
from PIL import Image

import inkstroke
from inkstroke.cli.main import main
from inkstroke.errors import InkstrokeError
from inkstroke.ink import Ink
from inkstroke.io import read_ink
from inkstroke.io.jsonink import write_json
from inkstroke.render import SUFFIXES
from inkstroke.write.api import (
    DEFAULT_GUIDANCE,
    DEFAULT_TEMPERATURE,
    MAX_INNER_GAP,
    MODEL_DIR,
    last_word_primer,
    load_style,
    page_paths,
    prepare_text,
    save_document,
    split_words,
)
from inkstroke.write.layout import PageLayout, parse_page, wrap

torch.set_num_threads(1)  # two cores, shared: more threads only contend

SMALL_PAGE = PageLayout(page=(70.0, 45.0), margin=5.0, x_height=3.0)
TEXT = "the quick brown fox jumps over the lazy dog"


@pytest.fixture(scope="module")
def model(tiny_run) -> str:
    return str(tiny_run)


@pytest.fixture(scope="module")
def long_doc(model):
    return inkstroke.write(" ".join([TEXT] * 3), model=model, layout=SMALL_PAGE, seed=1)


def all_placements(positions):
    return [p for para in positions for p in para]


# ---------------------------------------------------------------- layout
def test_wrap_never_crosses_the_margin_and_fills_pages_in_order():
    rng = np.random.default_rng(0)
    layout = PageLayout(page="a6", margin=10.0, x_height=3.0)
    pw, ph = layout.size()
    paragraphs = [rng.uniform(3, 30, rng.integers(1, 40)).tolist() for _ in range(8)]
    positions = wrap(paragraphs, layout)
    assert [len(p) for p in positions] == [len(p) for p in paragraphs]
    flat_w = [w for p in paragraphs for w in p]
    flat = all_placements(positions)
    for p, w in zip(flat, flat_w):
        assert p.x >= layout.margin - 1e-9 and p.x + w <= pw - layout.margin + 1e-9
        assert layout.margin < p.baseline <= ph - layout.margin
    order = [(p.page, p.baseline, p.x) for p in flat]
    assert order == sorted(order)  # reading order: pages, then lines, then words
    assert max(p.page for p in flat) >= 2
    # each paragraph starts on a new line
    starts = [para[0].line for para in positions]
    ends = [para[-1].line for para in positions]
    assert all(s == e + 1 for s, e in zip(starts[1:], ends[:-1]))
    # greedy: the first word of each line would not have fitted on the line before
    usable = pw - 2 * layout.margin
    gap = layout.word_spacing * layout.x_height
    for para, widths in zip(positions, paragraphs):
        for i in range(1, len(para)):
            if para[i].line != para[i - 1].line:
                line_start = next(j for j in range(i) if para[j].line == para[i - 1].line)
                used = sum(widths[line_start:i]) + gap * (i - line_start)
                assert used + widths[i] > usable


def test_blank_lines_between_paragraphs():
    layout = PageLayout()
    a, blank, b = wrap([[10.0], [], [10.0]], layout)
    assert blank == [] and b[0].line == a[0].line + 2


@pytest.mark.parametrize("align", ["left", "right", "center", "justify"])
def test_alignment(align):
    layout = PageLayout(page=(100.0, 100.0), margin=10.0, x_height=2.0, align=align)
    widths = [[12.0] * 12]
    (placed,) = wrap(widths, layout)
    lines = sorted({p.line for p in placed})
    assert len(lines) >= 3
    for line in lines:
        row = [p for p in placed if p.line == line]
        left, right = row[0].x, row[-1].x + 12.0
        last = line == lines[-1]
        if align == "left" or (align == "justify" and last):
            assert left == pytest.approx(10.0)
        if align == "right":
            assert right == pytest.approx(90.0)
        if align == "center":
            assert left - 10.0 == pytest.approx(90.0 - right)
        if align == "justify" and not last:
            assert left == pytest.approx(10.0) and right == pytest.approx(90.0)


def test_layout_errors():
    assert parse_page("A5") == "a5" and parse_page("100x150") == (100.0, 150.0)
    with pytest.raises(InkstrokeError, match="page size"):
        parse_page("huge")
    for bad, message in [(PageLayout(align="middle"), "alignment"), (PageLayout(page="b9"), "page size"),
                         (PageLayout(page=(30.0, 30.0), margin=14.0), "no room"),
                         (PageLayout(x_height=0.0), "positive"), (PageLayout(word_spacing=-1.0), "word spacing")]:
        with pytest.raises(InkstrokeError, match=message):
            bad.check()


# ---------------------------------------------------------------- text preparation
def test_unsupported_characters_are_listed_replaced_or_transliterated():
    supported = {chr(c) for c in range(32, 127)}
    with pytest.raises(InkstrokeError) as err:
        prepare_text("caf\u00e9 \u65e5 ok", supported)
    assert "'\u00e9' (U+00E9)" in str(err.value) and "'\u65e5' (U+65E5)" in str(err.value)
    assert "--unsupported" in str(err.value)
    assert prepare_text("caf\u00e9 \u65e5 ok", supported, "replace") == "caf? ? ok"
    assert prepare_text("caf\u00e9 \u2013 ok", supported, "transliterate") == "cafe - ok"
    # no ASCII form: kept visible as "?", never dropped silently
    assert prepare_text("\u65e5\u672c ok", supported, "transliterate") == "?? ok"
    assert prepare_text("\u201cso\u201d  far\r\nnext", supported) == '"so" far\nnext'
    with pytest.raises(InkstrokeError, match="empty"):
        prepare_text(" \n\t ", supported)
    with pytest.raises(InkstrokeError, match="unknown --unsupported"):
        prepare_text("ok", supported, "ignore")


def test_stray_strokes_are_trimmed_and_scribbles_refused():
    from inkstroke.ink import Ink
    from inkstroke.write.api import _acceptable, _trim

    word = [np.array([[0.0, 0.0], [0.5, -0.5], [1.0, 0.0]]), np.array([[1.2, 0.0], [2.0, -0.4]])]
    far_right = np.array([[9.0, 0.0], [9.5, -0.3]])
    far_below = np.array([[1.0, 6.0], [1.5, 6.5]])
    ink = Ink(word + [far_right, far_below], y_axis="down")
    trimmed = _trim(ink, expected_width=2.0)
    assert len(trimmed.strokes) == 2 and all(np.array_equal(a, b) for a, b in zip(trimmed.strokes, word))
    lonely = Ink([far_right], y_axis="down")  # nothing plausible left: keep what there is
    assert len(_trim(lonely, 2.0).strokes) == 1
    assert _acceptable(Ink(word, y_axis="down"), 2.0)
    assert not _acceptable(ink, 2.0)  # runs on far past the word
    assert not _acceptable(Ink(word + [np.array([[1.0, 5.0], [1.1, 5.5]])], y_axis="down"), 2.0)  # too tall
    assert not _acceptable(Ink([], y_axis="down"), 2.0)


def test_gaps_inside_a_word_are_closed_up_to_the_limit():
    from inkstroke.ink import Ink
    from inkstroke.write.api import close_inner_gaps

    stem = np.array([[0.0, 0.0], [0.0, -1.0]])
    bar = np.array([[-0.3, -0.7], [0.3, -0.7]])  # overlaps the stem: moves with it
    far = np.array([[2.0, 0.0], [2.6, -0.5]])  # 1.7 after the bar
    dot = np.array([[2.3, -1.2], [2.32, -1.2]])  # over the far piece
    near = np.array([[2.8, 0.0], [3.0, -0.5]])  # 0.2 after it: kept as is, relative to it
    ink = Ink([stem, far, bar, dot, near], y_axis="down")
    out = close_inner_gaps(ink, 0.5)
    moved = [s - t for s, t in zip(out.strokes, ink.strokes)]
    assert np.allclose(moved[0], 0) and np.allclose(moved[2], 0)
    for k in (1, 3, 4):
        assert np.allclose(moved[k], [-1.2, 0.0])  # 1.7 - 0.5
    assert out.bounds()[2] == pytest.approx(3.0 - 1.2)
    assert close_inner_gaps(ink, 2.0) is ink  # nothing wider: untouched
    assert close_inner_gaps(Ink([far], y_axis="down"), 0.0).strokes[0] is far


class WidestReader:
    """A stand-in ranker with an obvious preference, to check which draw is kept:
    the wider the better, on a reader's scale (a log-likelihood, never above 0)."""

    def score(self, inks, texts):
        return np.array([-1.0 / (ink.bounds()[2] - ink.bounds()[0]) if ink.num_points > 1 else -np.inf
                         for ink in inks])


def first_draws(gen, words, n, temperature, seed, prime=None):
    """The draws generate_words makes on its first attempt: each of ``words``
    (all different) ``n`` times, with the seeds it gives them."""
    from inkstroke.write.api import WORD_MIN_STEPS, WORD_STEPS_PER_CHAR, draw_seeds

    seeds = tuple(s for w in words for s in draw_seeds(w, 0, seed, 0, n))
    return gen.generate([w for w in words for _ in range(n)], prime=prime, temperature=temperature,
                        bias=0.0, row_seeds=seeds, guidance=0.0, steps_per_char=WORD_STEPS_PER_CHAR,
                        min_steps=WORD_MIN_STEPS)


def draws_by_hand(gen, words, n, temperature, seed):
    """Per word, the trimmed first draws of generate_words and the acceptable ones."""
    from inkstroke.write.api import _acceptable, _trim

    draws = first_draws(gen, words, n, temperature, seed)
    out = []
    for k, w in enumerate(words):
        width = gen.text_tok.expected_width(w)
        mine = [_trim(d, width) for d in draws[k * n : (k + 1) * n]]
        ok = [i for i in range(n) if _acceptable(draws[k * n + i], width)] or list(range(n))
        out.append((mine, ok))
    return out


def test_sample_and_rank_keeps_the_best_read_draw(tiny_generator, model):
    from inkstroke.write.api import generate_words

    words = ["ab", "cd"]
    n = 3
    chosen = generate_words(words, tiny_generator, None, 0.8, 0.0, seed=11, retries=0, candidates=n,
                            ranker=WidestReader(), separate_letters=0.0)
    for k, (mine, ok) in enumerate(draws_by_hand(tiny_generator, words, n, 0.8, 11)):
        best = max(ok, key=lambda i: mine[i].bounds()[2] - mine[i].bounds()[0])
        assert np.array_equal(chosen[k].points(), mine[best].points())
    with pytest.raises(InkstrokeError, match="candidates"):
        inkstroke.write("x", model=model, candidates=0)


class EvenReader:
    """A stand-in ranker that reads every draw alike: only the bonus decides."""

    def score(self, inks, texts):
        return np.zeros(len(inks))


def test_between_draws_read_alike_the_one_with_letters_apart_is_kept(tiny_generator):
    from inkstroke.write.api import generate_words

    words, n = ["mum", "dad", "lollipop"], 6
    chosen = generate_words(words, tiny_generator, None, 1.0, 0.0, seed=5, retries=0, candidates=n,
                            ranker=EvenReader(), separate_letters=1.0)
    for k, (mine, ok) in enumerate(draws_by_hand(tiny_generator, words, n, 1.0, 5)):
        w = words[k]
        apart = [min(len(m.strokes) / len(w), 1.0) for m in mine]
        assert min(len(chosen[k].strokes) / len(w), 1.0) == max(apart[i] for i in ok)


def test_the_image_readers_score_joins_the_ranking(tiny_generator, model):
    """With the stroke recogniser even-handed, the image reader's choice is kept;
    at weight 0 it has no say."""
    from inkstroke.write.api import generate_words

    words, n = ["ab", "cd"], 4
    by_hand = draws_by_hand(tiny_generator, words, n, 0.8, 11)
    chosen = generate_words(words, tiny_generator, None, 0.8, 0.0, seed=11, retries=0, candidates=n,
                            ranker=EvenReader(), separate_letters=0.0, reader=WidestReader(), reader_weight=1.0)
    ignored = generate_words(words, tiny_generator, None, 0.8, 0.0, seed=11, retries=0, candidates=n,
                             ranker=EvenReader(), separate_letters=0.0, reader=WidestReader(), reader_weight=0.0)
    for k, (mine, ok) in enumerate(by_hand):
        best = max(ok, key=lambda i: mine[i].bounds()[2] - mine[i].bounds()[0])
        assert np.array_equal(chosen[k].points(), mine[best].points())
        assert np.array_equal(ignored[k].points(), mine[ok[0]].points())
    with pytest.raises(InkstrokeError, match="image_reader_weight"):
        inkstroke.write("x", model=model, image_reader_weight=-1.0)


class FewestStrokesReader:
    """A stand-in ranker that reads a draw the better the fewer strokes it has."""

    def score(self, inks, texts):
        return np.array([-float(len(ink.strokes)) for ink in inks])


def test_stroke_prefixes_cut_an_ink_after_its_first_strokes():
    from inkstroke.write.api import stroke_prefixes

    ink = Ink([np.array([[k, 0.0], [k, 1.0]]) for k in range(7)])
    assert [len(p.strokes) for p in stroke_prefixes(ink)] == [4, 5, 6]
    assert [len(p.strokes) for p in stroke_prefixes(ink, most=9)] == [1, 2, 3, 4, 5, 6]
    assert np.array_equal(stroke_prefixes(ink)[0].strokes[3], ink.strokes[3])
    assert stroke_prefixes(Ink([ink.strokes[0]])) == []


def test_a_one_character_word_may_keep_only_the_first_strokes_of_a_draw(tiny_generator):
    """A lone character's draws, and those of a word ending in a sign, compete
    with their own first strokes (the model often goes on after the sign);
    other words keep whole draws."""
    from inkstroke.write.api import (
        PREFIX_STROKES,
        _trim,
        generate_words,
    )

    words, n = ["l", "ab", "b."], 4  # a letter: a lone sign also ranks the font's sign (below)
    chosen = generate_words(words, tiny_generator, None, 1.0, 0.0, seed=5, retries=0, candidates=n,
                            ranker=FewestStrokesReader(), separate_letters=0.0)
    by_hand = draws_by_hand(tiny_generator, words, n, 1.0, 5)
    for k in (0, 2):  # cut: the fewest strokes a prefix of an acceptable draw can have
        mine, ok = by_hand[k]
        fewest = min(max(1, len(mine[i].strokes) - PREFIX_STROKES) for i in ok)
        assert len(chosen[k].strokes) == fewest
        assert any(len(mine[i].strokes) >= fewest
                   and all(np.array_equal(a, b) for a, b in zip(chosen[k].strokes, mine[i].strokes))
                   for i in ok)
    mine, ok = by_hand[1]
    assert len(chosen[1].strokes) == min(len(mine[i].strokes) for i in ok)
    assert any(np.array_equal(chosen[1].points(), mine[i].points()) for i in ok)
    # in a style (a primer) only whole draws compete
    primer = (draws_by_hand(tiny_generator, ["ab"], 1, 1.0, 0)[0][0][0], "ab")
    styled = generate_words(words, tiny_generator, primer, 1.0, 0.0, seed=5, retries=0, candidates=n,
                            ranker=FewestStrokesReader(), separate_letters=0.0)
    draws = first_draws(tiny_generator, words, n, 1.0, 5, prime=primer)
    for k, w in enumerate(words):
        whole = [_trim(d, tiny_generator.text_tok.expected_width(w)) for d in draws[k * n : (k + 1) * n]]
        assert any(np.array_equal(styled[k].points(), d.points()) for d in whole)


def test_block_capitals_split_a_word_in_capitals_into_its_letters():
    from inkstroke.write.api import block_capitals

    assert block_capitals("DOG.") == ["D", "O", "G."]
    assert block_capitals("WE'LL") == ["W", "E'", "L", "L"]
    assert block_capitals("U.S.A.") == ["U.", "S.", "A."]
    assert block_capitals('"OK"') == ['"O', 'K"']
    assert block_capitals("MP3") == ["M", "P3"]
    for word in ("Dog", "A", "A4", "1990", "iPOD", "-", "X" * 31):
        assert block_capitals(word) is None


def test_join_letters_fits_each_letter_to_the_capitals_box_a_gap_apart():
    from inkstroke.write.api import join_letters

    box = {"width": 3.0, "height": 1.5, "bottom": 0.0, "top": 1.5}
    tall = Ink([np.array([[5.0, -3.0], [5.0, 0.0]]), np.array([[5.0, -1.5], [6.0, -1.5]])], y_axis="down")
    low = Ink([np.array([[-3.0, 0.5], [-2.0, 1.0]])], y_axis="down")  # half a body high, set low
    word = join_letters([tall, low, Ink([])], box, gap=0.4)
    assert len(word.strokes) == 3
    # each letter 1.5 tall on the baseline (y = 0, y down): the small one grown threefold
    for strokes in (word.strokes[:2], word.strokes[2:]):
        ys = np.concatenate(strokes)[:, 1]
        assert (ys.min(), ys.max()) == (pytest.approx(-1.5), pytest.approx(0.0))
    assert word.bounds()[0] == 0.0 and word.strokes[2][0, 0] == pytest.approx(0.5 + 0.4)
    assert word.bounds()[2] == pytest.approx(0.5 + 0.4 + 3.0)
    assert join_letters([Ink([])], box).num_points == 0


def test_a_word_in_capitals_is_written_letter_by_letter_and_set_as_one_word(model, words, tmp_path):
    from inkstroke.write.api import join_letters, writer_sizes

    layout = PageLayout()
    doc = inkstroke.write("GO go", model=model, seed=2, layout=layout)
    assert [w for w, _ in doc.words] == ["G", "O", "go"]
    capitals = join_letters([ink for _, ink in doc.words[:2]], writer_sizes()["capitals"])
    widths = [capitals.bounds()[2] - capitals.bounds()[0], doc.words[2][1].bounds()[2] - doc.words[2][1].bounds()[0]]
    x0, _, x1, _ = doc.pages[0].bounds()
    # two words on the page, one word gap apart: "GO" set as one, at a writer's capital height
    assert x1 - x0 == pytest.approx((sum(widths) + layout.word_spacing) * layout.x_height, abs=1e-6)
    caps = np.concatenate(doc.pages[0].strokes[: len(capitals.strokes)])
    assert np.ptp(caps[:, 1]) == pytest.approx(writer_sizes()["capitals"]["height"] * layout.x_height)
    # in a style, a word in capitals is drawn whole
    sample = tmp_path / "mine.json"
    write_json(words[0][1], sample)
    styled = inkstroke.write("GO go", model=model, seed=2, style=str(sample))
    assert [w for w, _ in styled.words] == ["GO", "go"]


def test_font_sign_is_the_fonts_sign_at_an_x_height_of_one_on_the_baseline():
    import string

    from inkstroke.write.api import _baseline, font_sign

    x = font_sign("x")
    assert x.bounds()[1] == pytest.approx(-1.0) and x.bounds()[3] == pytest.approx(0.0)
    assert x.bounds()[0] == 0.0 and x.units == "normalized" and x.y_axis == "down"
    eq, under, caret = font_sign("="), font_sign("_"), font_sign("^")
    assert -1.0 < eq.bounds()[1] < eq.bounds()[3] < 0.0 and len(eq.strokes) == 2  # two bars in the body band
    assert under.bounds()[1] > 0.0  # below the baseline
    assert caret.bounds()[3] < -0.5  # high up
    # set where the font sets it, not where the median of a word's ink would put it
    assert _baseline(under) == 0.0 and _baseline(under.copy(meta={})) != pytest.approx(0.0)
    for c in string.digits + string.punctuation:
        assert font_sign(c).num_points >= 2 and font_sign(c).source == "hershey:futural"


def test_candidate_pool_offers_the_font_sign_for_a_lone_sign_or_digit():
    from inkstroke.write.api import candidate_pool, font_sign

    words, n = ["=", "7", "a", "ab", "=="], 2
    draws = [Ink([np.array([[0.0, 0.0], [1.0, -1.0]]), np.array([[0.5, 0.0], [0.5, -1.0]])]) for _ in words for _ in range(n)]
    ok = np.ones(len(draws), dtype=bool)
    c = candidate_pool(draws, words, n, ok)
    fonts = {c.texts[i] for i in range(len(c.inks)) if c.draw[i] == -1}
    assert fonts == {"=", "7"}
    for k, w in enumerate(words[:2]):
        font = [i for i in c.groups[k] if c.draw[i] == -1]
        assert len(font) == 1 and c.ok[font[0]] and np.array_equal(c.inks[font[0]].points(), font_sign(w).points())
    styled = candidate_pool(draws, words, n, ok, cuts=False)  # in a style: no cuts, the font's signs all the same
    assert [styled.texts[i] for i in range(len(styled.inks)) if styled.draw[i] == -1] == ["=", "7"]
    assert len(styled.inks) == len(draws) + 2


def test_a_lone_signs_font_glyph_gets_the_font_bonus_and_a_digits_does_not():
    """The readers judge rare signs poorly, so the font's "=" starts
    FONT_SIGN_BONUS ahead; the font's "7" competes on the readers' scores alone."""
    from inkstroke.write.api import FONT_SIGN_BONUS, candidate_pool, rank_candidates

    class SameForAll:
        def score(self, inks, texts):
            return np.full(len(inks), -1.0)

    words, n = ["=", "7", "ab"], 2
    draws = [Ink([np.array([[0.0, 0.0], [1.0, -1.0]])]) for _ in words for _ in range(n)]
    c = candidate_pool(draws, words, n, np.ones(len(draws), dtype=bool), cuts=False)
    plain = rank_candidates(c, SameForAll(), separate_letters=0.0)
    font = {c.texts[i]: plain[i] for i in range(len(c.inks)) if c.draw[i] == -1}
    assert FONT_SIGN_BONUS > 0
    assert font["="] == pytest.approx(-1.0 + FONT_SIGN_BONUS) and font["7"] == pytest.approx(-1.0)
    assert (plain[c.draw >= 0] == -1.0).all()


def test_a_lone_sign_the_readers_read_best_from_the_font_is_set_where_the_font_sets_it():
    """The shipped model draws some lone signs badly (round 16: "+" as a
    scribble, "=" as a "Z"); for some of them the readers keep the font's,
    which, a sign too rare alone for a measured size, sits on the line as the
    font draws it. Which signs that is moves with the model, so several are
    tried."""
    from inkstroke.write.api import font_sign, lone_character_box

    layout = PageLayout()
    for sign in "+#<^~>%":
        assert lone_character_box(sign) is None
        doc = inkstroke.write(sign, seed=0, layout=layout)
        if doc.words[0][1].source == "hershey:futural":
            break
    else:
        pytest.fail("the readers kept the model's own draw of every sign tried")
    x0, y0, x1, y1 = doc.pages[0].bounds()
    base = wrap([[x1 - x0]], layout)[0][0].baseline
    _, f0, _, f1 = font_sign(sign).bounds()
    assert (y0, y1) == pytest.approx((base + f0 * layout.x_height, base + f1 * layout.x_height))


def test_lone_character_box_is_measured_for_single_characters():
    from inkstroke.write.api import lone_character_box, writer_sizes

    assert lone_character_box("7") == lone_character_box("0") is not None  # all digits alike
    for word in ("((", "12", "Ia", "é", "~"):
        assert lone_character_box(word) is None
    # too rare alone to measure: the size of its mirror image
    assert lone_character_box("}") == lone_character_box("{") and lone_character_box("]") == lone_character_box(")")
    dot, comma, bracket, dash = (lone_character_box(c) for c in ".,(-")
    # what human lines show: a bracket reaches above the x-height, a comma below the
    # baseline, a full stop is small, a hyphen flat and in the middle of the body
    assert bracket["top"] > 1.2 and comma["bottom"] < 0 < dot["bottom"] and dot["height"] < 0.5
    assert dash["height"] < 0.35 < dash["bottom"] and dash["top"] < 1.0
    # a capital "I" stands taller than a small "a"; a word in capitals sits on the baseline
    assert lone_character_box("I")["height"] > 1.2 > lone_character_box("a")["height"]
    capitals = writer_sizes()["capitals"]
    assert capitals["height"] > 1.2 and abs(capitals["bottom"]) < 0.1


def test_fit_to_box_scales_to_the_box_and_sets_it_on_the_baseline():
    from inkstroke.write.api import fit_to_box

    box = {"width": 0.5, "height": 1.5, "bottom": -0.1, "top": 1.5}
    small = Ink([np.array([[2.0, 3.0], [1.8, 3.4], [2.0, 3.8]])], y_axis="down")  # 0.8 tall
    x0, y0, x1, y1 = fit_to_box(small, box).bounds()
    assert (x0, y1 - y0) == (0.0, pytest.approx(1.5))
    assert (y0 + y1) / 2 == pytest.approx(-0.7)  # y down: the middle 0.7 above the baseline
    flat = {"width": 0.8, "height": 0.13, "bottom": 0.4, "top": 0.7}
    dash = Ink([np.array([[0.0, 1.0], [3.6, 1.2]])], y_axis="down")  # far too long
    x0, y0, x1, y1 = fit_to_box(dash, flat).bounds()
    assert x1 - x0 == pytest.approx(0.8) and (y0 + y1) / 2 == pytest.approx(-0.55)
    # a draw far too flat for its box grows no wider than two box widths
    squashed = Ink([np.array([[0.0, 0.0], [1.3, 0.5]])], y_axis="down")
    x0, y0, x1, y1 = fit_to_box(squashed, box).bounds()
    assert x1 - x0 == pytest.approx(2 * 0.5) and y1 - y0 == pytest.approx(0.5 / 1.3)


def test_a_lone_character_is_set_at_the_size_and_height_writers_give_it(model):
    from inkstroke.write.api import lone_character_box
    from inkstroke.write.layout import wrap

    layout = PageLayout()
    box = lone_character_box("(")
    doc = inkstroke.write("(", model=model, seed=0, layout=layout)
    x0, y0, x1, y1 = doc.pages[0].bounds()
    base = wrap([[x1 - x0]], layout)[0][0].baseline
    assert y1 - y0 == pytest.approx(box["height"] * layout.x_height)
    assert (y0 + y1) / 2 == pytest.approx(base - (box["top"] + box["bottom"]) / 2 * layout.x_height)


# ---------------------------------------------------------------- the API with a trained checkpoint
def test_write_lays_out_pages_in_millimetres(long_doc):
    doc = long_doc
    assert len(doc.pages) >= 2
    assert doc.text == " ".join([TEXT] * 3) and doc.settings["seed"] == 1
    pw, ph = SMALL_PAGE.size()
    for i, page in enumerate(doc.pages):
        assert page.units == "mm" and page.y_axis == "down"
        assert page.meta["page_mm"] == [pw, ph] and page.meta["page"] == i + 1
        if page.num_points:
            x0, _, x1, _ = page.bounds()
            # words are measured before wrapping, so the ink stays inside the margins
            assert x0 >= SMALL_PAGE.margin - 1e-6 and x1 <= pw - SMALL_PAGE.margin + 1e-6


def test_write_is_reproducible_by_seed(model):
    a = inkstroke.write("seed test", model=model, seed=4)
    b = inkstroke.write("seed test", model=model, seed=4)
    c = inkstroke.write("seed test", model=model, seed=5)
    pa, pb, pc = (d.pages[0].points() for d in (a, b, c))
    assert np.array_equal(pa, pb)
    assert pa.shape != pc.shape or not np.allclose(pa, pc)
    guided = inkstroke.write("seed test", model=model, seed=4, guidance=1.5)
    assert guided.settings["guidance"] == 1.5 and guided.pages[0].num_points > 0


def test_write_with_a_style_sample(model, words, tmp_path):
    sample = tmp_path / "mine.json"
    write_json(words[0][1], sample)
    plain = inkstroke.write("styled", model=model)
    styled = inkstroke.write("styled", model=model, style=str(sample))
    assert styled.settings["style"] == str(sample)
    assert plain.pages[0].points().shape != styled.pages[0].points().shape or not np.allclose(
        plain.pages[0].points(), styled.pages[0].points())
    write_json(words[0][1].copy(text=None), tmp_path / "untitled.json")
    with pytest.raises(InkstrokeError, match="--style-text"):
        inkstroke.write("styled", model=model, style=str(tmp_path / "untitled.json"))
    assert inkstroke.write("styled", model=model, style=str(tmp_path / "untitled.json"),
                           style_text=words[0][1].text).pages
    with pytest.raises(InkstrokeError, match="neither a shipped style"):
        inkstroke.write("styled", model=model, style="no-such-style")


def _line(*words: list[tuple[float, float]]) -> "inkstroke.Ink":
    """An ink whose strokes are horizontal bars over the given x-spans."""
    from inkstroke.ink import Ink

    return Ink([np.array([[x0, 0.0], [x1, 0.5]]) for word in words for x0, x1 in word], text=None)


def test_split_words_breaks_a_line_at_its_widest_gaps():
    # "ab cd e": a narrow gap inside each word, wide ones between them, and a
    # t-bar (overlapping its letter) that must stay with it
    ink = _line([(0, 1), (1.2, 2), (0.5, 1.5)], [(4, 5), (5.3, 6)], [(8.5, 9)])
    assert split_words(ink, 3) == [[0, 2, 1], [3, 4], [5]]
    assert split_words(ink, 2) == [[0, 2, 1, 3, 4], [5]]
    assert split_words(ink, 1) == [[0, 2, 1, 3, 4, 5]]
    assert len(split_words(ink, 9)) == 4  # fewer groups than words: every group a word


def test_a_style_sample_primes_with_its_last_word():
    ink = _line([(0, 1), (1.2, 2)], [(4, 5), (5.3, 6)], [(8, 9)])
    word, text = last_word_primer(ink.copy(text="ab cd e"), "ab cd e")
    assert text == "e" and word.text == "e" and len(word.strokes) == 1
    assert np.array_equal(word.strokes[0], ink.strokes[4])
    one, text = last_word_primer(ink, "abcde")  # one word: the whole sample
    assert text == "abcde" and len(one.strokes) == 5
    assert last_word_primer(ink, "a b c d e f g")[1] == "a b c d e f g"  # cannot split: kept whole


def test_write_api_errors(model):
    with pytest.raises(InkstrokeError, match="empty"):
        inkstroke.write("   ", model=model)
    with pytest.raises(InkstrokeError, match="U\\+00E9"):
        inkstroke.write("caf\u00e9", model=model)
    doc = inkstroke.write("caf\u00e9", model=model, unsupported="replace")
    assert doc.text == "caf?"
    assert inkstroke.write("caf\u00e9", model=model, unsupported="transliterate").text == "cafe"
    with pytest.raises(InkstrokeError, match="no inkstroke checkpoint|not an inkstroke"):
        inkstroke.write("x", model=os.devnull + "-none")


@pytest.mark.parametrize("suffix", SUFFIXES)
def test_every_output_format(long_doc, tmp_path, suffix):
    assert set(SUFFIXES) == {".svg", ".png", ".gif", ".pdf", ".json", ".inkml"}
    out = tmp_path / f"letter{suffix}"
    paths = save_document(long_doc, out, stroke_width=0.5 if suffix in (".svg", ".pdf") else None,
                          color="#224488")
    n = len(long_doc.pages)
    if suffix == ".pdf":
        assert paths == [out]
        data = out.read_bytes()
        assert data.startswith(b"%PDF") and len(re.findall(rb"/Type /Page\b", data)) == n
    else:
        assert paths == [tmp_path / f"letter-{k}{suffix}" for k in range(1, n + 1)]
        for p, page in zip(paths, long_doc.pages):
            if suffix in (".json", ".inkml"):
                back = read_ink(str(p))
                assert back.units == "mm" and back.num_points == page.num_points
            elif suffix == ".svg":
                text = p.read_text()
                w, h = (float(v) for v in re.search(r'width="([\d.]+)mm" height="([\d.]+)mm"', text).groups())
                # the page at real size, plus half a pen width on each side
                assert w == pytest.approx(70.5) and h == pytest.approx(45.5)
                assert "#224488" in text.lower()
            else:
                with Image.open(p) as img:
                    assert img.format == suffix[1:].upper()
                    if suffix == ".png":
                        assert img.width == 1240
                        assert img.height == pytest.approx(1240 * 45 / 70, abs=2)
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(p.name for p in paths)


def test_page_paths():
    from pathlib import Path

    assert page_paths(Path("a/b.svg"), 1) == [Path("a/b.svg")]
    assert page_paths(Path("a/b.svg"), 2) == [Path("a/b-1.svg"), Path("a/b-2.svg")]
    assert page_paths(Path("a/b.pdf"), 3) == [Path("a/b.pdf")]


def test_unwritable_outputs_are_refused(long_doc, tmp_path):
    with pytest.raises(InkstrokeError, match="does not exist"):
        save_document(long_doc, tmp_path / "missing" / "x.svg")
    (tmp_path / "folder.svg").mkdir()
    with pytest.raises(InkstrokeError, match="is a folder"):
        save_document(long_doc, tmp_path / "folder.svg")
    with pytest.raises(InkstrokeError, match="unknown output format"):
        save_document(long_doc, tmp_path / "x.docx")
    if os.geteuid() != 0:  # root writes anywhere
        locked = tmp_path / "locked"
        locked.mkdir(mode=0o555)
        with pytest.raises(InkstrokeError, match="not writable"):
            save_document(long_doc, locked / "x.svg")
    assert sorted(p.name for p in tmp_path.iterdir() if p.is_file()) == []


# ---------------------------------------------------------------- the command line
def test_write_command(model, tmp_path, capsys, monkeypatch):
    out = tmp_path / "hello.svg"
    assert main(["write", "hello there", "-o", str(out), "--model", model, "--seed", "3",
                 "--align", "center", "--color", "blue"]) == 0
    assert capsys.readouterr().out.strip() == f"wrote {out}"
    assert "<svg" in out.read_text()
    # text from a file and from standard input gives the same pages as the argument
    (tmp_path / "text.txt").write_text("hello there\n")
    assert main(["write", f"@{tmp_path / 'text.txt'}", "-o", str(tmp_path / "f.json"), "--model", model,
                 "--seed", "3", "--align", "center"]) == 0
    import io
    monkeypatch.setattr("sys.stdin", io.StringIO("hello there"))
    assert main(["write", "-", "-o", str(tmp_path / "s.json"), "--model", model, "--seed", "3",
                 "--align", "center"]) == 0
    a, b = json.loads((tmp_path / "f.json").read_text()), json.loads((tmp_path / "s.json").read_text())
    assert a["strokes"] == b["strokes"] and a["text"] == "hello there"


@pytest.mark.parametrize("args, needle", [
    (["", "-o", "{tmp}/x.svg"], "empty"),
    (["caf\u00e9 \u65e5", "-o", "{tmp}/x.svg"], "U+65E5"),
    (["hello", "-o", "{tmp}/nowhere/x.svg"], "does not exist"),
    (["hello", "-o", "{tmp}/x.doc"], "unknown output format"),
    (["hello", "-o", "{tmp}/x.svg", "--align", "middle"], "alignment"),
    (["hello", "-o", "{tmp}/x.svg", "--page", "huge"], "page size"),
    (["hello", "-o", "{tmp}/x.png", "--color", "no-such-colour"], "colour"),
    (["@{tmp}/missing.txt", "-o", "{tmp}/x.svg"], "cannot read"),
    (["hello", "-o", "{tmp}/x.svg", "--temperature", "-0.5"], "temperature must be a number of at least 0"),
    (["hello", "-o", "{tmp}/x.svg", "--bias", "nan"], "--bias must be a finite number, got nan"),
    (["hello", "-o", "{tmp}/x.pdf", "--stroke-width", "0"], "stroke width must be a positive number, got 0"),
    (["hello", "-o", "{tmp}/x.png", "--stroke-width", "nan"], "--stroke-width must be a finite number, got nan"),
    (["hello", "-o", "{tmp}/x.png", "--stroke-width", "-1"], "stroke width must be a positive number, got -1"),
    (["hello", "-o", "{tmp}/x.svg", "--margin", "nan"], "margin must be a finite number"),
    (["hello", "-o", "{tmp}/x.svg", "--page", "infx300"], "page width must be a finite number"),
    (["hello", "-o", "{tmp}/x.svg", "--style-text", "hello"], "give --style too"),
    (["-o", "{tmp}/x.svg"], "give the TEXT to write"),
])
def test_write_command_errors_leave_no_file(model, tmp_path, capsys, args, needle):
    args = [a.replace("{tmp}", str(tmp_path)) for a in args]
    assert main(["write", *args, "--model", model]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ") and err.count("\n") == 1 and "Traceback" not in err
    assert needle.lower() in err.lower(), err
    assert list(tmp_path.iterdir()) == []


# ---------------------------------------------------------------- the shipped model
@pytest.fixture
def shipped():
    if not (MODEL_DIR / "checkpoint.json").exists():
        pytest.skip(f"no shipped model in {MODEL_DIR} yet")
    return MODEL_DIR


def test_write_without_model_uses_the_shipped_one(shipped, tmp_path, capsys):
    out = tmp_path / "hello.svg"
    assert main(["write", "Hello world", "-o", str(out)]) == 0
    assert "<svg" in out.read_text()
    doc = inkstroke.write("Hello world")
    assert doc.settings["model"] == "default" and doc.pages[0].num_points > 50
    x0, y0, x1, y1 = doc.pages[0].bounds()
    # two words of 3 mm handwriting: wider than tall, and of a plausible size
    assert 10 < x1 - x0 < 150 and 2 < y1 - y0 < 30


def test_the_shipped_model_writes_every_printable_character(shipped):
    chars = "".join(chr(c) for c in range(33, 127))
    text = " ".join(chars[i : i + 8] for i in range(0, len(chars), 8))
    doc = inkstroke.write(text, layout=PageLayout(page="a4"))
    assert doc.text == text and sum(p.num_points for p in doc.pages) > 200


def _widest_inner_gap(ink) -> float:
    """The widest stretch of x, inside one word, that no ink covers (x-heights)."""
    xs = np.sort(ink.resample(0.02).points()[:, 0])
    return float(np.diff(xs).max()) if len(xs) > 1 else 0.0


def test_words_are_spaced_wider_than_the_gaps_inside_them(shipped):
    # The model leaves gaps of up to about an x-height inside a word (here
    # "minutes," before its comma); a word gap no wider than that lets a
    # reader split one word in two or join two into one.
    text = "conversation began to concern In the next few minutes, down but not out in siberia"
    doc = inkstroke.write(text, seed=0)
    inner = max(_widest_inner_gap(ink) for _, ink in doc.words)
    assert inner < PageLayout().word_spacing
    # and write closes them up to MAX_INNER_GAP (as drawn, they are wider)
    assert inner <= MAX_INNER_GAP + 0.03
    drawn = inkstroke.write(text, seed=0, max_inner_gap=None)
    assert max(_widest_inner_gap(ink) for _, ink in drawn.words) > inner + 0.1
    with pytest.raises(InkstrokeError, match="max_inner_gap"):
        inkstroke.write("x", max_inner_gap=-1.0)


def test_a_shipped_style_primes_with_the_last_word_of_its_line(shipped):
    styles = json.loads((MODEL_DIR / "styles.json").read_text())
    for name, style in styles.items():
        ink, text = load_style(name)
        assert text == style["text"].split()[-1] and ink.text == text
        assert 0 < len(ink.strokes) < len(style["strokes"])
        # the word is the line's rightmost ink
        line_right = max(max(p[0] for p in s) for s in style["strokes"])
        assert abs(ink.bounds()[2] - line_right) < 1e-6


def test_the_recogniser_reads_only_the_draws_that_can_still_win(shipped):
    """With every draw's picture read, scoring each word's front-runner's
    strokes first, then only the draws that could beat it, chooses what
    scoring every draw chooses (real draws, both real readers) and skips most."""
    from inkstroke.recognize.api import load_recognizer_cached
    from inkstroke.recognize.image import load_image_reader_cached
    from inkstroke.write.api import (
        _trim,
        contender_scores,
        default_guidance,
        default_temperature,
        letters_apart,
        load_generator,
    )

    gen, rec, reader = load_generator(None), load_recognizer_cached(None), load_image_reader_cached()
    words, n = "Pack my box with five dozen".split(), 8
    asked = [w for w in words for _ in range(n)]
    draws = gen.generate(asked, temperature=default_temperature(gen), guidance=default_guidance(gen), seed=0)
    inks = [_trim(d, gen.text_tok.expected_width(w)) for d, w in zip(draws, asked)]
    image = reader.score(inks, asked)
    bonus = 2.0 * letters_apart(inks, asked)
    ok = np.ones(len(inks), dtype=bool)
    ok[[3, 9]] = False
    read = []

    class Counting:  # the real recogniser, counting the inks it is given
        def score(self, inks, texts):
            read.extend(texts)
            return rec.score(inks, texts)

    every = rec.score(inks, asked)
    groups = [np.arange(k, k + n) for k in range(0, len(inks), n)]
    some = contender_scores(Counting(), inks, asked, image, bonus, ok, groups)
    for scores in (every, some):
        assert np.all(scores[np.isfinite(scores)] <= 1e-6)  # what the pruning rests on
    rank_all = np.where(ok, (every + image) + bonus, -np.inf).reshape(-1, n).argmax(1)
    rank_some = np.where(ok, (some + image) + bonus, -np.inf).reshape(-1, n).argmax(1)
    assert np.array_equal(rank_all, rank_some)
    assert len(words) <= len(read) < 0.6 * len(inks)
    assert np.isneginf(some[[3, 9]]).all()


def test_the_checkpoint_sampling_block_sets_write_defaults(tiny_run, tiny_run_copy):
    """A model's own temperature and guidance (a distilled model's: guidance 0)
    are write's defaults; an explicit value still wins."""
    plain = inkstroke.write("ink", model=str(tiny_run), candidates=1).settings
    assert plain["guidance"] == DEFAULT_GUIDANCE and plain["temperature"] == DEFAULT_TEMPERATURE
    meta_path = tiny_run_copy / "checkpoint.json"
    meta = json.loads(meta_path.read_text())
    meta["sampling"] = {"temperature": 0.45, "guidance": 0.0, "distilled_guidance": 1.5}
    meta_path.write_text(json.dumps(meta))
    own = inkstroke.write("ink well", model=str(tiny_run_copy), candidates=1, seed=2)
    assert own.settings["temperature"] == 0.45 and own.settings["guidance"] == 0.0
    told = inkstroke.write("ink well", model=str(tiny_run_copy), candidates=1, seed=2, temperature=0.45, guidance=0.0)
    assert all(np.array_equal(a, b) for a, b in zip(own.pages[0].strokes, told.pages[0].strokes))
    other = inkstroke.write("ink well", model=str(tiny_run_copy), candidates=1, seed=2, temperature=0.9)
    assert other.settings["temperature"] == 0.9 and other.settings["guidance"] == 0.0


def test_a_draw_that_stops_by_itself_is_not_marked_cut_even_when_it_ends_the_run():
    """The last sequence to stop ends the run: only reaching its own cap marks it."""
    from inkstroke.write.api import WORD_MIN_STEPS, WORD_STEPS_PER_CHAR, load_generator

    gen = load_generator(None)
    for texts in (["the"], ["the", "a", "word"]):
        inks = gen.generate(texts, seed=0, temperature=0.5, steps_per_char=WORD_STEPS_PER_CHAR,
                            min_steps=WORD_MIN_STEPS)
        assert not any(ink.meta.get("cut_at_cap") for ink in inks)
    cut = gen.generate(["the"], seed=0, temperature=0.5, steps_per_char=1, min_steps=10)[0]
    assert cut.meta.get("cut_at_cap")  # ten steps cannot write "the"


def test_words_are_written_the_same_whatever_the_processes_and_the_rest_of_the_text(tiny_generator):
    """Each draw has its own seed (draw_seeds), so sharing the words out between
    processes, or changing other words of the text, leaves a word as it was;
    the same word twice is written two ways."""
    from inkstroke.write.api import generate_words

    def run(words, workers, batch=192):
        return generate_words(words, tiny_generator, None, 0.8, 0.0, seed=11, candidates=3,
                              ranker=WidestReader(), separate_letters=0.0, workers=workers, batch=batch)

    words = ["ink", "well", "ab", "ink", "cd", "a"]
    one = run(words, 1)
    for other in (run(words, 2), run(words, 3, batch=6)):
        assert all(np.array_equal(a.points(), b.points()) for a, b in zip(one, other))
    edited = run(["ink", "pot", "ab", "ink", "cd", "a"], 2)
    assert all(np.array_equal(one[k].points(), edited[k].points()) for k in (0, 2, 3, 4, 5))
    assert not np.array_equal(one[0].points(), one[3].points())


def test_a_copy_that_dies_has_its_share_done_here_and_a_copys_error_is_raised_here():
    import os

    from inkstroke.write.api import in_processes

    parent = os.getpid()

    def fn(shard):
        if shard == "die" and os.getpid() != parent:
            os._exit(1)  # killed before it answers
        if shard == "fail":
            raise InkstrokeError("bad shard")
        return (shard, os.getpid() == parent)

    assert in_processes(fn, ["a", "b", "die"]) == [("a", True), ("b", False), ("die", True)]
    with pytest.raises(InkstrokeError, match="bad shard"):
        in_processes(fn, ["a", "fail"])
    open_fds = len(os.listdir("/proc/self/fd"))
    with pytest.raises(InkstrokeError, match="bad shard"):  # raised here: the copies' pipes are closed
        in_processes(fn, ["fail", "a", "b"])
    assert len(os.listdir("/proc/self/fd")) == open_fds


def test_workers_from_the_environment(monkeypatch):
    from inkstroke.write.api import default_workers

    monkeypatch.setenv("INKSTROKE_WORKERS", "1")
    assert default_workers() == 1
    monkeypatch.setenv("INKSTROKE_WORKERS", "two")
    with pytest.raises(InkstrokeError, match="INKSTROKE_WORKERS"):
        default_workers()
    monkeypatch.delenv("INKSTROKE_WORKERS")
    assert 1 <= default_workers() <= 2
