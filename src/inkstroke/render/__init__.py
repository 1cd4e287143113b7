"""Pictures and files of inks: SVG, PNG, GIF, PDF, and the JSON/InkML formats.

:func:`save_ink` picks the writer from the file suffix. Every writer goes
through :func:`~inkstroke.io.container.atomic_write_bytes`, so a failed render
leaves no partial file behind. Writers are imported lazily: reportlab and
imageio are slow to import and most commands need neither.
"""

from __future__ import annotations

import importlib
import inspect
import os
from pathlib import Path

from inkstroke.errors import InkstrokeError
from inkstroke.ink import Ink
from inkstroke.io.container import check_output_path

# suffix -> (module, writer taking (ink, path, **options), function whose keywords are the options)
WRITERS = {
    ".svg": ("inkstroke.render.svg", "save_svg", "ink_to_svg"),
    ".png": ("inkstroke.render.raster", "save_png", "render_png_array"),
    ".gif": ("inkstroke.render.gif", "save_gif", "gif_frames"),
    ".pdf": ("inkstroke.render.pdf", "save_pdf", "pdf_bytes"),
    ".json": ("inkstroke.io.jsonink", "write_json", "write_json"),
    ".inkml": ("inkstroke.io.inkml", "write_inkml", "write_inkml"),
}
SUFFIXES = tuple(WRITERS)


def writer_options(suffix: str) -> list[str]:
    """The keyword options :func:`save_ink` accepts for a suffix."""
    module, writer, options_of = WRITERS[suffix]
    params = list(inspect.signature(getattr(importlib.import_module(module), options_of)).parameters)
    return params[2:] if options_of == writer else params[1:]  # drop (ink, path) or (ink,)


def save_ink(ink: Ink, path: str | os.PathLike, **opts) -> Path:
    """Write the ink to ``path`` in the format its suffix names; returns the path.

    ``opts`` go to the renderer (e.g. ``stroke_width``, ``color``, ``height``);
    an option the format does not take is an error rather than ignored.
    """
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix not in WRITERS:
        raise InkstrokeError(
            f"{path}: cannot write {suffix or 'a file without suffix'}; use one of {', '.join(SUFFIXES)}"
        )
    check_output_path(path)
    allowed = writer_options(suffix)
    wrong = sorted(set(opts) - set(allowed))
    if wrong:
        takes = ", ".join(allowed) or "no options"
        raise InkstrokeError(f"{path}: {', '.join(wrong)} does not apply to {suffix} files (they take {takes})")
    module, writer, _ = WRITERS[suffix]
    try:
        getattr(importlib.import_module(module), writer)(ink, path, **opts)
    except OSError as e:
        raise InkstrokeError(f"{path}: cannot write ({e.strerror or e})") from None
    except InkstrokeError as e:
        if str(e).startswith(str(path)):
            raise
        raise InkstrokeError(f"{path}: {e}") from None
    return path
