"""``inkstroke data import|info|plot`` end to end, through ``main()`` exit codes.

The import runs the real UNIPEN importer on a tiny dataset written here in the
UNIPEN 1.0 format (data files with ``.INCLUDE``/``.SEGMENT``, pen data under
``include/``), five writers with two words each.
"""

import json
import re
from pathlib import Path

import numpy as np
import pytest

from inkstroke.cli.main import main
from inkstroke.io.container import InkDataset

PEN = """.VERSION 1.0
.COORD X Y
.X_POINTS_PER_INCH 1000
.Y_POINTS_PER_INCH 1000
.WRITER_ID w{k}
.PEN_DOWN
 100 200
 150 {top}
 200 200
.PEN_UP
 210 200
.PEN_DOWN
 220 200
 220 260
.PEN_DOWN
 300 200
 330 250
.PEN_UP
"""
DATA = """.VERSION 1.0
.INCLUDE xyz/p{k}.dat
.SEGMENT WORD 0-2 OK "hi"
.SEGMENT WORD 3 GOOD "a"
"""


@pytest.fixture
def unipen(tmp_path: Path) -> Path:
    root = tmp_path / "unipen"
    (root / "include/xyz").mkdir(parents=True)
    (root / "data/6/xyz").mkdir(parents=True)
    for k in range(5):
        (root / f"include/xyz/p{k}.dat").write_text(PEN.format(k=k, top=260 + k))
        (root / f"data/6/xyz/w{k}.dat").write_text(DATA.format(k=k))
    (root / "data/6/xyz/lost.dat").write_text('.VERSION 1.0\n.INCLUDE xyz/gone.dat\n.SEGMENT WORD 0 OK "x"\n')
    return root


def run(args: list[str], capsys) -> tuple[int, str, str]:
    code = main(args)
    out = capsys.readouterr()
    return code, out.out, out.err


def assert_refused(args: list[str], capsys, message: str) -> None:
    code, _, err = run(args, capsys)
    assert code == 2, err
    assert err.startswith("error: ") and err.count("\n") == 1 and "Traceback" not in err
    assert re.search(message, err), err


def test_import_splits_by_writer_and_reports(unipen, tmp_path, capsys):
    out = tmp_path / "u.inks"
    args = ["data", "import", "unipen", str(unipen), "-o", str(out), "--categories", "6"]
    code, stdout, err = run([*args, "--valid", "0.2", "--test", "0.2", "--seed", "3"], capsys)
    assert code == 0, err
    ds = InkDataset(out)
    assert len(ds) == 10 and [ds[i].text for i in range(2)] == ["hi", "a"]
    by_writer: dict[str, set] = {}
    for r in ds.records:
        by_writer.setdefault(r["writer"], set()).add(r["split"])
    assert len(by_writer) == 5 and all(len(s) == 1 for s in by_writer.values())
    assert ds.summary()["splits"] == {"train": 6, "valid": 2, "test": 2}
    assert ds.header["meta"]["categories"] == [6] and ds.header["meta"]["seed"] == 3
    # the device's y-up ink is stored y-down: the peak of "hi" (y=260+k) is its smallest y
    hi = ds[0]
    assert hi.y_axis == "down" and hi.strokes[0][1, 1] == hi.points()[:, 1].min()
    assert re.search(r"inks\s+│\s+10", stdout) and "writers" in stdout
    assert "note:" in err and "gone.dat" in err  # the missing include is reported, not fatal
    assert sorted(p.name for p in tmp_path.iterdir()) == ["u.inks", "unipen"]


def test_info_and_plot(unipen, tmp_path, capsys):
    out = tmp_path / "u.inks"
    assert run(["data", "import", "unipen", str(unipen), "-o", str(out), "--categories", "6"], capsys)[0] == 0
    code, stdout, _ = run(["data", "info", str(out), "--json"], capsys)
    assert code == 0 and json.loads(stdout) == InkDataset(out).summary()
    code, stdout, _ = run(["data", "info", str(out)], capsys)
    assert code == 0 and "ahi" in stdout and "points" in stdout

    svg = tmp_path / "w.svg"
    code, stdout, _ = run(["data", "plot", str(out), "--index", "-2", "-o", str(svg)], capsys)
    assert code == 0 and str(svg) in stdout
    assert svg.read_text().count("<path") == len(InkDataset(out)[-2].strokes) == 2
    png = tmp_path / "w.png"
    assert run(["data", "plot", str(out), "-i", "1", "-o", str(png), "--color", "red"], capsys)[0] == 0
    assert png.read_bytes().startswith(b"\x89PNG")

    assert_refused(["data", "plot", str(out), "--index", "10", "-o", str(tmp_path / "x.png")], capsys, "out of range")
    assert_refused(["data", "plot", str(out), "--index", "0", "-o", str(tmp_path / "x.bmp")], capsys, r"\.bmp")
    assert_refused(["data", "info", str(tmp_path / "nope.inks")], capsys, "no such file")
    assert_refused(["data", "info", str(svg)], capsys, "not an .inks file")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["u.inks", "unipen", "w.png", "w.svg"]


def test_bad_imports_leave_no_file(unipen, tmp_path, capsys):
    out = str(tmp_path / "o.inks")
    broken = unipen / "data/6/xyz/broken.dat"
    (unipen / "include/xyz/broken.dat").write_text(PEN.format(k=9, top="2x0"))
    broken.write_text(DATA.format(k=9).replace("p9", "broken"))
    cases = [
        (["nosuch", str(unipen)], "unknown format 'nosuch'"),
        (["unipen", str(tmp_path / "missing")], "no such file"),
        (["unipen", str(unipen), "--categories", "6,x"], "--categories must be"),
        (["unipen", str(unipen), "--categories", "5"], "data/5"),
        (["inkml", str(unipen), "--categories", "6"], "--categories does not apply"),
        (["unipen", str(broken)], r"broken\.dat:8"),  # a malformed pen line halfway through
        (["unipen", str(unipen), "--valid", "1"], r"valid share must lie in \[0, 1\), got 1"),
        (["unipen", str(unipen), "--test", "-0.5"], r"test share must lie in \[0, 1\), got -0.5"),
        (["unipen", str(unipen), "--valid", "0.6", "--test", "0.6"], "leave no writers to train on"),
    ]
    for args, message in cases:
        assert_refused(["data", "import", *args, "-o", out], capsys, message)
    assert_refused(["data", "import", "unipen", str(unipen), "-o", str(tmp_path / "o.txt")], capsys, "an .inks file")
    assert_refused(
        ["data", "import", "unipen", str(unipen), "-o", str(tmp_path / "no/o.inks")], capsys, "does not exist"
    )
    assert sorted(p.name for p in tmp_path.iterdir()) == ["unipen"]


def test_import_then_render_roundtrip(unipen, tmp_path, capsys):
    """The ``render`` command reads ``DATASET.inks:INDEX`` and the same ink comes out as JSON."""
    from inkstroke.io.jsonink import read_json

    out = tmp_path / "u.inks"
    assert run(["data", "import", "unipen", str(unipen), "-o", str(out), "--categories", "6"], capsys)[0] == 0
    js = tmp_path / "ink.json"
    assert run(["render", f"{out}:4", "-o", str(js)], capsys)[0] == 0
    got, want = read_json(js), InkDataset(out)[4]
    assert got.text == want.text == "hi" and np.allclose(got.points(), want.points())
