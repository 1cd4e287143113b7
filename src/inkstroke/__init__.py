"""inkstroke: handwriting and brush calligraphy as a language of motion."""

import importlib

from inkstroke.errors import InkstrokeError
from inkstroke.ink import Ink, InkError

__version__ = "0.1.0"
__all__ = ["Ink", "InkError", "InkstrokeError", "write", "__version__"]

# Load the subpackage inkstroke.write first: importing it later (inkstroke.write.api) would
# bind the name ``write`` here to the package and hide the function below.
importlib.import_module("inkstroke.write")


def write(text: str, **kwargs):
    """Write ``text`` as handwriting; see :func:`inkstroke.write.api.write`."""
    from inkstroke.write.api import write as _write

    return _write(text, **kwargs)
