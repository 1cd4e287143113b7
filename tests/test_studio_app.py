"""The studio server over real HTTP: streams, limits, downloads, samples, bad input.

The server runs under uvicorn on a loopback port, with a small model of
untrained weights (its "end" head silenced, so it writes until the length
cap): these tests are about the plumbing, which any checkpoint exercises.
"""

import io
import json
import socket
import subprocess
import sys
import threading
import time
import xml.etree.ElementTree as ET
from contextlib import contextmanager
from pathlib import Path

import httpx
import numpy as np
import pytest
import torch
import uvicorn
from PIL import Image

from inkstroke.io.container import InkDataset
from inkstroke.io.hanzi import character_ink
from inkstroke.io.hershey import hershey_ink
from inkstroke.io.inkml import iter_inkml, read_inkml
from inkstroke.io.jsonink import ink_from_dict
from inkstroke.model.checkpoint import save_checkpoint
from inkstroke.model.transformer import HandwritingModel, ModelConfig
from inkstroke.sample.generate import Generator
from inkstroke.studio.app import StudioConfig, create_app
from inkstroke.tokenize.strokes import StrokeTokenizer
from inkstroke.tokenize.text import TextTokenizer
from inkstroke.write.api import default_guidance, default_temperature

HANZI = Path(__file__).parent / "fixtures" / "hanzi"
LINES = ["hello world the", "quick brown fox", "jumps over a", "lazy dog studio", "ink pen"]


def untrained_model(folder: Path) -> Path:
    torch.manual_seed(0)
    stroke_tok = StrokeTokenizer.fit([hershey_ink(line) for line in LINES])
    text_tok = TextTokenizer()
    model = HandwritingModel(
        ModelConfig(
            n_text=len(text_tok),
            n_bins=stroke_tok.n_bins,
            d_model=32,
            n_head=2,
            n_enc=1,
            n_dec=1,
            d_ff=64,
            dropout=0.0,
        )
    )
    with torch.no_grad():
        model.end_head.bias.fill_(-30.0)
    save_checkpoint(folder, model.eval(), stroke_tok, text_tok, {})
    return folder


@contextmanager
def running(cfg: StudioConfig):
    """The studio on an ephemeral loopback port; yields (base URL, app)."""
    app = create_app(cfg)
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=0, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    while not server.started:
        time.sleep(0.01)
    port = server.servers[0].sockets[0].getsockname()[1]
    try:
        yield f"http://127.0.0.1:{port}", app
    finally:
        server.should_exit = True
        thread.join(10)


@pytest.fixture(scope="module")
def model(tmp_path_factory) -> Path:
    return untrained_model(tmp_path_factory.mktemp("model"))


@pytest.fixture(scope="module")
def studio(model, tmp_path_factory):
    cfg = StudioConfig(
        data=tmp_path_factory.mktemp("data"),
        model=model,
        hanzi_source=str(HANZI),
        max_text=60,
        max_points=500,
        max_strokes=20,
        max_body=100_000,
    )
    with running(cfg) as (url, app), httpx.Client(base_url=url, timeout=30) as client:
        yield client, app


def sse(lines) -> list[tuple[str, object]]:
    """Parse server-sent events from an iterator of lines."""
    events, kind = [], None
    for line in lines:
        if line.startswith("event: "):
            kind = line[7:]
        elif line.startswith("data: "):
            events.append((kind, json.loads(line[6:])))
    return events


def stream(client, **params) -> list[tuple[str, object]]:
    with client.stream("GET", "/api/stream", params=params) as r:
        assert r.status_code == 200, r.read()
        assert r.headers["content-type"].startswith("text/event-stream")
        return sse(r.iter_lines())


def points_of(events) -> list[list[float]]:
    return [p for kind, data in events if kind == "points" for p in data]


def sample_body(text="abc", n=3):
    strokes = [
        [[10.0 + 40 * k + i, 20.0 + 3 * i, 0.1 * k + 0.01 * i, 0.5] for i in range(6)]
        for k in range(n)
    ]
    return {
        "text": text,
        "writer": "tester",
        "device": "mouse",
        "canvas": [800, 260],
        "strokes": strokes,
    }


