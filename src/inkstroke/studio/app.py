"""The studio's ASGI app: live writing over SSE, downloads, and collect mode.

Everything is a thin layer over the Python API: the streaming generator for
live English handwriting, hanzi-writer-data medians (or the hanzi model, for
characters without data) for Chinese stroke order,
:func:`inkstroke.write.api.write` for laid-out pages, the renderers and the
robot G-code writer for downloads, and :class:`~inkstroke.studio.db.SampleStore`
for the handwriting people collect. Bad input is a 4xx with ``{"detail":
"one clear sentence"}``; limits come from :class:`StudioConfig`.
"""

from __future__ import annotations

import functools
import io
import json
import os
import tempfile
from contextlib import asynccontextmanager
from dataclasses import asdict, dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import numpy as np
from fastapi import Body, FastAPI, HTTPException, Query, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import FileResponse, JSONResponse, Response, StreamingResponse
from fastapi.staticfiles import StaticFiles
from pydantic import BaseModel, Field
from starlette.background import BackgroundTask

from inkstroke.errors import InkstrokeError
from inkstroke.ink import Ink
from inkstroke.sample.generate import WORD_SPACE
from inkstroke.studio import outputs
from inkstroke.studio.db import SampleStore, StoreError
from inkstroke.studio.streams import PointStream, Slots, Writers
from inkstroke.write.api import default_guidance, default_temperature

STATIC = Path(__file__).resolve().parent / "static"
HANZI_FRAME = 1024.0  # hanzi-writer-data: a character's box, image row = 900 - y
HANZI_STEP = 12.0  # resampling of the medians, so stroke order animates smoothly
MAX_PAGE_MM = 1200.0  # A0 is 1189 mm tall
ERROR = {
    "model": None,
    "description": "A clear error",
    "content": {
        "application/json": {
            "schema": {"type": "object", "properties": {"detail": {"type": "string"}}}
        }
    },
}


@dataclass
class StudioConfig:
    """Where the studio keeps its data, which model it runs, and its limits."""

    data: Path
    model: Path | None = None  # None: the model shipped in the package
    max_text: int = 200  # characters per live line, Chinese text or sample text
    max_page_text: int = 2000  # characters per laid-out document (/api/write)
    max_generations: int = 8  # streams, documents and brush characters being made at once
    max_brush_chars: int = 8  # characters per calligraphy request (seconds of work each)
    max_body: int = 2_000_000  # bytes per request body
    max_points: int = 20_000  # points per collected sample
    max_strokes: int = 500  # strokes per collected sample
    stream_timeout: float = 60.0  # seconds one stream may run
    writers: int = 2  # threads that step the live streams in turn (about one per core)
    threads: int = 1  # torch threads per writer: small tensors gain nothing from more
    hanzi_source: str | None = None  # hanzi-writer-data folder or .tgz (None: the cached package)
    allowed_hosts: list[str] = field(default_factory=lambda: ["*"])


class Format(StrEnum):
    svg = "svg"
    png = "png"
    gif = "gif"
    pdf = "pdf"
    json = "json"
    inkml = "inkml"
    gcode = "gcode"


class Export(StrEnum):
    inks = "inks"
    inkml = "inkml"


class Brush(StrEnum):
    png = "png"
    json = "json"


class Mode(StrEnum):
    handwriting = "handwriting"
    hanzi = "hanzi"


class SampleIn(BaseModel):
    """One sample written on the collect canvas (CSS px, y down; t in s from the first touch)."""

    text: str = Field(description="What the writer wrote.")
    writer: str | None = Field(None, max_length=100, description="Who wrote it (any label).")
    device: str | None = Field(
        None, max_length=20, description="Pointer type: mouse, pen or touch."
    )
    canvas: tuple[float, float] | None = Field(None, description="Canvas width and height, CSS px.")
    strokes: list[list[list[float]]] = Field(description="Strokes of [x, y, t, pressure] points.")


