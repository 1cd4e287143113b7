"""``inkstroke robot gcode|svg|trajectory|simulate`` end to end, through ``main()``."""

import csv
import json
from pathlib import Path

import pytest
from PIL import Image

from inkstroke.cli.main import main
from inkstroke.io.hershey import hershey_ink
from inkstroke.io.jsonink import write_json

FIXTURES = Path(__file__).parent / "fixtures" / "robot"
YONG = str(FIXTURES / "brush_yong.json")


@pytest.fixture
def hello(tmp_path):
    path = tmp_path / "hello.json"
    write_json(hershey_ink("Hello world"), path)
    return str(path)


def test_gcode_and_svg(tmp_path, hello, capsys):
    out = tmp_path / "hello.gcode"
    assert (
        main(["robot", "gcode", hello, "-o", str(out), "--profile", "grbl-z", "--height", "20"])
        == 0
    )
    text = out.read_text()
    assert text.count("G1 Z0 F600") == 17 and "G21" in text and "G90" in text
    assert "wrote" in capsys.readouterr().out
    svg = tmp_path / "hello.svg"
    assert (
        main(["robot", "svg", hello, "-o", str(svg), "--paper", "A5", "--orientation", "landscape"])
        == 0
    )
    assert 'width="210mm" height="148mm"' in svg.read_text()


def test_trajectory_csv_for_a_brush(tmp_path, capsys):
    out = tmp_path / "yong.csv"
    assert (
        main(
            [
                "robot",
                "trajectory",
                YONG,
                "-o",
                str(out),
                "--height",
                "100",
                "--dip-every",
                "2",
                "--dt",
                "0.05",
            ]
        )
        == 0
    )
    with open(out, newline="") as f:
        rows = list(csv.DictReader(f))
    segments = {r["segment"] for r in rows}
    assert segments == {"travel", "approach", "draw", "retreat", "dip"}
    assert min(float(r["z_m"]) for r in rows) < -0.002  # pressed by the calligraphy depth
    assert "stroke order kept" in capsys.readouterr().out


def test_simulate_writes_report_and_image(tmp_path, hello):
    report, image = tmp_path / "report.json", tmp_path / "traced.png"
    args = [
        "robot",
        "simulate",
        hello,
        "--report",
        str(report),
        "--image",
        str(image),
        "--paper",
        "A5",
        "--orientation",
        "landscape",
        "--height",
        "12",
        "--dt",
        "0.08",
    ]
    assert main(args) == 0
    r = json.loads(report.read_text())
    assert r["unreachable"] == 0 and 0 <= r["rms_mm"] <= 1.0 and r["max_mm"] >= r["rms_mm"]
    assert Image.open(image).size == (840, 592)


@pytest.mark.parametrize(
    "args, message",
    [
        (
            ["gcode", "-o", "{out}.gcode", "--paper", "A6", "--height", "30"],
            "does not fit on the paper",
        ),
        (
            ["trajectory", "-o", "{out}.csv", "--speed", "900"],
            "draw speed 900 mm/s is beyond the limits",
        ),
        (
            ["trajectory", "-o", "{out}.json", "--accel", "1e5"],
            "acceleration 100000 mm/s² is beyond",
        ),
        (
            ["simulate", "--report", "{out}.json", "--dip-every", "1", "--inkstone", "800", "100"],
            "cannot reach",
        ),
        (["gcode", "-o", "{out}.gcode", "--profile", "panda"], "its kind is 'arm', but 'plotter'"),
        (["gcode", "-o", "{out}.xyz"], "unknown output format; use one of .gcode"),
        (["svg", "-o", "{out}.gcode"], "unknown output format; use one of .svg"),
        (["svg", "-o", "{out}.svg", "--pen-width", "0"], "pen width must be a positive number of mm"),
        (["trajectory", "-o", "{out}.csv", "--dt", "1e-6"], "time step must lie between 0.001 and 1 s"),
        (["trajectory", "-o", "{out}.csv", "--dip-every", "1", "--drags", "100000"], "drags from 1 to 32"),
        (["simulate", "--report", "{out}.json", "--image", "{out}/no-folder/x.png"], "does not exist"),
    ],
)
def test_bad_input_fails_before_any_output(tmp_path, hello, capsys, args, message):
    out = str(tmp_path / "out")
    args = [a.replace("{out}", out) for a in args]
    assert main(["robot", args[0], hello, *args[1:]]) == 2
    err = capsys.readouterr().err
    assert message in err and len(err.strip().splitlines()) == 1
    assert list(tmp_path.iterdir()) == [Path(hello)]


def test_a_broken_brush_trajectory_names_the_file(tmp_path, capsys):
    doc = json.loads(Path(YONG).read_text(encoding="utf-8"))
    doc["strokes"][2][3][3] = -1.0
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps(doc))
    assert main(["robot", "gcode", str(bad), "-o", str(tmp_path / "x.gcode")]) == 2
    assert "bad.json: stroke 2 point 3 has a negative press depth" in capsys.readouterr().err
