import numpy as np
import pytest

from inkstroke.errors import InkstrokeError
from inkstroke.io import importer
from inkstroke.io.hershey import hershey_ink


def test_letters_are_pen_paths_with_y_down():
    ink = hershey_ink("T")
    assert (ink.text, ink.units, ink.y_axis, ink.source) == ("T", "hershey", "down", "hershey")
    stem, bar = ink.strokes
    # The bar is at the top, the smallest y: y grows down.
    assert bar[0, 1] == bar[-1, 1] == ink.meta["cap_line"] == -12
    assert stem[:, 1].max() == ink.meta["base_line"] == 9


def test_text_runs_left_to_right():
    one, two = hershey_ink("H"), hershey_ink("HH")
    assert len(two) == 2 * len(one)
    assert two.bounds()[2] > one.bounds()[2] + 10
    assert hershey_ink("a b").bounds()[2] > hershey_ink("ab").bounds()[2]  # a space advances


def test_cursive_letters_join_into_one_pen_path():
    joined = hershey_ink("mmm", font="cursive")
    assert len(joined) < 3 * len(hershey_ink("m", font="cursive"))
    n, u, nu = (len(hershey_ink(t, font="cursive")) for t in ("n", "u", "nu"))
    assert nu == n + u - 1  # the exit stroke of n runs on into u


def test_unknown_char_and_font_are_named():
    with pytest.raises(InkstrokeError, match=r"'é'.*position 1"):
        hershey_ink("héllo")
    with pytest.raises(InkstrokeError, match="unknown Hershey font 'comic'.*futural"):
        hershey_ink("hi", font="comic")


def test_iter_hershey_one_ink_per_non_empty_line(tmp_path):
    text = tmp_path / "lines.txt"
    text.write_text("hello world\n\n   \nThe quick brown fox\n", encoding="utf-8")
    inks = list(importer("hershey")(text))
    assert [i.text for i in inks] == ["hello world", "The quick brown fox"]
    assert all(np.isfinite(s).all() for i in inks for s in i.strokes)


def test_iter_hershey_names_file_and_line(tmp_path):
    text = tmp_path / "lines.txt"
    text.write_text("fine\n\nalso fine\nnaïve\n", encoding="utf-8")
    with pytest.raises(InkstrokeError, match=r"lines\.txt:4: .*'ï'"):
        list(importer("hershey")(text))
    text.write_bytes(b"ok\n\xff\xfe\n")
    with pytest.raises(InkstrokeError, match=r"lines\.txt: not UTF-8"):
        list(importer("hershey")(text))
