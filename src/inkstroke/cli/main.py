"""``inkstroke`` command line: a thin layer over the Python API.

Every sub-command lives in its own module and registers a Typer app here. Bad
input raises :class:`~inkstroke.errors.InkstrokeError`; :func:`main` turns it
into one line on stderr and exit code 2, with no traceback.
"""

from __future__ import annotations

import functools
import importlib
import inspect
import math
import sys

import typer

from inkstroke.errors import InkstrokeError

app = typer.Typer(
    help="Handwriting and brush calligraphy as a language of motion.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)

def _version(value: bool) -> None:
    if value:
        from inkstroke import __version__

        typer.echo(f"inkstroke {__version__}")
        raise typer.Exit()


@app.callback()
def _root(version: bool = typer.Option(False, "--version", callback=_version, is_eager=True,
                                       help="Print the version and exit.")) -> None:
    """Handwriting and brush calligraphy as a language of motion."""


# (module, attribute, name): sub-apps are added with add_typer, commands with command().
SUBAPPS = [
    ("inkstroke.cli.data", "app", "data"),
    ("inkstroke.cli.tokenize", "app", "tokenize"),
    ("inkstroke.cli.eval", "app", "eval"),
    ("inkstroke.cli.robot", "app", "robot"),
    ("inkstroke.cli.rl", "app", "rl"),
]
COMMANDS = [
    ("inkstroke.cli.render", "render", "render"),
    ("inkstroke.cli.train", "train", "train"),
    ("inkstroke.cli.train", "distill", "distill"),
    ("inkstroke.cli.sample", "sample", "sample"),
    ("inkstroke.cli.sample", "attention", "attention"),
    ("inkstroke.cli.write", "write", "write"),
    ("inkstroke.cli.calligraphy", "calligraphy", "calligraphy"),
    ("inkstroke.cli.serve", "serve", "serve"),
    ("inkstroke.cli.hanzi", "hanzi_train", "train-hanzi"),
    ("inkstroke.cli.recognize", "recognize", "recognize"),
    ("inkstroke.cli.recognize", "train_recognizer", "train-recognizer"),
]

for module, attr, name in SUBAPPS:
    try:
        app.add_typer(getattr(importlib.import_module(module), attr), name=name)
    except ModuleNotFoundError as e:
        if e.name != module:
            raise
for module, attr, name in COMMANDS:
    try:
        app.command(name)(getattr(importlib.import_module(module), attr))
    except ModuleNotFoundError as e:
        if e.name != module:
            raise


SEED_LIMIT = 2**32 - 1  # numpy's legacy generators take no more; torch none below 0


def _flag(func, name: str) -> str:
    """How the user spelt the parameter ``name`` of a command (its first long option)."""
    default = inspect.signature(func).parameters[name].default
    if isinstance(default, typer.models.ArgumentInfo):
        return name.upper()
    decls = [d for d in getattr(default, "param_decls", ()) or () if d.startswith("--")]
    return decls[0] if decls else "--" + name.replace("_", "-")


def checked(func):
    """The command, refusing non-finite numbers and seeds out of range before it
    runs: a NaN margin or pen width passes every ``<= 0`` test and only fails
    deep inside (or is written into G-code), and a negative seed fails in numpy."""

    @functools.wraps(func)
    def run(**kwargs):
        for name, value in kwargs.items():
            for v in value if isinstance(value, (tuple, list)) else (value,):
                if isinstance(v, float) and not math.isfinite(v):
                    raise InkstrokeError(f"{_flag(func, name)} must be a finite number, got {v}")
            if name == "seed" and isinstance(value, int) and not 0 <= value <= SEED_LIMIT:
                raise InkstrokeError(f"{_flag(func, name)} must be between 0 and {SEED_LIMIT}, got {value}")
        return func(**kwargs)

    return run


def _check_all(typer_app: typer.Typer) -> None:
    for info in typer_app.registered_commands:
        info.callback = checked(info.callback)
    for group in typer_app.registered_groups:
        _check_all(group.typer_instance)


_check_all(app)


def main(argv: list[str] | None = None) -> int:
    try:
        code = app(args=argv, standalone_mode=False)
    except InkstrokeError as e:
        typer.echo(f"error: {e}", err=True)
        return 2
    except OSError as e:
        typer.echo(f"error: {e.filename or ''}: {e.strerror or e}", err=True)
        return 2
    except KeyboardInterrupt:
        typer.echo("interrupted", err=True)
        return 130
    except SystemExit as e:
        return int(e.code or 0)
    except Exception as e:  # usage errors carry their own exit code (2)
        # Typer ≥ 0.2x raises its vendored copy of click's exceptions, older ones click's own:
        # recognise them by what they do, not by which module defines them.
        if callable(getattr(e, "format_message", None)) and isinstance(getattr(e, "exit_code", None), int):
            ctx = getattr(e, "ctx", None)
            hint = f" (see '{ctx.command_path} --help')" if ctx is not None else ""
            typer.echo(f"error: {e.format_message()}{hint}", err=True)
            return e.exit_code
        if type(e).__name__ == "Abort":
            return 1
        raise
    # without standalone mode, click returns the code of a typer.Exit instead of exiting
    return code if isinstance(code, int) else 0


if __name__ == "__main__":
    sys.exit(main())