class SampleOut(BaseModel):
    id: int
    text: str
    writer: str | None
    device: str | None
    created: float
    strokes: int
    points: int


class WriteIn(BaseModel):
    """A document laid out on pages, as ``inkstroke write`` makes it."""

    text: str
    style: str | None = Field(
        None, description="A shipped style, or sample:ID[,ID...] for your own hand."
    )
    temperature: float | None = Field(None, ge=0.05, le=2.0, description="Default: the model's tuned value.")
    bias: float = Field(0.0, ge=0.0, le=10.0)
    seed: int = Field(0, ge=0, le=2**31 - 1)
    page: str = Field("a4", max_length=20, description="a4, a5, letter, ... or WxH in mm.")
    x_height: float = Field(3.0, gt=0.5, le=30.0, description="Body height of the writing, mm.")


def _error(status: int, detail: str) -> HTTPException:
    return HTTPException(status_code=status, detail=detail)


def _name(name: str) -> str:
    """A download name, or a 400: a path or hidden name is never sent back as a file name."""
    try:
        return outputs.check_name(name)
    except InkstrokeError as e:
        raise _error(400, str(e)) from None


def _attachment(data: bytes, fmt: str, name: str) -> Response:
    name = _name(name)
    return Response(
        data,
        media_type=outputs.MEDIA_TYPES[fmt],
        headers={"Content-Disposition": f'attachment; filename="{name}.{outputs.SUFFIX[fmt]}"'},
    )


def _sample_ink(sample: SampleIn, cfg: StudioConfig) -> Ink:
    """The ink of a posted sample, or a 422 naming the first thing wrong with it."""
    text = sample.text.strip()
    if not text:
        raise _error(422, "the sample has no text: type what you wrote")
    if len(text) > cfg.max_text:
        raise _error(422, f"the sample text has {len(text)} characters; at most {cfg.max_text}")
    if not sample.strokes:
        raise _error(422, "the sample has no strokes: write something first")
    if len(sample.strokes) > cfg.max_strokes:
        raise _error(
            422, f"the sample has {len(sample.strokes)} strokes; at most {cfg.max_strokes}"
        )
    total = sum(len(s) for s in sample.strokes)
    if total > cfg.max_points:
        raise _error(422, f"the sample has {total} points; at most {cfg.max_points}")
    strokes, times, pressures, last_t = [], [], [], 0.0
    for i, stroke in enumerate(sample.strokes):
        if not stroke:
            raise _error(422, f"stroke {i} is empty")
        if any(len(p) != 4 for p in stroke):
            k = next(k for k, p in enumerate(stroke) if len(p) != 4)
            raise _error(
                422, f"stroke {i}, point {k}: expected [x, y, t, pressure], got {stroke[k]}"
            )
        a = np.asarray(stroke, dtype=np.float64)
        bad = ~np.isfinite(a).all(axis=1) | (np.abs(a[:, :2]) > 1e6).any(axis=1)
        bad |= (a[:, 3] < 0) | (a[:, 3] > 1) | (a[:, 2] < last_t)
        bad[1:] |= np.diff(a[:, 2]) < 0
        if bad.any():
            k = int(np.flatnonzero(bad)[0])
            raise _error(
                422,
                f"stroke {i}, point {k}: {stroke[k]} is not a point (finite x and y, "
                "times in seconds that never go back, pressure from 0 to 1)",
            )
        last_t = float(a[-1, 2])
        strokes.append(a[:, :2])
        times.append(a[:, 2])
        pressures.append(a[:, 3])
    writer = sample.writer.strip() if sample.writer else None
    return Ink(
        strokes,
        times=times,
        pressures=pressures,
        text=text,
        writer=writer or None,
        source="inkstroke.studio",
        units="px",
        y_axis="down",
    )


def _ids(spec: str) -> list[int]:
    try:
        ids = [int(p) for p in spec.split(",") if p.strip()]
    except ValueError:
        ids = []
    if not ids:
        raise _error(422, f"{spec!r} is not a list of sample ids such as 3 or 3,5,8")
    return ids