# ------------------------------------------------------------------ live writing
def test_stream_sends_the_generators_points_as_they_come(studio, model):
    client, _ = studio
    events = stream(client, text="Hello world", seed=3, temperature=0.7)
    kinds = [k for k, _ in events]
    assert kinds[0] == "start" and kinds[-1] == "end" and kinds.count("points") >= 2
    assert events[0][1]["text"] == "Hello world" and events[0][1]["units"] == "normalized"
    assert len(events[1][1]) == 1  # the first point goes out alone, at once
    points = points_of(events)
    assert events[-1][1]["reason"] == "done" and events[-1][1]["points"] == len(points)
    gen = Generator.from_checkpoint(model)
    want = list(gen.stream_words("Hello world", seed=3, temperature=0.7, guidance=default_guidance(gen)))
    assert len(points) == len(want)
    np.testing.assert_allclose([p[:2] for p in points], [w[:2] for w in want], atol=1e-4)
    assert [p[2] for p in points] == [int(w[2]) for w in want]
    assert sum(p[2] for p in points) == events[-1][1]["pen_lifts"] > 0
    assert points_of(stream(client, text="Hello world", seed=4, temperature=0.7)) != points


def test_hanzi_stream_is_in_stroke_order(studio):
    client, _ = studio
    events = stream(client, text="永十", mode="hanzi")
    points = points_of(events)
    starts = [p for p in points if p[2]]
    medians = [m for c in "永十" for m in character_ink(c, HANZI).strokes]
    assert len(starts) == len(medians) == 7
    for k, (start, median) in enumerate(zip(starts, medians, strict=True)):
        offset = 1024.0 * (k >= 5)  # the second character sits one box to the right
        assert start[:2] == pytest.approx([median[0, 0] + offset, 900.0 - median[0, 1]], abs=1e-3)


def test_hanzi_without_stroke_data_is_written_by_the_model(studio):
    from inkstroke.hanzi.generate import MODEL_DIR, write_characters

    if not (MODEL_DIR / "config.json").is_file():
        pytest.skip("no shipped hanzi model")
    client, _ = studio
    starts = [p for p in points_of(stream(client, text="十字", mode="hanzi")) if p[2]]
    model_strokes = write_characters("字")[0].strokes  # 字 is not in the fixture data
    assert len(starts) == 2 + len(model_strokes) and len(model_strokes) >= 5
    assert starts[2][:2] == pytest.approx([model_strokes[0][0, 0] + 1024.0, 900.0 - model_strokes[0][0, 1]], abs=1e-3)


def test_closing_the_connection_frees_the_work_at_once(model, tmp_path):
    cfg = StudioConfig(data=tmp_path, model=model, max_generations=1, max_text=200)
    with running(cfg) as (url, app), httpx.Client(base_url=url, timeout=30) as client:
        studio = app.state.studio
        long_text = "the quick brown fox jumps over the lazy dog " * 4
        with client.stream("GET", "/api/stream", params={"text": long_text}) as r:
            lines = r.iter_lines()
            assert next(lines) == "event: start"
            busy = client.get("/api/stream", params={"text": "hi"})
            assert busy.status_code == 429 and "already running" in busy.json()["detail"]
        t0 = time.monotonic()
        while (studio.slots.active or studio.writers.active()) and time.monotonic() - t0 < 2:
            time.sleep(0.01)
        assert studio.slots.active == 0, "the cancelled stream still holds its slot"
        assert studio.writers.active() == 0, "the cancelled stream is still being written"
        assert stream(client, text="hi")[-1][1]["reason"] == "done"


def test_a_stream_past_its_deadline_stops_cleanly(model, tmp_path):
    cfg = StudioConfig(data=tmp_path, model=model, stream_timeout=0.01, max_text=400)
    with running(cfg) as (url, app), httpx.Client(base_url=url, timeout=30) as client:
        events = stream(client, text="the quick brown fox jumps over the lazy dog " * 9)
        assert events[-1][0] == "end" and events[-1][1]["reason"] == "timeout"
        assert events[-1][1]["points"] == len(points_of(events))
        assert app.state.studio.slots.active == 0


@pytest.mark.parametrize(
    "params, status, words",
    [
        ({"text": "x" * 61}, 422, "at most 60"),
        ({"text": "naïve ☃"}, 422, "unsupported characters"),
        ({"text": "   "}, 422, "empty"),
        ({"text": "hi", "temperature": 9}, 422, "temperature"),
        ({"text": "hi", "style": "/etc/passwd"}, 422, "unknown style"),
        ({"text": "hi", "style": "sample:9999"}, 404, "no saved sample"),
        ({"text": "hi", "style": "sample:x"}, 422, "sample ids"),
        ({"text": "永Q", "mode": "hanzi"}, 422, "no stroke data for the character 'Q'"),
        ({"text": "hi", "mode": "klingon"}, 422, "mode"),
    ],
)
def test_bad_stream_requests_get_a_clear_4xx(studio, params, status, words):
    client, app = studio
    r = client.get("/api/stream", params=params)
    assert r.status_code == status and words in r.json()["detail"]
    assert app.state.studio.slots.active == 0


