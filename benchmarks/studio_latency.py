"""Studio latency and load: time to first point, a 60-character line, 20 streams for 60 s.

Starts the studio in its own process on a loopback port (like ``inkstroke
serve``), then measures from a client, over real HTTP:

* latency: ``--runs`` streams one after another of "Hello world" and of a
  60-character line; time to the first point and to the ``end`` event;
* load: ``--streams`` clients each streaming short texts back to back for
  ``--seconds`` (p50/p95 time to first point, errors, server memory).

Targets (issue 10): first point < 300 ms; the 60-character line complete in
< 2 s on 2 cores; under load zero errors and no memory growth.

    python benchmarks/studio_latency.py [--model runs/hw] [--seconds 60] [--streams 20]
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import subprocess
import sys
import tempfile
import time

import httpx
import numpy as np

from inkstroke.studio.loadtest import run_load

LINE = "The quick brown fox jumps over the lazy dog, again and again"  # 60 characters
SERVER = """
import sys, uvicorn
from pathlib import Path
from inkstroke.studio.app import StudioConfig, create_app
model, data, port, slots = sys.argv[1:5]
cfg = StudioConfig(data=Path(data), model=Path(model) if model != "-" else None,
                   max_generations=int(slots))
uvicorn.run(create_app(cfg), host="127.0.0.1", port=int(port), log_level="warning")
"""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def one_stream(client: httpx.Client, text: str, seed: int) -> tuple[float, float, int]:
    t0 = time.perf_counter()
    first, points, kind = None, 0, None
    with client.stream("GET", "/api/stream", params={"text": text, "seed": seed}) as r:
        r.raise_for_status()
        for line in r.iter_lines():
            if line.startswith("event: "):
                kind = line[7:]
            elif line.startswith("data: ") and kind == "points":
                first = first if first is not None else time.perf_counter() - t0
                points += len(json.loads(line[6:]))
            elif line.startswith("data: ") and kind in ("end", "error"):
                if kind == "error" or json.loads(line[6:])["reason"] != "done":
                    raise RuntimeError(line)
    return first, time.perf_counter() - t0, points


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--model", default="-", help="checkpoint folder (default: the shipped model)")
    ap.add_argument("--runs", type=int, default=10)
    ap.add_argument("--streams", type=int, default=20)
    ap.add_argument("--seconds", type=float, default=60.0)
    args = ap.parse_args()

    port = free_port()
    url = f"http://127.0.0.1:{port}"
    with tempfile.TemporaryDirectory() as data:
        server = subprocess.Popen(
            [sys.executable, "-c", SERVER, args.model, data, str(port), str(args.streams)]
        )
        try:
            with httpx.Client(base_url=url, timeout=60) as client:
                for _ in range(300):
                    try:
                        info = client.get("/api/info").json()
                        break
                    except httpx.TransportError:
                        time.sleep(0.1)
                else:
                    raise SystemExit("the studio did not start")
                if not info["model"]["ready"]:
                    raise SystemExit(info["model"]["error"])
                print(f"cpus {os.cpu_count()}, load average before {os.getloadavg()[0]:.2f}")
                one_stream(client, "warm up", 0)
                for text in ("Hello world", LINE):
                    runs = [one_stream(client, text, seed) for seed in range(args.runs)]
                    first = np.array([r[0] for r in runs]) * 1000
                    total = np.array([r[1] for r in runs])
                    points = np.array([r[2] for r in runs])
                    print(
                        f"{len(text):3d} chars x {args.runs}: first point p50 {np.median(first):.0f} ms, "
                        f"max {first.max():.0f} ms; complete p50 {np.median(total):.2f} s, max {total.max():.2f} s; "
                        f"{points.mean():.0f} points"
                    )
            report = run_load(url, streams=args.streams, seconds=args.seconds, pid=server.pid)
            memory = [m for _, m in report.pop("rss_mb")]
            print(
                f"load: {report['streams']} streams for {report['seconds']} s: {report['completed']} completed, "
                f"{report['errors']} errors {report['first_errors'] or ''}"
            )
            if report["completed"]:
                print(
                    f"  first point p50 {report['first_point_ms_p50']:.0f} ms, p95 {report['first_point_ms_p95']:.0f} ms; "
                    f"stream p50 {report['stream_s_p50']:.2f} s, p95 {report['stream_s_p95']:.2f} s"
                )
            k = min(5, len(memory) - 1)
            print(
                f"  server memory: {memory[0]:.0f} MB at start, {memory[k]:.0f} MB after {k} s, "
                f"{max(memory):.0f} MB peak, {memory[-1]:.0f} MB at the end"
            )
            print(f"load average after {os.getloadavg()[0]:.2f}")
        finally:
            server.terminate()
            server.wait(10)


if __name__ == "__main__":
    main()