@functools.lru_cache(maxsize=8)
def brush_characters(chars: str, steps: int, seed: int) -> tuple:
    """Each character written by the simulated brush, its motion optimised for
    ``steps`` steps to match the Kaiti glyph (0: the default motion from the
    medians); cached, since the page shows the picture and then downloads."""
    from inkstroke.calligraphy.optimize import OptimizeConfig, write_character

    full = OptimizeConfig()
    config = full.scaled(steps / sum(s.steps for s in full.stages)) if steps else None
    return tuple(write_character(c, 256, None, "font", config, seed=seed) for c in chars)


def hanzi_points(inks: list[Ink]):
    """Characters left to right, each stroke in its order, as (x, y, pen_up)."""
    for k, ink in enumerate(inks):
        placed = ink.transform(np.diag([1.0, -1.0]), (k * HANZI_FRAME, 900.0)).resample(HANZI_STEP)
        for stroke in placed.strokes:
            for i, (x, y) in enumerate(stroke):
                yield float(x), float(y), i == 0


class Studio:
    """The state behind the routes: config, model, sample store, generation slots."""

    def __init__(self, cfg: StudioConfig):
        import torch

        self.cfg = cfg
        self.store = SampleStore(cfg.data)
        self.slots = Slots(cfg.max_generations)
        self.writers = Writers(cfg.writers)
        torch.set_num_threads(cfg.threads)
        self.model_error: str | None = None
        self._generator = None
        from inkstroke.write.api import load_generator

        try:
            self._generator = load_generator(self.model_arg())
        except InkstrokeError as e:
            self.model_error = f"no handwriting model: {e}; start the studio with --model PATH"

    def generator(self):
        if self._generator is None:
            raise _error(503, self.model_error or "no handwriting model")
        return self._generator

    def model_arg(self) -> str | None:
        return str(self.cfg.model) if self.cfg.model else None

    def check_text(self, text: str, limit: int) -> str:
        if len(text) > limit:
            raise _error(
                422, f"the text has {len(text)} characters; the studio allows at most {limit}"
            )
        return text

    def take_slot(self) -> None:
        if not self.slots.try_take():
            raise _error(
                429, f"{self.slots.limit} generations are already running; try again in a moment"
            )

    def primer(self, style: str | None) -> tuple[Ink, str] | None:
        """A style: none, a shipped style name, or ``sample:ID[,ID...]`` (your own hand)."""
        from inkstroke.write.api import available_styles, last_word_primer, load_style

        if not style or style == "none":
            return None
        if style.startswith("sample:"):
            ids = _ids(style.removeprefix("sample:"))
            try:
                inks = self.store.inks(ids)
            except KeyError as e:
                raise _error(404, f"no saved sample with id {e.args[0]}") from None
            ink = Ink.place_on_line([i.normalized(1.0) for i in inks], gap=0.6)
            gen = self.generator()
            text = gen.check_text(ink.text)
            room = gen.model.cfg.max_steps // 2
            if len(gen.stroke_tok.encode(ink)) > room:
                raise _error(
                    422,
                    f"the chosen samples are too long to use as a style (over {room} "
                    "pen moves); choose fewer or shorter ones",
                )
            return last_word_primer(ink, text)
        names = available_styles(self.model_arg())
        if style not in names:
            raise _error(
                422,
                f"unknown style {style!r}; choose one of: none, {', '.join(names) or 'sample:ID'}",
            )
        return load_style(style, self.model_arg())

    def hanzi_inks(self, chars: str) -> list[Ink]:
        """The medians of each character; a CJK character the data lacks is
        written from its Kaiti glyph by the shipped hanzi model. Never a
        download inside a request."""
        from inkstroke.hanzi.generate import is_hanzi, write_characters
        from inkstroke.io.hanzi import (
            ENV_VAR,
            available_characters,
            character_ink,
            default_cache_dir,
        )

        fetched = default_cache_dir() / "2.0.1"
        if not (self.cfg.hanzi_source or os.environ.get(ENV_VAR) or fetched.is_dir()):
            raise _error(
                503,
                "Chinese mode needs hanzi-writer-data: start the studio with --hanzi-data "
                f"FOLDER_OR_TGZ, set {ENV_VAR}, or fetch it once with "
                "`inkstroke data import hanzi npm -o hanzi.inks`",
            )
        chars = "".join(c for c in chars if not c.isspace())
        if not chars:
            raise _error(422, "no characters to write")
        self.check_text(chars, self.cfg.max_text)
        known = set(available_characters(self.cfg.hanzi_source))
        unknown = list(dict.fromkeys(c for c in chars if c not in known and is_hanzi(c)))
        written = dict(zip(unknown, write_characters(unknown))) if unknown else {}
        return [written[c] if c in written else character_ink(c, self.cfg.hanzi_source) for c in chars]

    def info(self) -> dict:
        from inkstroke.write.api import available_styles

        gen = self._generator
        return {
            "model": {
                "ready": gen is not None,
                "error": self.model_error,
                "name": self.cfg.model.name if self.cfg.model else "shipped",
                "characters": "".join(gen.text_tok.vocab[2:]) if gen else "",
                "temperature": default_temperature(gen) if gen else None,  # the page's starting value
            },
            "styles": available_styles(self.model_arg()) if gen else [],
            "formats": list(outputs.FORMATS),
            "limits": {k: v for k, v in asdict(self.cfg).items() if k.startswith("max_")}
            | {"stream_timeout": self.cfg.stream_timeout},
            "samples": self.store.count(),
            "database": str(self.store.path),
        }


