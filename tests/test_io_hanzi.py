import json
import tarfile
import time
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from matplotlib.path import Path as MplPath

from inkstroke.errors import InkstrokeError
from inkstroke.io import hanzi, importer
from inkstroke.io.font import glyph_image

FIXTURES = Path(__file__).parent / "fixtures"
HANZI = FIXTURES / "hanzi"
GRAPHICS = FIXTURES / "mmah" / "graphics.txt"


def iou(a: np.ndarray, b: np.ndarray) -> float:
    return float((a & b).sum() / (a | b).sum())


@pytest.fixture(scope="module")
def npm_data() -> Path:
    """The real package, fetched once into the user cache (13.5 MB)."""
    try:
        return hanzi.fetch_hanzi_writer_data()
    except InkstrokeError as e:
        pytest.skip(f"hanzi-writer-data could not be fetched with npm: {e}")


def kaiti(char: str) -> Path:
    try:
        return hanzi.kaiti_font_path(char)
    except InkstrokeError as e:
        pytest.skip(str(e))


# ------------------------------------------------------------------ fixtures
def test_load_character_gives_strokes_and_medians_in_the_raw_frame():
    record = hanzi.load_character("永", HANZI)
    assert len(record["strokes"]) == len(record["medians"]) == 5
    assert record["medians"][0][0] == [428, 824]  # first point of the dot, y up
    assert all(d.startswith("M ") and d.rstrip().endswith("Z") for d in record["strokes"])


def test_character_ink_is_the_medians_in_stroke_order():
    ink = hanzi.character_ink("十", HANZI)
    assert (ink.text, ink.units, ink.y_axis, ink.source) == (
        "十",
        "mmah1024",
        "up",
        "hanzi-writer-data",
    )
    assert len(ink) == 2
    horizontal, vertical = ink.strokes
    assert horizontal[-1, 0] - horizontal[0, 0] > 500  # written left to right
    assert vertical[0, 1] - vertical[-1, 1] > 500  # top to bottom: y falls with y up
    x0, y0, x1, y1 = ink.bounds()
    assert -124 <= y0 and y1 <= 900 and 0 <= x0 and x1 <= 1024


def test_available_characters_lists_the_json_files_only():
    assert hanzi.available_characters(HANZI) == sorted("永十口說")


def test_missing_character_is_named():
    with pytest.raises(InkstrokeError, match="'龍'"):
        hanzi.load_character("龍", HANZI)
    with pytest.raises(InkstrokeError, match="one character"):
        hanzi.load_character("十口", HANZI)


def test_each_median_runs_inside_its_own_stroke_outline():
    polygons = hanzi.outline_polygons("永", HANZI)
    ink = hanzi.character_ink("永", HANZI).resample(step=8)
    assert len(polygons) == 5
    for polygon, median in zip(polygons, ink.strokes, strict=True):
        inside = MplPath(polygon).contains_points(median, radius=-4)
        assert inside.mean() > 0.85


def test_tgz_env_var_and_folder_sources_agree(tmp_path, monkeypatch):
    tgz = tmp_path / "hanzi-writer-data-2.0.1.tgz"
    with tarfile.open(tgz, "w:gz") as tar:
        tar.add(HANZI / "README.md", arcname="package/README.md")
        for file in sorted(HANZI.glob("*.json")):
            tar.add(file, arcname=f"package/{file.name}")
    from_folder = list(hanzi.iter_hanzi(HANZI))
    from_tgz = list(hanzi.iter_hanzi(tgz))
    assert [i.text for i in from_tgz] == [i.text for i in from_folder] == sorted("永十口說")
    for a, b in zip(from_folder, from_tgz, strict=True):
        assert all(np.array_equal(s, t) for s, t in zip(a.strokes, b.strokes, strict=True))
    monkeypatch.setenv(hanzi.ENV_VAR, str(tgz))
    assert len(hanzi.character_ink("說")) == 14
    monkeypatch.setenv(hanzi.ENV_VAR, str(tmp_path / "nowhere"))
    with pytest.raises(InkstrokeError, match=hanzi.ENV_VAR):
        hanzi.character_ink("說")


def test_a_broken_tgz_source_is_named(tmp_path):
    bad = tmp_path / "data.tgz"
    bad.write_bytes(b"\x1f\x8b\x08 truncated gzip")
    with pytest.raises(InkstrokeError, match=r"data\.tgz: not a readable \.tgz"):
        hanzi.available_characters(bad)


def test_a_tarball_with_the_wrong_digest_is_refused(tmp_path):
    (tmp_path / hanzi.TARBALL).write_bytes(b"not the package")
    with pytest.raises(InkstrokeError, match="sha512.*not the published"):
        hanzi.fetch_hanzi_writer_data(tmp_path)
    assert not (tmp_path / "2.0.1").exists()


def test_glyph_of_the_kaiti_font_is_the_outline_union():
    # Make Me a Hanzi cut its outlines from these fonts: the rasters match.
    for char, threshold in [("永", 0.995), ("說", 0.995)]:
        font = kaiti(char)
        assert iou(glyph_image(char, font), hanzi.outline_image(char, source=HANZI)) > threshold
    assert kaiti("永").name == "gkai00mp.ttf" and kaiti("說").name == "ukai.ttc"


