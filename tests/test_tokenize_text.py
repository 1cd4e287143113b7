"""Text tokenizer: normalisation, unknown characters, character widths, JSON."""

import json

import numpy as np
import pytest

from inkstroke.errors import InkstrokeError
from inkstroke.tokenize.text import (
    PAD,
    PRINTABLE,
    UNK,
    TextTokenizer,
    normalise_text,
    transliterate,
)


def test_vocabulary_is_printable_ascii_plus_specials():
    tok = TextTokenizer()
    assert len(tok) == 97 and len(PRINTABLE) == 95
    assert tok.vocab[PAD] == "[PAD]" and tok.vocab[UNK] == "[UNK]"
    text = "".join(PRINTABLE)
    ids = tok.encode(text)
    assert len(ids) == 95 and ids.min() >= 2
    assert tok.decode(ids) == text
    assert tok.unknown(text) == []


def test_typographic_quotes_dashes_and_spaces_are_normalised():
    raw = "\u201cIt\u2019s\u201d \u2013 she said\u2014\u2018twice\u2019\u2026\u00a0ok\tgo  now \u2212 1"
    assert normalise_text(raw) == "\"It's\" - she said-'twice'... ok go now - 1"
    tok = TextTokenizer()
    assert tok.unknown(raw) == []
    assert tok.decode(tok.encode(raw)) == normalise_text(raw)
    # composed and decomposed accents are the same character after normalisation
    assert normalise_text("e\u0301") == "\u00e9"


def test_unknown_characters_are_reported_and_strict_encode_names_them():
    tok = TextTokenizer()
    text = "na\u00efve \u65e5\u672c \u00efd"
    assert tok.unknown(text) == sorted({"\u00ef", "\u65e5", "\u672c"})
    with pytest.raises(InkstrokeError) as err:
        tok.encode(text)
    for c in ("\u00ef", "\u65e5", "\u672c"):
        assert repr(c) in str(err.value)
    # not strict: every character keeps its place, unknown ones as [UNK]
    ids = tok.encode(text, strict=False)
    assert len(ids) == len(normalise_text(text))
    assert (ids == UNK).sum() == 4 and ids[2] == UNK


def test_extend_adds_other_scripts():
    tok = TextTokenizer()
    tok.extend("\u65e5\u672ca")  # 'a' is already known
    assert len(tok) == 99
    assert tok.unknown("\u65e5\u672c") == []
    assert tok.decode(tok.encode("a\u65e5")) == "a\u65e5"


def test_transliterate_strips_accents_and_normalises():
    assert transliterate("caf\u00e9 \u2013 \u201cna\u00efve\u201d") == 'cafe - "naive"'


def test_fitted_widths_make_m_wider_than_i():
    rng = np.random.default_rng(0)
    truth = {c: 0.55 for c in "abcdefghijklmnopqrstuvwxyz"}
    truth.update({"m": 1.1, "w": 1.0, "i": 0.25, "l": 0.25, "j": 0.3})
    letters = sorted(truth)
    texts, widths = [], []
    for _ in range(600):
        word = "".join(rng.choice(letters, rng.integers(2, 9)))
        texts.append(word)
        widths.append(sum(truth[c] for c in word) * rng.uniform(0.9, 1.1))
    widths[:10] = [50.0] * 10  # mislabelled outliers must not wreck the fit
    tok = TextTokenizer()
    tok.fit_widths(texts, widths)
    w = tok.widths
    assert w["m"] > 2.5 * w["i"]
    assert w["m"] == pytest.approx(1.1, rel=0.25) and w["i"] == pytest.approx(0.25, rel=0.5)
    assert all(v > 0 for v in w.values())
    assert tok.expected_width("mmm") > 2 * tok.expected_width("iii")
    x = tok.x_centers("mil")
    assert x[0] == pytest.approx(w["m"] / 2) and (np.diff(x) > 0).all()
    assert x[2] - x[1] == pytest.approx((w["i"] + w["l"]) / 2)


def test_widths_default_without_a_fit():
    tok = TextTokenizer()
    assert tok.char_width("m") == tok.char_width("i") == 0.6
    assert tok.expected_width("abc") == pytest.approx(1.8)


def test_json_round_trip():
    tok = TextTokenizer()
    tok.extend("\u00e9")
    tok.fit_widths(["ab", "ba", "abc", "ca"] * 10, [1.0, 1.0, 1.6, 1.1] * 10)
    back = TextTokenizer.from_dict(json.loads(json.dumps(tok.to_dict())))
    assert back.vocab == tok.vocab and back.widths == tok.widths
    assert np.array_equal(back.encode("caf\u00e9"), tok.encode("caf\u00e9"))
    assert back.x_centers("abc").tolist() == tok.x_centers("abc").tolist()


@pytest.mark.parametrize("bad", [
    {"kind": "inkstroke-stroke-tokenizer", "vocab": ["a"]},
    {"kind": "inkstroke-text-tokenizer"},
    {"kind": "inkstroke-text-tokenizer", "vocab": "abc"},
    {"kind": "inkstroke-text-tokenizer", "vocab": ["a"], "widths": {"a": "wide"}},
    {"kind": "inkstroke-text-tokenizer", "vocab": ["a"], "widths": [1, 2]},
    ["not", "a", "dict"],
    None,
])
def test_bad_dict_is_an_error(bad):
    with pytest.raises(InkstrokeError, match="ckpt.json"):
        TextTokenizer.from_dict(bad, "ckpt.json")