class BodyLimit:
    """ASGI middleware: a request body over ``limit`` bytes is a 413, whether it
    announces its length or arrives in chunks, before any of it is parsed."""

    def __init__(self, app, limit: int):
        self.app, self.limit = app, limit

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        message = f"the request body is over the studio's limit of {self.limit} bytes"
        length = dict(scope["headers"]).get(b"content-length")
        if length is not None and (not length.isdigit() or int(length) > self.limit):
            return await JSONResponse({"detail": message}, status_code=413)(scope, receive, send)
        seen = 0

        async def counted():
            nonlocal seen
            msg = await receive()
            seen += len(msg.get("body", b""))
            if seen > self.limit:
                raise HTTPException(413, message)  # FastAPI answers it as it is
            return msg

        await self.app(scope, counted, send)


def create_app(cfg: StudioConfig) -> FastAPI:
    studio = Studio(cfg)

    @asynccontextmanager
    async def lifespan(app: FastAPI):
        yield
        studio.writers.close()

    app = FastAPI(
        lifespan=lifespan,
        title="inkstroke studio",
        version="1",
        description="Live handwriting over server-sent events, downloads in every format, "
        "and collection of real handwriting into a local SQLite store.",
    )
    app.state.studio = studio

    @app.exception_handler(InkstrokeError)
    async def bad_input(request: Request, e: InkstrokeError):
        return JSONResponse(
            {"detail": str(e)}, status_code=503 if isinstance(e, StoreError) else 422
        )

    @app.exception_handler(RequestValidationError)
    async def invalid(request: Request, e: RequestValidationError):
        parts = []
        for err in e.errors()[:3]:
            where = ".".join(str(p) for p in err.get("loc", ()) if p != "body")
            parts.append(f"{where}: {err.get('msg')}" if where else str(err.get("msg")))
        return JSONResponse({"detail": "; ".join(parts) or "invalid request"}, status_code=422)

    # ------------------------------------------------------------- page
    @app.get("/", include_in_schema=False)
    async def index():
        return FileResponse(STATIC / "index.html")

    app.mount("/static", StaticFiles(directory=STATIC), name="static")

    @app.get("/api/info", summary="Model, styles, formats and limits")
    def info() -> dict:
        return studio.info()

    # ------------------------------------------------------------- live writing
    @app.get(
        "/api/stream",
        summary="Write text live: points as server-sent events",
        response_class=StreamingResponse,
        responses={
            200: {
                "description": "An SSE stream: `start` (mode, text, units, frame), then "
                "`points` events, each a JSON list of [x, y, pen_up] (y down; pen_up 1: the "
                "move to this point was in the air, a new stroke starts), then `end` "
                "({reason, points, pen_lifts, seconds}) or `error` ({detail}).",
                "content": {"text/event-stream": {"schema": {"type": "string"}}},
            },
            404: ERROR,
            422: ERROR,
            429: ERROR,
            503: ERROR,
        },
    )
    async def stream(
        text: Annotated[
            str,
            Query(
                max_length=10_000, description="English text, or Chinese characters in hanzi mode."
            ),
        ],
        mode: Mode = Mode.handwriting,
        style: Annotated[
            str | None, Query(description="none, a shipped style, or sample:ID[,ID...]")
        ] = None,
        temperature: Annotated[float | None, Query(ge=0.05, le=2.0)] = None,
        bias: Annotated[float, Query(ge=0.0, le=10.0)] = 0.0,
        seed: Annotated[int, Query(ge=0, le=2**31 - 1)] = 0,
    ):
        if mode is Mode.hanzi:
            inks = studio.hanzi_inks(text)
            chars = "".join(i.text for i in inks)
            start = {
                "mode": "hanzi",
                "text": chars,
                "units": "mmah1024",
                "frame": [0.0, 0.0, HANZI_FRAME * len(inks), HANZI_FRAME],
            }

            def make():
                return hanzi_points(inks)
        else:
            gen = studio.generator()
            text = gen.check_text(studio.check_text(text, cfg.max_text))
            primer = studio.primer(style)
            # streamed words are set WORD_SPACE apart, wider than a written space
            gaps = len(text.split()) - 1
            width = float(gen.text_tok.expected_width(text)) + gaps * (WORD_SPACE - gen.text_tok.char_width(" "))
            start = {
                "mode": "handwriting",
                "text": text,
                "units": "normalized",
                "frame": [-0.5, -1.5, width + 0.5, 1.5],
            }

            def make():
                return gen.stream_words(text, prime=primer, bias=bias, seed=seed,
                                        temperature=default_temperature(gen) if temperature is None else temperature,
                                        guidance=default_guidance(gen))

        studio.take_slot()
        job = PointStream(make, studio.slots, cfg.stream_timeout, start)
        studio.writers.submit(job)
        return StreamingResponse(
            job.events(),
            media_type="text/event-stream",
            headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
            background=BackgroundTask(job.cancel),
        )

    # ------------------------------------------------------------- downloads
    @app.post(
        "/api/convert/{fmt}",
        summary="Any ink (the JSON format) as a file: what the page shows, downloaded",
        response_class=Response,
        responses={
            200: {"content": {t: {} for t in outputs.MEDIA_TYPES.values()}},
            400: ERROR,
            413: ERROR,
            422: ERROR,
        },
    )
    def convert(
        fmt: Format,
        ink: Annotated[dict, Body(description="An ink in inkstroke's JSON format.")],
        name: str = "inkstroke",
    ):
        from inkstroke.io.jsonink import ink_from_dict

        _name(name)
        return _attachment(outputs.ink_bytes(ink_from_dict(ink, "ink"), fmt.value), fmt.value, name)

    @app.post(
        "/api/write/{fmt}",
        summary="Text laid out on pages, as `inkstroke write` makes it",
        response_class=Response,
        responses={
            200: {"content": {t: {} for t in outputs.MEDIA_TYPES.values()}},
            400: ERROR,
            404: ERROR,
            413: ERROR,
            422: ERROR,
            429: ERROR,
            503: ERROR,
        },
    )
    def write_document(
        fmt: Format,
        body: WriteIn,
        name: str = "inkstroke",
        page_number: Annotated[
            int, Query(ge=1, description="Which page (all pages go into a PDF).")
        ] = 1,
    ):
        from inkstroke.write.api import write
        from inkstroke.write.layout import PageLayout, parse_page

        _name(name)
        studio.check_text(body.text, cfg.max_page_text)
        studio.generator()
        layout = PageLayout(page=parse_page(body.page), x_height=body.x_height)
        if max(layout.size()) > MAX_PAGE_MM:
            raise _error(422, f"page {body.page!r} is larger than {MAX_PAGE_MM:g} mm")
        primer = studio.primer(body.style)
        studio.take_slot()
        try:
            with tempfile.TemporaryDirectory(prefix="inkstroke-studio-") as tmp:
                style = None
                if primer is not None and body.style and body.style.startswith("sample:"):
                    from inkstroke.io.jsonink import write_json

                    style = str(Path(tmp) / "style.json")
                    write_json(primer[0], style)
                elif primer is not None:
                    style = body.style
                doc = write(
                    body.text,
                    model=studio.model_arg(),
                    style=style,
                    style_text=primer[1] if primer else None,
                    temperature=body.temperature,
                    bias=body.bias,
                    seed=body.seed,
                    layout=layout,
                )
        finally:
            studio.slots.give()
        return _attachment(outputs.pages_bytes(doc.pages, fmt.value, page_number), fmt.value, name)

    @app.get(
        "/api/hanzi/{fmt}",
        summary="Chinese characters in stroke order (hanzi-writer-data medians) as a file",
        response_class=Response,
        responses={
            200: {"content": {t: {} for t in outputs.MEDIA_TYPES.values()}},
            400: ERROR,
            422: ERROR,
        },
    )
    def hanzi_file(
        fmt: Format, chars: Annotated[str, Query(max_length=10_000)], name: str = "hanzi"
    ):
        _name(name)
        inks = studio.hanzi_inks(chars)
        line = Ink.concat(
            [
                i.transform(np.diag([1.0, -1.0]), (k * HANZI_FRAME, 900.0)).copy(y_axis="down")
                for k, i in enumerate(inks)
            ]
        )
        return _attachment(outputs.ink_bytes(line, fmt.value), fmt.value, name)

    @app.get(
        "/api/calligraphy/{kind}",
        summary="Chinese characters with the simulated brush: the picture, or the brush trajectories",
        response_class=Response,
        responses={
            200: {
                "content": {"image/png": {}, "application/json": {}},
                "description": "png: the characters side by side, 256 px each; json: "
                "{chars, steps, seed, trajectories: [robot-ready brush motion], metrics: "
                "[IoU, Dice, SSIM against the glyph]}",
            },
            400: ERROR,
            422: ERROR,
            429: ERROR,
        },
    )
    def calligraphy(
        kind: Brush,
        chars: Annotated[str, Query(max_length=1000)],
        steps: Annotated[
            int,
            Query(
                ge=0,
                le=95,
                description="Optimisation steps (0: the default motion; 95: as the CLI).",
            ),
        ] = 20,
        seed: Annotated[int, Query(ge=0, le=2**31 - 1)] = 0,
        name: str = "calligraphy",
    ):
        from inkstroke.calligraphy.brush import to_image

        _name(name)
        chars = "".join(c for c in chars if not c.isspace())
        if not chars:
            raise _error(422, "no characters to write")
        if len(chars) > cfg.max_brush_chars:
            raise _error(
                422,
                f"{len(chars)} characters; the brush writes at most {cfg.max_brush_chars} per request",
            )
        studio.take_slot()
        try:
            results = brush_characters(chars, steps, seed)
        finally:
            studio.slots.give()
        if kind is Brush.json:
            body = {
                "chars": chars,
                "steps": steps,
                "seed": seed,
                "trajectories": [(r.optimised or r.raw).to_json() for r in results],
                "metrics": [{k: round(float(v), 4) for k, v in r.metrics.items()} for r in results],
            }
            return _attachment(json.dumps(body, ensure_ascii=False).encode(), "json", name)
        from PIL import Image

        buffer = io.BytesIO()
        Image.fromarray(np.hstack([to_image(r.image) for r in results])).save(buffer, format="PNG")
        return _attachment(buffer.getvalue(), "png", name)

    # ------------------------------------------------------------- collect mode
    @app.post(
        "/api/samples",
        status_code=201,
        summary="Save a handwritten sample (whole or not at all)",
        responses={413: ERROR, 422: ERROR, 503: ERROR},
    )
    def add_sample(sample: SampleIn) -> SampleOut:
        ink = _sample_ink(sample, cfg)
        sample_id = studio.store.add(ink, sample.device, sample.canvas)
        return SampleOut(**studio.store.summary(sample_id))

    @app.get("/api/samples", summary="Saved samples, newest first (no points)")
    def list_samples() -> list[SampleOut]:
        return [SampleOut(**s) for s in studio.store.summaries()]

    @app.get(
        "/api/samples/export/{kind}",
        summary="Samples as an .inks dataset or one InkML document",
        response_class=Response,
        responses={
            200: {"content": {"application/octet-stream": {}, "application/inkml+xml": {}}},
            400: ERROR,
            404: ERROR,
            422: ERROR,
        },
    )
    def export_samples(
        kind: Export,
        ids: Annotated[
            str | None, Query(description="Sample ids, e.g. 3,5,8 (default: all).")
        ] = None,
        name: str = "samples",
    ):
        _name(name)
        try:
            inks = studio.store.inks(_ids(ids) if ids else None)
        except KeyError as e:
            raise _error(404, f"no saved sample with id {e.args[0]}") from None
        if not inks:
            raise _error(404, "no samples saved yet: write some in collect mode first")
        if kind is Export.inks:
            data, media = outputs.inks_container_bytes(inks), "application/octet-stream"
        else:
            data, media = outputs.inkml_collection(inks), "application/inkml+xml"
        return Response(
            data,
            media_type=media,
            headers={"Content-Disposition": f'attachment; filename="{name}.{kind.value}"'},
        )

    @app.get(
        "/api/samples/{sample_id}",
        summary="One sample as an ink (JSON format)",
        responses={404: ERROR},
    )
    def get_sample(sample_id: int) -> dict:
        from inkstroke.io.jsonink import ink_to_dict

        return ink_to_dict(_sample(studio, sample_id))

    @app.get(
        "/api/samples/{sample_id}/{fmt}",
        summary="One sample as a file",
        response_class=Response,
        responses={
            200: {"content": {t: {} for t in outputs.MEDIA_TYPES.values()}},
            400: ERROR,
            404: ERROR,
        },
    )
    def sample_file(sample_id: int, fmt: Format, name: str | None = None):
        name = _name(name or f"sample-{sample_id}")
        return _attachment(
            outputs.ink_bytes(_sample(studio, sample_id), fmt.value), fmt.value, name
        )

    @app.delete(
        "/api/samples/{sample_id}",
        status_code=204,
        summary="Delete a sample",
        responses={404: ERROR},
    )
    def delete_sample(sample_id: int) -> Response:
        if not studio.store.delete(sample_id):
            raise _error(404, f"no saved sample with id {sample_id}")
        return Response(status_code=204)

    app.add_middleware(BodyLimit, limit=cfg.max_body)
    if cfg.allowed_hosts != ["*"]:
        from starlette.middleware.trustedhost import TrustedHostMiddleware

        app.add_middleware(TrustedHostMiddleware, allowed_hosts=cfg.allowed_hosts)
    return app


def _sample(studio: Studio, sample_id: int) -> Ink:
    try:
        return studio.store.get(sample_id)
    except KeyError:
        raise _error(404, f"no saved sample with id {sample_id}") from None
