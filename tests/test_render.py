"""Renderers checked against independent readers: svgelements and cairosvg for
SVG, imageio for GIF, the PDF content stream itself for PDF, pixel positions
for PNG. Also ``save_ink`` dispatch and the ``render`` command."""

import base64
import io
import re
import zlib
from pathlib import Path

import cairosvg
import imageio.v3 as iio
import numpy as np
import pytest
from PIL import Image
from svgelements import SVG
from svgelements import Path as SvgPath

from inkstroke.cli.main import main
from inkstroke.errors import InkstrokeError
from inkstroke.ink import Ink
from inkstroke.render import SUFFIXES, save_ink
from inkstroke.render.gif import gif_frames, writing_clock
from inkstroke.render.layout import fit
from inkstroke.render.pdf import pdf_bytes
from inkstroke.render.raster import raster_fit, render_for_ocr, render_png_array
from inkstroke.render.svg import ink_to_svg, svg_fit

UNIPEN = Path.home() / ".cache/inkstroke/unipen/train_r01_v07"


def two_bars() -> Ink:
    """Two horizontal bars 50 units apart: the space between them must stay blank."""
    return Ink([np.array([[0.0, 0.0], [100.0, 0.0]]), np.array([[0.0, 50.0], [100.0, 50.0]])])


def letter() -> Ink:
    """An 'e'-like loop, a bar and a dot, y up as tablets record it."""
    t = np.linspace(0.2, 2 * np.pi, 60)
    loop = np.c_[10 + 10 * np.cos(t), 10 + 10 * np.sin(t)]
    return Ink([loop, np.array([[0.0, 10.0], [20.0, 10.0]]), np.array([[30.0, 25.0]])], y_axis="up", text="e.")


def dark(array: np.ndarray, level: int = 128) -> np.ndarray:
    return array[..., :3].mean(axis=-1) < level


# -------------------------------------------------------------------- PNG
def test_png_has_ink_exactly_on_the_strokes():
    ink = two_bars()
    img = render_png_array(ink, height=80, stroke_width=3)
    placed = raster_fit(ink, height=80, stroke_width=3)
    assert img.shape == (80, int(placed.width), 3)
    (x0, y_top), (x1, y_bot) = placed.apply([[0, 0], [100, 50]])
    xs = slice(int(x0) + 2, int(x1) - 2)
    assert dark(img[int(y_top)])[xs].all()
    assert dark(img[int(y_bot)])[xs].all()
    between = img[int(y_top) + 4 : int(y_bot) - 3]
    assert (between == 255).all()  # nothing drawn between the bars
    assert (img[:, : int(x0) - 3] == 255).all() and (img[:, int(x1) + 3 :] == 255).all()
    grey = img[..., 0][(img[..., 0] > 20) & (img[..., 0] < 235)]
    assert grey.size > 0  # anti-aliased edges, not a two-level picture


def test_png_colours_and_y_up_ink_are_drawn_upright():
    # a bar and, right of it, a dot at the top (y grows upward)
    ink = Ink([np.array([[0.0, 0.0], [0.0, 10.0]]), np.array([[10.0, 10.0]])], y_axis="up")
    img = render_png_array(ink, height=60, stroke_width=4, color="red", background=(0, 0, 255))
    assert tuple(img[0, 0]) == (0, 0, 255)
    assert ((img == (255, 0, 0)).all(axis=-1)).any()  # fully covered pixels are the pen colour
    red = img[..., 0] > 128
    dot_rows = np.flatnonzero(red[:, np.flatnonzero(red.any(axis=0)).max() - 1])
    assert dot_rows.mean() < img.shape[0] / 3


def test_ink_height_scales_the_bounding_box_or_the_body():
    ink = letter()
    img = render_png_array(ink, ink_height=48, stroke_width=1, margin=0)
    rows = np.flatnonzero(dark(img, 200).any(axis=1))
    assert abs((rows[-1] - rows[0]) - 48) <= 2
    body = render_png_array(ink, ink_height=20, ink_height_of="body", stroke_width=1)
    placed = raster_fit(ink, ink_height=20, ink_height_of="body", stroke_width=1)
    assert placed.scale == pytest.approx(20 / ink.y_down().body_height())
    assert body.shape[0] == int(placed.height)


def test_render_for_ocr_is_48_px_black_on_white_with_a_margin():
    im = render_for_ocr(letter())
    assert im.mode == "L"
    a = np.asarray(im)
    rows = np.flatnonzero((a < 128).any(axis=1))
    assert abs((rows[-1] - rows[0]) - 48) <= 3
    assert a.min() == 0 and a.max() == 255
    assert (a[:10] == 255).all() and (a[-10:] == 255).all() and (a[:, :10] == 255).all()