# ------------------------------------------------------------------ downloads
def test_every_download_format_parses(studio):
    from gcodeparser import parse_gcode_lines

    client, _ = studio
    ink = {
        "text": "hi",
        "strokes": [[[0, 0], [1, 1], [2, 0]], [[3, 0], [3, 1]]],
        "y_axis": "down",
        "units": "normalized",
    }
    got = {}
    for fmt in ("svg", "png", "gif", "pdf", "json", "inkml", "gcode"):
        r = client.post(f"/api/convert/{fmt}", json=ink, params={"name": "my line"})
        assert r.status_code == 200, r.text
        suffix = "nc" if fmt == "gcode" else fmt
        assert r.headers["content-disposition"] == f'attachment; filename="my line.{suffix}"'
        got[fmt] = r.content
    svg = ET.fromstring(got["svg"])
    assert len(svg.findall(".//{http://www.w3.org/2000/svg}path")) == 2
    assert Image.open(io.BytesIO(got["png"])).format == "PNG"
    assert Image.open(io.BytesIO(got["gif"])).n_frames > 1
    assert got["pdf"].startswith(b"%PDF")
    assert ink_from_dict(json.loads(got["json"]), "json").strokes[1].tolist() == [[3, 0], [3, 1]]
    assert ET.fromstring(got["inkml"]).tag.endswith("ink")
    lines = list(parse_gcode_lines(got["gcode"].decode()))
    assert sum(1 for line in lines if line.command == ("G", 1)) >= 3


@pytest.mark.parametrize(
    "name", ["../../etc/passwd", "a/b", ".hidden", "x" * 200, "a..b", "c:\\win"]
)
def test_a_path_as_download_name_is_refused(studio, name):
    client, _ = studio
    ink = {"strokes": [[[0, 0], [1, 1]]], "y_axis": "down"}
    r = client.post("/api/convert/svg", json=ink, params={"name": name})
    assert r.status_code == 400 and "plain file name" in r.json()["detail"]


def test_bad_inks_and_formats_are_refused(studio):
    client, _ = studio
    r = client.post("/api/convert/svg", json={"strokes": [[[0, "a"]]], "y_axis": "down"})
    assert r.status_code == 422 and "strokes[0][0]" in r.json()["detail"]
    assert client.post("/api/convert/svg", json={"strokes": []}).status_code == 422
    r = client.post("/api/convert/exe", json={"strokes": [[[0, 0], [1, 1]]], "y_axis": "down"})
    assert r.status_code == 422 and "fmt" in r.json()["detail"]


def test_written_page_and_hanzi_files(studio):
    client, _ = studio
    r = client.post(
        "/api/write/svg", json={"text": "hello world", "seed": 1}, params={"name": "page"}
    )
    assert r.status_code == 200
    root = ET.fromstring(r.content)
    assert root.get("width").endswith("mm") and root.findall(".//{http://www.w3.org/2000/svg}path")
    assert client.post("/api/write/pdf", json={"text": "hello"}).content.startswith(b"%PDF")
    r = client.post("/api/write/svg", json={"text": "hi", "page": "9000x9000"})
    assert r.status_code == 422 and "larger than" in r.json()["detail"]
    r = client.get("/api/hanzi/svg", params={"chars": "永"})
    assert len(ET.fromstring(r.content).findall(".//{http://www.w3.org/2000/svg}path")) == 5


def test_calligraphy_picture_and_trajectory(studio, monkeypatch):
    from inkstroke.errors import InkstrokeError
    from inkstroke.io.hanzi import kaiti_font_path

    try:
        kaiti_font_path("永")
    except InkstrokeError as e:
        pytest.skip(str(e))
    monkeypatch.setenv("INKSTROKE_HANZI_DATA", str(HANZI))
    client, _ = studio
    r = client.get("/api/calligraphy/png", params={"chars": "永 十", "steps": 0})
    assert r.status_code == 200
    picture = np.asarray(Image.open(io.BytesIO(r.content)))
    assert picture.shape == (256, 512) and (picture < 128).mean() > 0.02  # ink on both
    body = client.get("/api/calligraphy/json", params={"chars": "永", "steps": 0}).json()
    assert body["chars"] == "永" and len(body["trajectories"][0]["strokes"]) == 5
    assert 0 < body["metrics"][0]["iou"] <= 1
    r = client.get("/api/calligraphy/png", params={"chars": "永" * 9})
    assert r.status_code == 422 and "at most 8" in r.json()["detail"]


