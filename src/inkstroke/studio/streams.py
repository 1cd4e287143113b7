"""Live points over server-sent events, from a few writer threads shared by all streams.

The generator is synchronous and CPU-bound. A thread per stream would make
twenty streams fight over the GIL at every tensor operation, and a new
stream's first point would wait behind all of them; instead a fixed set of
writer threads (about one per core) takes turns over their streams one
decoding step at a time. A new stream gets its first step within one round,
every stream advances at the same pace, and a cancelled stream is dropped
before its next step: a closed tab frees its work at once.

Points go to the event loop in small batches: the first point at once (time
to first point is what a person notices), then at most one batch every
:data:`FLUSH_S`. Slots bound the work: a request over the limit is refused
at once (429) rather than queued behind work the machine may never catch up with.
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
    """One generation: points drawn from ``make()`` a step at a time by a writer
    thread, sent as an SSE body. The caller has taken a slot; the last step
    gives it back once the work has really stopped, whatever stopped it."""

    def __init__(
        self,
        make: Callable[[], Iterator[Point]],
        slots: Slots,
        timeout_s: float,
        start: dict,
        digits: int = 4,
    ):
        self.make, self.slots, self.start, self.digits = make, slots, start, digits
        self.deadline = time.monotonic() + timeout_s
        self.cancelled = threading.Event()
        self.loop = asyncio.get_running_loop()
        self.queue: asyncio.Queue = asyncio.Queue()
        self.points: Iterator[Point] | None = None
        self.batch: list[list] = []
        self.t0 = time.perf_counter()
        self.sent_at = 0.0
        self.n = self.lifts = 0

    def cancel(self) -> None:
        self.cancelled.set()

    def _put(self, item) -> None:
        try:
            self.loop.call_soon_threadsafe(self.queue.put_nowait, item)
        except RuntimeError:  # the event loop is gone: nobody is listening
            self.cancelled.set()

    def _stop(self, *events) -> bool:
        """Free the generator and the slot, then send the last events: a client that
        starts its next stream on seeing ``end`` must find the slot free."""
        close = getattr(self.points, "close", None)
        if close is not None:
            close()
        self.slots.give()
        for event in events:
            self._put(event)
        return False

    def _end(self, reason: str) -> bool:
        batch = [("points", self.batch)] if self.batch else []
        return self._stop(
            *batch,
            (
                "end",
                {
                    "reason": reason,
                    "points": self.n,
                    "pen_lifts": self.lifts,
                    "seconds": round(time.perf_counter() - self.t0, 3),
                },
            ),
        )

    def step(self) -> bool:
        """Produce one point (writer thread); False once the stream is over and freed."""
        try:
            if self.cancelled.is_set():
                return self._end("cancelled")
            if time.monotonic() > self.deadline:
                return self._end("timeout")
            if self.points is None:
                self.points = iter(self.make())
            try:
                x, y, up = next(self.points)
            except StopIteration:
                return self._end("done")
            self.batch.append([round(x, self.digits), round(y, self.digits), int(up)])
            self.n += 1
            self.lifts += int(up)
            now = time.perf_counter()
            if self.n == 1 or now - self.sent_at >= FLUSH_S:
                self._put(("points", self.batch))
                self.batch, self.sent_at = [], now
            return True
        except InkstrokeError as e:
            return self._stop(("error", {"detail": str(e)}))
        except Exception:
            log.exception("stream failed")
            return self._stop(
                ("error", {"detail": "internal error while generating; see the server log"})
            )

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


class Writers:
    """``count`` writer threads, each stepping its streams in turn."""

    def __init__(self, count: int):
        self._streams: list[list[PointStream]] = [[] for _ in range(count)]
        self._cond = threading.Condition()
        self._closed = False
        self._threads = [
            threading.Thread(
                target=self._work, args=(k,), name=f"inkstroke-writer-{k}", daemon=True
            )
            for k in range(count)
        ]
        for t in self._threads:
            t.start()

    def submit(self, stream: PointStream) -> None:
        with self._cond:
            min(self._streams, key=len).append(stream)
            self._cond.notify_all()

    def active(self) -> int:
        with self._cond:
            return sum(len(s) for s in self._streams)

    def close(self) -> None:
        """Stop the threads; streams still running are cancelled first."""
        with self._cond:
            for streams in self._streams:
                for s in streams:
                    s.cancel()
            self._closed = True
            self._cond.notify_all()
        for t in self._threads:
            t.join(5)

    def _work(self, k: int) -> None:
        mine = self._streams[k]
        while True:
            with self._cond:
                while not mine and not self._closed:
                    self._cond.wait()
                if not mine:
                    return
                turn = list(mine)
            for stream in turn:
                if not stream.step():
                    with self._cond:
                        mine.remove(stream)