def test_missing_kaiti_font_names_the_debian_package(monkeypatch, tmp_path):
    monkeypatch.setattr(
        hanzi, "KAITI_FONTS", ((str(tmp_path / "gkai.ttf"), "fonts-arphic-gkai00mp"),)
    )
    with pytest.raises(InkstrokeError, match="install the Debian package fonts-arphic-gkai00mp"):
        hanzi.kaiti_font_path()


# ------------------------------------------------------------ Make Me a Hanzi
def test_mmah_graphics_txt():
    inks = list(importer("mmah")(GRAPHICS))
    assert [i.text for i in inks] == list("一十永口")
    assert [len(i) for i in inks] == [1, 2, 5, 3]
    assert inks[0].strokes[0].tolist()[0] == [121, 393]
    assert all(i.source == "makemeahanzi" and i.y_axis == "up" for i in inks)
    yong = hanzi.character_ink("永", HANZI)
    assert all(np.array_equal(a, b) for a, b in zip(inks[2].strokes, yong.strokes, strict=True))


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(cut=st.integers(min_value=1, max_value=400))
def test_truncated_mmah_line_names_file_and_line(tmp_path, cut):
    lines = GRAPHICS.read_text(encoding="utf-8").splitlines()
    lines[2] = lines[2][:cut]
    bad = tmp_path / "graphics.txt"
    bad.write_text("\n".join(lines) + "\n", encoding="utf-8")
    with pytest.raises(InkstrokeError, match=r"graphics\.txt:3: "):
        list(hanzi.iter_mmah(bad))


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(pos=st.integers(min_value=0, max_value=10_000), byte=st.integers(0, 255))
def test_garbled_mmah_byte_is_parsed_or_named(tmp_path, pos, byte):
    data = bytearray(GRAPHICS.read_bytes())
    pos %= len(data)
    data[pos] = byte
    bad = tmp_path / "graphics.txt"
    bad.write_bytes(bytes(data))
    line = data[:pos].count(b"\n") + 1
    try:
        inks = list(hanzi.iter_mmah(bad))
    except InkstrokeError as e:
        assert f"graphics.txt:{line}" in str(e) or (
            byte == 10 and f"graphics.txt:{line + 1}" in str(e)
        )
    else:
        assert all(np.isfinite(s).all() for i in inks for s in i.strokes)


@pytest.mark.parametrize(
    "text, message",
    [
        ('{"strokes": ["M 0 0 Z"], "medians": [[[1, 2]]', "bad JSON at line 1"),
        ('{"strokes": ["M 0 0 Z"], "medians": []}', "one median per stroke"),
        ('{"strokes": ["M 0 0 Z"], "medians": [[[1, "x"]]]}', "median 0 is not"),
        ('{"strokes": ["M 0 0 Z"], "medians": [[[1, 2, 3]]]}', "median 0 is not"),
        ('["M 0 0 Z"]', "expected a JSON object"),
        ('{"strokes": [1], "medians": [[[1, 2]]]}', "SVG path strings"),
    ],
)
def test_bad_character_file_names_the_file(tmp_path, text, message):
    (tmp_path / "好.json").write_text(text, encoding="utf-8")
    with pytest.raises(InkstrokeError, match=message) as e:
        hanzi.character_ink("好", tmp_path)
    assert "好.json" in str(e.value)


def test_bad_outline_path_names_file_and_stroke(tmp_path):
    record = json.loads((HANZI / "十.json").read_text(encoding="utf-8"))
    record["strokes"][1] = "M 1 2 Q 3"
    (tmp_path / "十.json").write_text(json.dumps(record), encoding="utf-8")
    with pytest.raises(InkstrokeError, match=r"十\.json: stroke 1"):
        hanzi.outline_polygons("十", tmp_path)


# ------------------------------------------------------------------ real package
def test_npm_package_has_every_character_and_loads_fast(npm_data):
    chars = hanzi.available_characters(npm_data)
    assert len(chars) == 9574 and "永" in chars
    assert (npm_data.parent / hanzi.TARBALL).is_file()  # the verified tarball is kept
    assert (npm_data / "ARPHICPL.TXT").is_file()
    start = time.perf_counter()
    ink = hanzi.character_ink("永", npm_data)
    assert time.perf_counter() - start < 0.05
    assert len(ink) == 5
    assert hanzi.load_character("永", npm_data) == hanzi.load_character("永", HANZI)
    assert next(importer("hanzi")("npm")).text == chars[0]  # `data import hanzi npm`


@pytest.mark.slow
def test_npm_package_all_characters(npm_data):
    start = time.perf_counter()
    inks = list(importer("hanzi")(npm_data))
    assert len(inks) == 9574
    assert time.perf_counter() - start < 10
    assert sum(i.num_points for i in inks) > 9574 * 20


@pytest.mark.slow
def test_a_kept_tarball_is_verified_and_unpacked_once(npm_data, tmp_path):
    (tmp_path / hanzi.TARBALL).write_bytes((npm_data.parent / hanzi.TARBALL).read_bytes())
    folder = hanzi.fetch_hanzi_writer_data(tmp_path)
    assert len(hanzi.available_characters(folder)) == 9574
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []  # no leftovers
    assert hanzi.fetch_hanzi_writer_data(tmp_path) == folder