def test_openapi_describes_every_endpoint(studio):
    client, app = studio
    schema = client.get("/openapi.json").json()
    routes = {r.path for r in app.routes if getattr(r, "path", "").startswith("/api/")}
    assert routes and routes <= set(schema["paths"])
    for path, ops in schema["paths"].items():
        for op in ops.values():
            assert op.get("summary"), f"{path} has no summary"
    stream_ok = schema["paths"]["/api/stream"]["get"]["responses"]["200"]
    assert "text/event-stream" in stream_ok["content"]
    assert "429" in schema["paths"]["/api/stream"]["get"]["responses"]
    assert client.get("/").text.startswith("<!doctype html>")


# ------------------------------------------------------------------ collect mode
def test_samples_round_trip_to_inks_and_inkml(studio, tmp_path):
    client, _ = studio
    body = sample_body("round trip")
    r = client.post("/api/samples", json=body)
    assert r.status_code == 201
    sid = r.json()["id"]
    assert r.json()["points"] == 18 and r.json()["strokes"] == 3
    ink = client.get(f"/api/samples/{sid}").json()
    assert ink["strokes"] == [[p[:2] for p in s] for s in body["strokes"]]
    assert ink["times"] == [[p[2] for p in s] for s in body["strokes"]]
    assert ink["meta"]["ppi"] == 96.0

    (tmp_path / "all.inks").write_bytes(client.get("/api/samples/export/inks").content)
    data = InkDataset(tmp_path / "all.inks")
    k = [r["text"] for r in data.records].index("round trip")
    for got, want in zip(data[k].strokes, body["strokes"], strict=True):
        np.testing.assert_allclose(got, np.array(want)[:, :2], atol=1e-4)

    (tmp_path / "all.inkml").write_bytes(client.get("/api/samples/export/inkml").content)
    back = {i.text: i for i in iter_inkml(tmp_path / "all.inkml")}
    np.testing.assert_allclose(back["round trip"].times[2], [p[2] for p in body["strokes"][2]])
    r = client.get("/api/samples/export/inks", params={"ids": f"{sid},424242"})
    assert r.status_code == 404 and "424242" in r.json()["detail"]

    (tmp_path / "one.inkml").write_bytes(client.get(f"/api/samples/{sid}/inkml").content)
    assert read_inkml(tmp_path / "one.inkml").text == "round trip"
    assert client.delete(f"/api/samples/{sid}").status_code == 204
    assert client.get(f"/api/samples/{sid}").status_code == 404


def nan_body() -> bytes:
    return json.dumps(sample_body()).replace("0.5]", "NaN]", 1).encode()


@pytest.mark.parametrize(
    "change, status, words",
    [
        (lambda b: b.update(text="  "), 422, "no text"),
        (lambda b: b.update(text="x" * 61), 422, "at most 60"),
        (lambda b: b.update(strokes=[]), 422, "no strokes"),
        (lambda b: b["strokes"].append([]), 422, "stroke 3 is empty"),
        (
            lambda b: b["strokes"][1].append([1.0, 2.0, 3.0]),
            422,
            "stroke 1, point 6: expected [x, y, t, pressure]",
        ),
        (lambda b: b["strokes"][2][3].__setitem__(2, 0.0), 422, "stroke 2, point 3"),  # t goes back
        (lambda b: b["strokes"][0][1].__setitem__(3, 1.5), 422, "stroke 0, point 1"),  # pressure
        (lambda b: b["strokes"][0][1].__setitem__(0, 1e12), 422, "stroke 0, point 1"),
        (lambda b: b["strokes"][0][1].__setitem__(1, "abc"), 422, "strokes.0.1.1"),
        (lambda b: b.update(strokes=[[[0, 0, 0, 0.5]]] * 21), 422, "at most 20"),
        (lambda b: b.update(strokes=[[[i, 0, i, 0.5] for i in range(501)]]), 422, "at most 500"),
        (
            lambda b: b.update(strokes=[[[i + 0.25, 0.5, i, 0.5] for i in range(8000)]]),
            413,
            "limit of 100000 bytes",
        ),
        (lambda b: b.pop("text"), 422, "text: Field required"),
    ],
)
def test_malformed_samples_are_refused_and_nothing_is_stored(studio, change, status, words):
    client, app = studio
    store = app.state.studio.store
    before = store.count()
    body = sample_body()
    change(body)
    r = client.post("/api/samples", json=body)
    assert r.status_code == status and words in r.json()["detail"], r.text
    assert store.count() == before and store.check() == []


