"""Screenshots of the studio for docs/studio.md, taken in headless Debian Chromium.

    python docs/images/studio/screenshots.py [--model CHECKPOINT]

Starts the studio on a loopback port with a fresh, temporary sample store,
writes "Hello world" live, traces 永 in stroke order, lets the brush write
永字, and draws a sample in collect mode with synthetic pointer events.
"""

from __future__ import annotations

import argparse
import tempfile
import threading
import time
from pathlib import Path

import uvicorn
from playwright.sync_api import sync_playwright

from inkstroke.studio.app import StudioConfig, create_app

HERE = Path(__file__).resolve().parent
ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


def draw_word(page, pad) -> None:
    """'hi' in three strokes, as a hand would move a mouse."""
    x, y = pad["x"] + 120, pad["y"] + 80
    strokes = [
        [(x, y), (x, y + 100)],
        [(x, y + 100), (x + 5, y + 60), (x + 25, y + 50), (x + 40, y + 60), (x + 45, y + 100)],
        [(x + 80, y + 55), (x + 80, y + 100)],
    ]
    for stroke in strokes:
        page.mouse.move(*stroke[0])
        page.mouse.down()
        for (x0, y0), (x1, y1) in zip(stroke, stroke[1:], strict=False):
            for t in range(1, 11):
                page.mouse.move(x0 + (x1 - x0) * t / 10, y0 + (y1 - y0) * t / 10)
        page.mouse.up()
    page.mouse.move(x + 80, y + 35)
    page.mouse.down()
    page.mouse.move(x + 81, y + 36)
    page.mouse.up()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--model", type=Path, default=None)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as data:
        app = create_app(StudioConfig(data=Path(data), model=args.model))
        server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=0, log_level="warning"))
        threading.Thread(target=server.run, daemon=True).start()
        while not server.started:
            time.sleep(0.05)
        url = f"http://127.0.0.1:{server.servers[0].sockets[0].getsockname()[1]}"
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=ARGS)
            page = browser.new_page(viewport={"width": 1100, "height": 640})
            page.goto(url)
            page.fill("#write-text", "Hello world, written live")
            page.click("#write-go")
            page.wait_for_selector("#write-replay:not([disabled])", timeout=60_000)
            page.wait_for_timeout(500)
            page.screenshot(path=HERE / "write.png")

            page.click("#tab-hanzi")
            page.fill("#hanzi-text", "永字")
            page.click("#hanzi-go")
            page.wait_for_timeout(1800)  # mid-animation: the pen is on its way
            page.screenshot(path=HERE / "chinese.png")

            page.click("#tab-brush")
            page.fill("#brush-text", "永字")
            page.click("#brush-go")
            page.wait_for_selector("#brush-png:not([disabled])", timeout=300_000)
            page.screenshot(path=HERE / "calligraphy.png")

            page.click("#tab-collect")
            page.fill("#collect-writer", "ada")
            draw_word(page, page.locator("#collect-canvas").bounding_box())
            page.fill("#collect-text", "hi")
            page.click("#collect-save")
            page.wait_for_selector("text=saved sample #")
            draw_word(page, page.locator("#collect-canvas").bounding_box())
            page.fill("#collect-text", "hi")
            page.screenshot(path=HERE / "collect.png", full_page=True)
            browser.close()
        server.should_exit = True
    print("wrote", ", ".join(f"{n}.png" for n in ("write", "chinese", "calligraphy", "collect")))


if __name__ == "__main__":
    main()
