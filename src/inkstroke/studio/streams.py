"""Live points over server-sent events, one worker thread per stream.

The generator is synchronous and CPU-bound, so each stream runs it in its own
thread and hands points to the event loop in small batches: the first point
at once (time to first point is what a person notices), then at most one
batch every :data:`FLUSH_S`, so twenty streams do not wake the loop thousands
of times a second. A stream stops at the first of: the text written, its
deadline, or a cancel from the client going away; the thread checks between
steps, so a closed tab frees its slot within one decoding step.

Slots bound the work: a request over the limit is refused at once (429)
rather than queued behind work the machine may never catch up with.
"""

from __future__ import annotations

import asyncio
import json
import logging
import threading
import time
from collections.abc import AsyncIterator, Callable, Iterator

from inkstroke.errors import InkstrokeError

Point = tuple[float, float, bool]
FLUSH_S = 0.02  # longest a produced point waits before it is sent
KEEPALIVE_S = 5.0  # an SSE comment when nothing else was sent, so proxies keep the line open
log = logging.getLogger("inkstroke.studio")


class Slots:
    """A counter of running generations, refused (not queued) beyond ``limit``."""

    def __init__(self, limit: int):
        self.limit, self.active = limit, 0
        self._lock = threading.Lock()

    def try_take(self) -> bool:
        with self._lock:
            if self.active >= self.limit:
                return False
            self.active += 1
            return True

    def give(self) -> None:
        with self._lock:
            self.active -= 1


def sse(event: str, data) -> bytes:
    return f"event: {event}\ndata: {json.dumps(data, separators=(',', ':'))}\n\n".encode()


class PointStream:
    """One generation: a thread drawing points from ``make()``, an SSE body to send them.

    The caller has taken a slot; the thread gives it back when the work has
    really stopped, whatever stopped it.
    """

    def __init__(self, make: Callable[[], Iterator[Point]], slots: Slots, timeout_s: float,
                 start: dict, digits: int = 4):
        self.make, self.slots, self.start, self.digits = make, slots, start, digits
        self.deadline = time.monotonic() + timeout_s
        self.cancelled = threading.Event()
        self.finished = threading.Event()
        self.loop = asyncio.get_running_loop()
        self.queue: asyncio.Queue = asyncio.Queue()
        self.thread = threading.Thread(target=self._run, name="inkstroke-stream", daemon=True)
        self.thread.start()

    def cancel(self) -> None:
        self.cancelled.set()

    def _put(self, item) -> None:
        try:
            self.loop.call_soon_threadsafe(self.queue.put_nowait, item)
        except RuntimeError:  # the event loop is gone: nobody is listening
            self.cancelled.set()

    def _run(self) -> None:
        t0 = time.perf_counter()
        batch: list[list] = []
        sent_at = n = lifts = 0
        reason = "done"
        try:
            points = self.make()
            try:
                for x, y, up in points:
                    if self.cancelled.is_set():
                        reason = "cancelled"
                        break
                    if time.monotonic() > self.deadline:
                        reason = "timeout"
                        break
                    batch.append([round(x, self.digits), round(y, self.digits), int(up)])
                    n += 1
                    lifts += int(up)
                    now = time.perf_counter()
                    if n == 1 or now - sent_at >= FLUSH_S:
                        self._put(("points", batch))
                        batch, sent_at = [], now
            finally:
                close = getattr(points, "close", None)
                if close is not None:
                    close()
            if batch:
                self._put(("points", batch))
            self._put(("end", {"reason": reason, "points": n, "pen_lifts": lifts,
                               "seconds": round(time.perf_counter() - t0, 3)}))
        except InkstrokeError as e:
            self._put(("error", {"detail": str(e)}))
        except Exception:
            log.exception("stream failed")
            self._put(("error", {"detail": "internal error while generating; see the server log"}))
        finally:
            self.slots.give()
            self.finished.set()

    async def events(self) -> AsyncIterator[bytes]:
        """The SSE body: ``start``, then ``points`` batches of ``[x, y, pen_up]``,
        then ``end`` (or ``error``). Leaving early (a disconnect) cancels the work."""
        try:
            yield sse("start", self.start)
            while True:
                try:
                    kind, data = await asyncio.wait_for(self.queue.get(), KEEPALIVE_S)
                except TimeoutError:
                    yield b": keep-alive\n\n"
                    continue
                yield sse(kind, data)
                if kind != "points":
                    return
        finally:
            self.cancel()
