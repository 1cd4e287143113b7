"""A bounded load test of a running studio: N streams at once, for S seconds, loopback only.

Each of ``streams`` clients opens a live stream, reads it to its ``end``
event, and starts the next one until the time is up; nothing new starts
after that, so the test stops by itself. Refused for any host but this
computer: it is a way to measure one's own server, not to load anyone else's.
"""

from __future__ import annotations

import asyncio
import ipaddress
import json
import time
from pathlib import Path
from urllib.parse import urlsplit

import numpy as np

from inkstroke.errors import InkstrokeError

TEXTS = ("hello", "ink", "write", "studio", "pen lift", "motion")


def _check_loopback(url: str) -> None:
    host = urlsplit(url).hostname or ""
    try:
        local = host == "localhost" or ipaddress.ip_address(host).is_loopback
    except ValueError:
        local = False
    if not local:
        raise InkstrokeError(
            f"{url}: the load test only runs against this computer (127.0.0.1, ::1, localhost)"
        )


def rss_mb(pid: int) -> float:
    """Resident memory of a process, MB (Linux)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise InkstrokeError(f"process {pid}: no VmRSS in /proc")


async def _one(client, url: str, params: dict) -> dict:
    t0 = time.perf_counter()
    first = None
    points = 0
    end = None
    async with client.stream("GET", url, params=params) as r:
        if r.status_code != 200:
            return {
                "error": f"HTTP {r.status_code}: {(await r.aread())[:200].decode(errors='replace')}"
            }
        kind = None
        async for line in r.aiter_lines():
            if line.startswith("event: "):
                kind = line[7:]
            elif line.startswith("data: "):
                data = json.loads(line[6:])
                if kind == "points":
                    first = first if first is not None else time.perf_counter() - t0
                    points += len(data)
                elif kind == "error":
                    return {"error": f"error event: {data.get('detail')}"}
                elif kind == "end":
                    end = data
    if end is None:
        return {"error": "the stream ended without an end event"}
    if end["reason"] != "done" or end["points"] != points or first is None:
        return {"error": f"bad end {end} after {points} points"}
    return {"first": first, "total": time.perf_counter() - t0, "points": points}


async def _run(url: str, streams: int, seconds: float, texts, pid: int | None) -> dict:
    import httpx

    deadline = time.monotonic() + seconds
    results: list[dict] = []
    memory: list[tuple[float, float]] = []
    t_start = time.monotonic()

    async def client_loop(k: int, client) -> None:
        n = 0
        while time.monotonic() < deadline:
            params = {"text": texts[(k + n) % len(texts)], "seed": k * 1000 + n}
            try:
                results.append(await _one(client, url + "/api/stream", params))
            except httpx.HTTPError as e:
                results.append({"error": f"{type(e).__name__}: {e}"})
            n += 1

    async def watch_memory() -> None:
        while time.monotonic() < deadline:
            memory.append((time.monotonic() - t_start, rss_mb(pid)))
            await asyncio.sleep(1.0)

    limits = httpx.Limits(max_connections=streams + 2)
    async with httpx.AsyncClient(timeout=httpx.Timeout(120.0), limits=limits) as client:
        tasks = [client_loop(k, client) for k in range(streams)]
        if pid is not None:
            tasks.append(watch_memory())
        await asyncio.gather(*tasks)
    if pid is not None:
        memory.append((time.monotonic() - t_start, rss_mb(pid)))
    ok = [r for r in results if "error" not in r]
    errors = [r["error"] for r in results if "error" in r]
    first = np.array([r["first"] for r in ok]) * 1000
    total = np.array([r["total"] for r in ok])
    report = {
        "streams": streams,
        "seconds": round(time.monotonic() - t_start, 1),
        "completed": len(ok),
        "errors": len(errors),
        "first_errors": errors[:3],
        "points": int(sum(r["points"] for r in ok)),
    }
    if len(ok):
        report |= {
            "first_point_ms_p50": float(np.percentile(first, 50)),
            "first_point_ms_p95": float(np.percentile(first, 95)),
            "stream_s_p50": float(np.percentile(total, 50)),
            "stream_s_p95": float(np.percentile(total, 95)),
        }
    if memory:
        report["rss_mb"] = [(round(t, 1), round(m, 1)) for t, m in memory]
    return report


def run_load(
    url: str, streams: int = 20, seconds: float = 60.0, texts=TEXTS, pid: int | None = None
) -> dict:
    """Load ``url`` (a studio on this computer) and report completed streams, errors,
    p50/p95 time to first point and stream time, and (given the server's ``pid``)
    its resident memory once a second."""
    _check_loopback(url)
    if streams < 1 or not 0 < seconds <= 600:
        raise InkstrokeError(
            f"streams must be >= 1 and seconds in (0, 600], got {streams}, {seconds}"
        )
    return asyncio.run(_run(url.rstrip("/"), streams, seconds, tuple(texts), pid))
