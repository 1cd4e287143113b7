"""inkstroke: handwriting and brush calligraphy as a language of motion."""

import importlib

from inkstroke.errors import InkstrokeError
from inkstroke.ink import Ink, InkError

__version__ = "0.1.0"
__all__ = ["Ink", "InkError", "InkstrokeError", "recognize", "write", "__version__"]

# Load the subpackage inkstroke.write first: importing it later (inkstroke.write.api) would
# bind the name ``write`` here to the package and hide the function below.
importlib.import_module("inkstroke.write")
importlib.import_module("inkstroke.recognize")


def write(text: str, **kwargs):
    """Write ``text`` as handwriting; see :func:`inkstroke.write.api.write`."""
    from inkstroke.write.api import write as _write

    return _write(text, **kwargs)


def recognize(ink, **kwargs):
    """Read an ink (or a list of inks) back as text; see :func:`inkstroke.recognize.api.recognize`."""
    from inkstroke.recognize.api import recognize as _recognize

    return _recognize(ink, **kwargs)