def test_raw_bodies_over_the_limit_or_not_json(studio):
    client, app = studio
    store = app.state.studio.store
    before = store.count()
    headers = {"content-type": "application/json"}
    r = client.post("/api/samples", content=nan_body(), headers=headers)
    assert r.status_code == 422 and "not a point" in r.json()["detail"]

    def chunks():  # no Content-Length: the limit still holds
        yield b'{"text": "a", "strokes": ['
        for _ in range(20):
            yield b"[[1, 2, 3, 0.5]]," * 600
        yield b"[[1, 2, 3, 0.5]]]}"

    r = client.post("/api/samples", content=chunks(), headers=headers)
    assert r.status_code == 413
    assert client.post("/api/samples", content=b"{not json", headers=headers).status_code == 422
    assert store.count() == before and store.check() == []


def test_write_in_my_hand(studio):
    client, app = studio
    hand = hershey_ink("hello").scale(3.0).translate(20, 60)
    t = 0.0
    strokes = []
    for s in hand.strokes:
        strokes.append(
            [[float(x), float(y), round(t + 0.01 * i, 3), 0.5] for i, (x, y) in enumerate(s)]
        )
        t += 0.01 * len(s) + 0.1
    sid = client.post("/api/samples", json={"text": "hello", "strokes": strokes}).json()["id"]
    plain = points_of(stream(client, text="world", seed=0))
    mine = points_of(stream(client, text="world", seed=0, style=f"sample:{sid}"))
    # the saved sample reaches the generator as the primer, with its text
    st = app.state.studio
    primer = st.primer(f"sample:{sid}")
    assert primer[1] == "hello" and primer[0].num_points == hand.num_points
    gen = st.generator()
    opts = dict(seed=0, temperature=default_temperature(gen), guidance=default_guidance(gen))
    for got, prime in ((mine, primer), (plain, None)):
        want = list(st.generator().stream_words("world", prime=prime, **opts))
        np.testing.assert_allclose([p[:2] for p in got], [w[:2] for w in want], atol=1e-4)
    r = client.post("/api/write/json", json={"text": "world", "style": f"sample:{sid}"})
    assert r.status_code == 200 and ink_from_dict(r.json(), "page").strokes


def test_foreign_host_names_are_refused_on_loopback(model, tmp_path):
    cfg = StudioConfig(data=tmp_path, model=model, allowed_hosts=["127.0.0.1", "localhost"])
    with running(cfg) as (url, _), httpx.Client(base_url=url) as client:
        assert client.get("/api/info").status_code == 200
        assert client.get("/api/info", headers={"Host": "evil.example"}).status_code == 400


def test_serve_command(model, tmp_path):
    cmd = [sys.executable, "-m", "inkstroke.cli.main", "serve", "--data", str(tmp_path)]
    bad = subprocess.run([*cmd, "--max-text", "0"], capture_output=True, text=True, timeout=120)
    assert bad.returncode == 2 and "--max-text must be positive" in bad.stderr
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    proc = subprocess.Popen(
        [*cmd, "--model", str(model), "--port", str(port)], stdout=subprocess.PIPE, text=True
    )
    try:
        url = f"http://127.0.0.1:{port}"
        for _ in range(600):
            try:
                info = httpx.get(url + "/api/info").json()
                break
            except httpx.TransportError:
                time.sleep(0.1)
        assert info["model"]["ready"] and info["database"] == str(tmp_path / "samples.sqlite")
        assert info["model"]["temperature"] == default_temperature(Generator.from_checkpoint(model))
        assert httpx.get(url + "/api/info", headers={"Host": "evil.example"}).status_code == 400
    finally:
        proc.terminate()
        out, _ = proc.communicate(timeout=30)
    assert f"open http://127.0.0.1:{port}/" in out


def test_chinese_mode_without_stroke_data_says_how_to_get_it(model, tmp_path, monkeypatch):
    monkeypatch.setenv("HOME", str(tmp_path))  # no fetched hanzi-writer-data there
    monkeypatch.delenv("INKSTROKE_HANZI_DATA", raising=False)
    with running(StudioConfig(data=tmp_path / "d", model=model)) as (url, _):
        r = httpx.get(url + "/api/stream", params={"text": "永", "mode": "hanzi"})
    assert r.status_code == 503 and "--hanzi-data" in r.json()["detail"]
