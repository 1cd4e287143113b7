"""Machine profiles: the facts about one machine, kept as JSON data files.

A profile is looked up by name among the files shipped in
``inkstroke/robot/profiles/`` or read from a path, so a user describes a new
plotter or arm without touching code. Each file says its ``kind`` (``plotter``
or ``arm``) so that a plotter profile given to the arm planner fails clearly.
"""

from __future__ import annotations

import json
import math
from importlib import resources
from pathlib import Path

from inkstroke.errors import InkstrokeError


def profile_names(kind: str | None = None) -> list[str]:
    """Names of the shipped profiles, optionally of one kind."""
    names = []
    for entry in resources.files("inkstroke.robot").joinpath("profiles").iterdir():
        if entry.name.endswith(".json"):
            if kind is None or json.loads(entry.read_text(encoding="utf-8")).get("kind") == kind:
                names.append(entry.name[: -len(".json")])
    return sorted(names)


def load_profile_data(spec: str | Path, kind: str) -> tuple[dict, str]:
    """The decoded profile and a name for error messages, from a shipped name or a path."""
    path = Path(str(spec))
    if path.suffix.lower() == ".json" or path.exists():
        where = str(path)
        try:
            text = path.read_text(encoding="utf-8")
        except FileNotFoundError:
            raise InkstrokeError(f"{path}: no such profile file") from None
        except UnicodeDecodeError as e:
            raise InkstrokeError(f"{path}: not a JSON profile ({e})") from None
    else:
        entry = resources.files("inkstroke.robot").joinpath("profiles", f"{spec}.json")
        if not entry.is_file():
            raise InkstrokeError(
                f"no {kind} profile named {spec!r}; shipped: {', '.join(profile_names(kind))} "
                "(or give the path of a JSON profile)"
            )
        where, text = f"profile {spec}", entry.read_text(encoding="utf-8")
    try:
        data = json.loads(text)
    except json.JSONDecodeError as e:
        raise InkstrokeError(f"{where}: not valid JSON ({e})") from None
    if not isinstance(data, dict) or data.get("kind") != kind:
        got = data.get("kind") if isinstance(data, dict) else None
        raise InkstrokeError(f"{where}: its kind is {got!r}, but {kind!r} is needed here")
    return data, where


def require(data: dict, key: str, where: str, kind: type = float, positive: bool = False):
    """``data[key]`` as ``kind``, or an error naming the profile and the key."""
    if key not in data:
        raise InkstrokeError(f"{where}: missing {key!r}")
    value = data[key]
    try:
        if kind is float:
            value = float(value)
            if not math.isfinite(value) or (positive and not value > 0):
                raise ValueError
        elif kind is list and not isinstance(value, list):
            raise ValueError
    except (TypeError, ValueError):
        need = "a positive number" if positive else "a finite number" if kind is float else kind.__name__
        raise InkstrokeError(f"{where}: {key!r} must be {need}, got {data[key]!r}") from None
    return value
