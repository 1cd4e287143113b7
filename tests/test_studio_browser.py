"""The studio page end to end in headless Chromium (Debian's, driven by Playwright).

Skipped where Playwright or /usr/bin/chromium is missing; never downloads a browser.
"""

import xml.etree.ElementTree as ET
from pathlib import Path

import numpy as np
import pytest

from inkstroke.io.container import InkDataset
from inkstroke.studio.app import StudioConfig

sync_api = pytest.importorskip("playwright.sync_api")
CHROMIUM = Path("/usr/bin/chromium")
if not CHROMIUM.exists():
    pytest.skip(
        "Debian's chromium is not installed (apt-get install chromium)", allow_module_level=True
    )
ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
HANZI = Path(__file__).parent / "fixtures" / "hanzi"


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    from test_studio_app import running, untrained_model

    model = untrained_model(tmp_path_factory.mktemp("model"))
    cfg = StudioConfig(data=tmp_path_factory.mktemp("data"), model=model, hanzi_source=str(HANZI))
    with running(cfg) as (url, app):
        yield url, app


@pytest.fixture(scope="module")
def browser():
    with sync_api.sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=ARGS)
        yield chromium
        chromium.close()


@pytest.fixture
def page(browser, server):
    context = browser.new_context(viewport={"width": 1100, "height": 800}, accept_downloads=True)
    page = context.new_page()
    errors = []
    page.on("pageerror", lambda e: errors.append(e))
    yield page
    context.close()
    assert not errors, errors


def test_hello_world_is_written_live_and_downloads_as_svg(page, server):
    url, _ = server
    page.goto(url)
    page.fill("#write-text", "Hello world")
    page.click("#write-go")
    page.wait_for_selector("#write-replay:not([disabled])", timeout=30_000)
    view = page.evaluate(
        "({n: studio.write.view.points.length, arrived: studio.write.view.arrived,"
        " strokes: studio.write.view.strokes().length})"
    )
    assert view["n"] > 20 and view["strokes"] > 1
    arrived = np.array(view["arrived"])
    assert len(np.unique(arrived)) >= 2 and arrived[-1] > arrived[0], "points came all at once"
    assert f"{view['n']} points" in page.inner_text("#write-stats")

    with page.expect_download() as download:
        page.click("#write-downloads button[data-format=svg]")
    assert download.value.suggested_filename == "Hello world.svg"
    svg = ET.parse(download.value.path()).getroot()
    assert svg.findtext("{http://www.w3.org/2000/svg}title") == "Hello world"
    assert len(svg.findall(".//{http://www.w3.org/2000/svg}path")) == view["strokes"]


def test_chinese_mode_traces_strokes_in_order(page, server):
    url, _ = server
    page.goto(url + "#hanzi")
    page.fill("#hanzi-text", "永")
    page.click("#hanzi-go")
    page.wait_for_selector("#hanzi-replay:not([disabled])", timeout=30_000)
    assert page.evaluate("studio.hanzi.view.strokes().length") == 5
    # the points all arrive at once, but the pen traces them over many frames (checked
    # on every animation frame, inside the page), and replays them the same way
    tracing = "(v => v.shown > 0 && v.shown < v.points.length)(studio.hanzi.view)"
    page.wait_for_function("studio.hanzi.view.finished", timeout=10_000)
    page.click("#hanzi-replay")
    page.wait_for_function(tracing, polling="raf", timeout=10_000)
    page.wait_for_function("studio.hanzi.view.finished", timeout=10_000)


def test_three_strokes_are_collected_saved_and_exported(page, server, tmp_path):
    url, app = server
    page.goto(url + "#collect")
    pad = page.locator("#collect-canvas").bounding_box()
    for k in range(3):
        x0, y0 = pad["x"] + 80 + 150 * k, pad["y"] + 60
        page.mouse.move(x0, y0)
        page.mouse.down()
        for i in range(1, 12):
            page.mouse.move(x0 + 5 * i, y0 + 7 * i + (i % 3))
        page.mouse.up()
    page.fill("#collect-text", "three strokes")
    with page.expect_response("**/api/samples") as response:
        page.click("#collect-save")
    assert response.value.status == 201
    posted = response.value.request.post_data_json
    saved = response.value.json()
    assert len(posted["strokes"]) == 3 and posted["device"] == "mouse"
    assert all(len(s) >= 10 for s in posted["strokes"])
    assert all(p[3] == 0.5 for s in posted["strokes"] for p in s)  # a pressed mouse
    page.wait_for_selector("text=saved sample #")

    page.reload()
    item = page.locator(f'#sample-list li[data-id="{saved["id"]}"]')
    item.wait_for()
    assert "three strokes" in item.inner_text() and "3 strokes" in item.inner_text()

    stored = app.state.studio.store.get(saved["id"])
    assert stored.text == "three strokes"
    for got, sent in zip(stored.strokes, posted["strokes"], strict=True):
        assert np.array_equal(got, np.array(sent)[:, :2])
    blob = page.request.get(url + "/api/samples/export/inks").body()
    (tmp_path / "export.inks").write_bytes(blob)
    data = InkDataset(tmp_path / "export.inks")
    k = [r["text"] for r in data.records].index("three strokes")
    for got, sent in zip(data[k].strokes, posted["strokes"], strict=True):
        np.testing.assert_allclose(got, np.array(sent)[:, :2], atol=1e-3)
    np.testing.assert_allclose(
        np.concatenate(data[k].times), [p[2] for s in posted["strokes"] for p in s], atol=1e-3
    )
