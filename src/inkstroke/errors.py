"""The one exception family users see: each carries a message that names the
file, line or value at fault. The CLI prints it and exits with code 2."""


class InkstrokeError(ValueError):
    """Bad input: a file, value or option inkstroke cannot use."""