def test_empty_and_degenerate_inks_render():
    blank = render_png_array(Ink([]), height=32)
    assert blank.shape[0] == 32 and (blank == 255).all()
    dot = render_png_array(Ink([np.array([[5.0, 5.0]])]), height=32, stroke_width=6)
    h, w = dot.shape[:2]
    assert dark(dot)[h // 2, w // 2] and not dark(dot)[0, 0]
    dash = render_png_array(Ink([np.array([[0.0, 0.0], [40.0, 0.0]])]), height=32)
    assert dark(dash).any()


def test_bad_options_are_inkstroke_errors():
    with pytest.raises(InkstrokeError, match="colour"):
        render_png_array(two_bars(), color="blurple")
    with pytest.raises(InkstrokeError, match="too large"):
        render_png_array(two_bars(), ink_height=1e6)
    with pytest.raises(InkstrokeError, match="stroke width"):
        render_png_array(two_bars(), stroke_width=0)


# -------------------------------------------------------------------- SVG
def svg_polylines(text: str) -> list[np.ndarray]:
    """Vertices of every path, as svgelements reads them (viewport applied, px)."""
    doc = SVG.parse(io.StringIO(text))
    out = []
    for el in doc.elements():
        if isinstance(el, SvgPath):
            pts = [(seg.end.x, seg.end.y) for seg in el if seg.end is not None]
            out.append(np.array(pts))
    return out


def test_svg_paths_reproduce_the_points():
    ink = letter()
    text = ink_to_svg(ink)
    paths = svg_polylines(text)
    placed = svg_fit(ink)
    assert len(paths) == len(ink.strokes)
    for got, want in zip(paths, ink.y_down().strokes, strict=True):
        if len(want) == 1:  # a dot is a zero-length line
            assert len(got) == 2 and np.allclose(got[0], got[1])
            got = got[:1]
        assert np.allclose(placed.invert(got), want, atol=0.01 / placed.scale)
    assert "<title>e.</title>" in text and "fill=\"none\"" in text
    assert all(re.fullmatch(r"M [-\d. ]+ L [-\d. ]+", d) for d in re.findall(r' d="([^"]+)"', text))


def test_svg_in_mm_has_the_ink_real_size():
    ink = letter().copy(units="mm")
    text = ink_to_svg(ink, units="mm", stroke_width=0.3)
    w_mm = float(re.search(r'width="([\d.]+)mm"', text).group(1))
    assert w_mm == pytest.approx(30 + 2 * (2 + 0.15), abs=1e-3)
    # svgelements converts mm to px at 96 dpi: distances must be the ink's mm
    bar = svg_polylines(text)[1]
    assert np.hypot(*(bar[1] - bar[0])) / (96 / 25.4) == pytest.approx(20.0, abs=1e-3)
    unipen_like = letter().copy(units="device", meta={"ppi": 254.0, "ppi_y": 254.0})
    assert svg_fit(unipen_like, units="mm").scale == pytest.approx(0.1)
    with pytest.raises(InkstrokeError, match="size is unknown"):
        ink_to_svg(letter(), units="mm")
    sized = svg_fit(letter(), height=50, units="mm", stroke_width=0.5)
    assert sized.height == 50


def test_cairosvg_draws_the_svg_like_the_png_renderer():
    ink = letter()
    ours = render_png_array(ink, height=256)
    svg = ink_to_svg(ink, width=ours.shape[1], height=256)
    rgba = np.asarray(Image.open(io.BytesIO(cairosvg.svg2png(bytestring=svg.encode()))).convert("RGBA"))
    alpha = rgba[..., 3:] / 255
    theirs = rgba[..., :3] * alpha + 255 * (1 - alpha)  # over white
    assert theirs.shape == ours.shape
    a, b = dark(theirs), dark(ours)
    assert (a & b).sum() / (a | b).sum() > 0.8


def test_svg_pressure_width_follows_pressure():
    ink = Ink(
        [np.c_[np.linspace(0, 100, 11), np.zeros(11)]],
        pressures=[np.linspace(0.1, 1.0, 11)],
    )
    text = ink_to_svg(ink, stroke_width=8, pressure_width=True)
    widths = [float(w) for w in re.findall(r'<path [^>]*stroke-width="([\d.]+)"', text)]
    assert len(widths) > 3 and widths == sorted(widths) and widths[-1] == 8
    assert widths[0] <= 1.5
    pts = np.vstack(svg_polylines(text))
    assert np.allclose(svg_fit(ink, stroke_width=8).invert(pts)[:, 1], 0, atol=1e-2)
    plain = ink_to_svg(ink.copy(pressures=None), stroke_width=8, pressure_width=True)
    assert plain.count("<path") == 1


# -------------------------------------------------------------------- GIF
def test_gif_replays_the_writing_and_ends_on_the_picture(tmp_path):
    ink = letter()
    path = save_ink(ink, tmp_path / "a.gif", height=64, duration=2, max_frames=30)
    frames = iio.imread(path, index=None)
    assert 1 < len(frames) <= 30
    final = render_png_array(ink, height=64)
    assert frames[-1].shape[:2] == final.shape[:2]
    assert np.abs(frames[-1][..., :3].astype(int) - final).mean() < 3
    inked = [dark(f).sum() for f in frames]
    assert inked[0] < inked[len(inked) // 2] < inked[-1]
    assert all(b >= a for a, b in zip(inked, inked[1:], strict=False))  # ink is never erased


def test_gif_follows_the_ink_times():
    slow = np.c_[np.linspace(0, 10, 20), np.zeros(20)]
    fast = np.c_[np.linspace(0, 10, 20), np.full(20, 10.0)]
    ink = Ink([slow, fast], times=[np.linspace(0, 9, 20), np.linspace(9, 10, 20)])
    frames, durations = gif_frames(ink, height=40, duration=1, fps=10, hold=2)
    assert len(frames) == 10 and durations[-1] == pytest.approx(2.1)
    placed = raster_fit(ink, height=40)
    top, bottom = (int(round(placed.apply([[0, y]])[0, 1])) for y in (0, 10))
    middle = frames[4]
    assert dark(middle[top]).any() and not dark(middle[bottom]).any()
    assert dark(frames[-1][bottom]).any()
    clock = writing_clock(ink.copy(times=None))
    assert clock[1][0] == pytest.approx(clock[0][-1] + np.hypot(10, 10))  # pen moves through the air


# -------------------------------------------------------------------- PDF
def pdf_pages(data: bytes) -> list[list[np.ndarray]]:
    """Stroked polylines (in pt) of each page, decoded from its content stream."""
    pages = []
    for raw in re.findall(rb"stream\r?\n(.*?)endstream", data, re.S):
        raw = raw.strip()
        ops = zlib.decompress(base64.a85decode(b"<~" + raw if not raw.startswith(b"<~") else raw, adobe=True))
        paths = []
        for body in (line for line in ops.decode().splitlines() if line.startswith("n ")):
            pairs = re.findall(r"(-?[\d.]+) (-?[\d.]+) [ml]", body)
            paths.append(np.array(pairs, dtype=float))
        pages.append(paths)
    return pages


def test_pdf_pages_real_size_and_fitted(tmp_path):
    mm_ink = letter().copy(units="mm")
    data = pdf_bytes([letter(), mm_ink], page_size="A4", stroke_width=0.4)
    assert data.startswith(b"%PDF")
    assert len(re.findall(rb"/Type /Page\b(?!s)", data)) == 2
    fitted, real = pdf_pages(data)
    assert [len(p) for p in real] == [max(len(s), 2) for s in mm_ink.strokes]  # a dot: m + l
    pt_per_mm = 72 / 25.4
    assert np.hypot(*(real[1][1] - real[1][0])) == pytest.approx(20 * pt_per_mm, abs=0.01)
    # a unitless ink fills the page width inside the 15 mm margins
    xs = np.vstack(fitted)[:, 0]
    assert xs.max() - xs.min() == pytest.approx((210 - 30) * pt_per_mm, rel=1e-3)
    # y flips: the dot (highest point, y up) is near the top of the page
    assert fitted[2][0, 1] > np.vstack(fitted)[:, 1].mean()
    save_ink(letter(), tmp_path / "one.pdf", page_size="letter", landscape=True)
    assert b"/MediaBox [ 0 0 792 612 ]" in (tmp_path / "one.pdf").read_bytes()
    with pytest.raises(InkstrokeError, match="page size"):
        pdf_bytes([letter()], page_size="A99")


# ---------------------------------------------------------------- save_ink
def test_save_ink_writes_every_suffix(tmp_path):
    from inkstroke.io import read_ink

    ink = letter()
    for suffix in SUFFIXES:
        path = save_ink(ink, tmp_path / f"out{suffix}")
        assert path.stat().st_size > 100
    for suffix in (".json", ".inkml"):
        back = read_ink(tmp_path / f"out{suffix}").y_down()
        assert np.allclose(back.points(), ink.y_down().points(), atol=1e-3)
    assert Image.open(tmp_path / "out.png").format == "PNG"
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(f"out{s}" for s in SUFFIXES)


def test_save_ink_refuses_cleanly(tmp_path):
    ink = letter()
    cases = [
        (tmp_path / "x.bmp", {}, "x.bmp: cannot write .bmp"),
        (tmp_path / "missing" / "x.png", {}, "does not exist"),
        (tmp_path / "x.json", {"stroke_width": 2}, "does not apply"),
        (tmp_path / "x.png", {"color": "nope"}, "x.png: unknown colour"),
        (tmp_path / "x.svg", {"units": "mm"}, "x.svg: the ink's size is unknown"),
    ]
    for path, opts, message in cases:
        with pytest.raises(InkstrokeError, match=re.escape(message)):
            save_ink(ink, path, **opts)
    assert list(tmp_path.iterdir()) == []  # no partial or temporary files


# ------------------------------------------------------------ render command
def test_render_command(tmp_path, capsys):
    from inkstroke.io.jsonink import write_json

    src = tmp_path / "e.json"
    write_json(letter(), src)
    empty = tmp_path / "empty.json"
    write_json(Ink([]), empty)
    out = tmp_path / "e.png"
    assert main(["render", str(src), "-o", str(out), "--ink-height", "40", "--color", "#0000ff"]) == 0
    img = np.asarray(Image.open(out).convert("RGB"))
    assert (img[..., 2] > 200).all() and dark(img).any()
    assert main(["render", str(src), "-o", str(tmp_path / "e.svg"), "--units", "mm", "--height", "20"]) == 0
    assert 'height="20mm"' in (tmp_path / "e.svg").read_text()
    capsys.readouterr()

    bad = [
        [str(tmp_path / "nope.json"), "-o", str(tmp_path / "f.png")],
        [str(src), "-o", str(tmp_path / "f.bmp")],
        [str(src), "-o", str(tmp_path / "f.png"), "--units", "mm"],
        [str(src), "-o", str(tmp_path / "f.pdf"), "--page-size", "Z1"],
        [str(src), "-o", str(tmp_path / "no" / "f.svg")],
        [str(src), "-o", str(tmp_path / "f.svg"), "--units", ""],
        [str(empty), "-o", str(tmp_path / "f.png")],
    ]
    for args in bad:
        assert main(["render", *args]) == 2
        err = capsys.readouterr().err
        assert err.startswith("error: ") and err.count("\n") == 1 and "Traceback" not in err
    assert main(["render", str(empty), "-o", str(tmp_path / "empty.inkml")]) == 0  # converting is fine
    assert sorted(p.name for p in tmp_path.iterdir()) == ["e.json", "e.png", "e.svg", "empty.inkml", "empty.json"]


@pytest.mark.skipif(not UNIPEN.is_dir(), reason="UNIPEN not extracted (see shared/datasets/README.md)")
def test_render_a_real_unipen_line(tmp_path):
    from inkstroke.io.unipen import is_single_line, iter_unipen

    data = sorted((UNIPEN / "data/8/abm").glob("*.dat"))[0]
    line = next(i for i in iter_unipen(data, report=[]) if is_single_line(i) and len(i.text) > 8)
    im = np.asarray(render_for_ocr(line))
    rows = np.flatnonzero((im < 128).any(axis=1))
    assert abs((rows[-1] - rows[0]) - 48) <= 3 and im.shape[1] > 3 * im.shape[0]
    text = ink_to_svg(line, units="mm")
    dots = sum(len(s) == 1 for s in line.strokes)
    assert sum(len(p) for p in svg_polylines(text)) == line.num_points + dots
    save_ink(line, tmp_path / "line.gif", ink_height=48)
    assert len(iio.imread(tmp_path / "line.gif", index=None)) > 10
    assert fit(line, height=48).height == 48


@pytest.mark.parametrize("duration", [1e-9, 1e6])
def test_gif_duration_out_of_range_is_one_clear_error(tmp_path, duration):
    ink = Ink([np.array([[0.0, 0.0], [1.0, 1.0]])])
    with pytest.raises(InkstrokeError, match="duration must lie between 0.1 and 3600 s"):
        save_ink(ink, tmp_path / "a.gif", duration=duration)
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("ink_height", [0.0, -1.0])
def test_a_non_positive_ink_height_is_named(tmp_path, ink_height):
    ink = Ink([np.array([[0.0, 0.0], [1.0, 1.0]])])
    with pytest.raises(InkstrokeError, match="ink height must be a positive number of pixels"):
        save_ink(ink, tmp_path / "a.png", ink_height=ink_height)
