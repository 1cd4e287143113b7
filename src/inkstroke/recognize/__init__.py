"""Reading handwriting back: a CTC recogniser in the generator's token language.

The API lives in :mod:`inkstroke.recognize.api` (kept out of this module so that
``import inkstroke`` stays light)."""
