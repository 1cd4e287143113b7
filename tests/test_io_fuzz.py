"""Fuzzing the importers with mutated fixtures.

A reader given a damaged file may only return finite inks or raise one
:class:`InkstrokeError`; any other exception is a bug (the CLI would show a
traceback instead of a one-line message). To fuzz another format, add one
line to ``CASES``: the reader (any function of a path returning an ink or an
iterable of inks) and a fixture file or folder in its exact format.
"""

import random
import shutil
import zlib
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

from inkstroke.errors import InkstrokeError
from inkstroke.ink import Ink
from inkstroke.io import importer
from inkstroke.io.jsonink import read_json

FIXTURES = Path(__file__).parent / "fixtures"

CASES = [
    pytest.param(read_json, "json/hello.json", id="json-hello"),
    pytest.param(read_json, "json/minimal.json", id="json-minimal"),
    pytest.param(importer("inkml"), "inkml/crohme_expression.inkml", id="inkml-crohme"),
    pytest.param(importer("inkml"), "inkml/channels_and_differences.inkml", id="inkml-channels"),
    pytest.param(importer("inkml"), "inkml/spec_example.inkml", id="inkml-spec"),
    pytest.param(importer("iam"), "iam", id="iam"),
    pytest.param(
        importer("quickdraw"), "quickdraw/simplified_cat.ndjson", id="quickdraw-simplified"
    ),
    pytest.param(importer("quickdraw"), "quickdraw/raw_face.ndjson", id="quickdraw-raw"),
    pytest.param(importer("stroke3"), "stroke3/cat.npz", id="stroke3-npz"),
    pytest.param(importer("stroke3"), "stroke3/single.npy", id="stroke3-npy"),
    pytest.param(importer("stroke3"), "stroke3/lines", id="stroke3-folder"),
]

TOKENS = [
    b"NaN",
    b"-Infinity",
    b"1e999",
    b"nan",
    b"\xff\xfe",
    b"\x00",
    b"\xc3",
    b"<",
    b">",
    b"&",
    b"[",
    b"]",
    b"{",
    b"}",
    b",",
    b"-",
    b"'",
    b'"',
    b"!",
    b"#",
    b"0" * 400,
    b"\n\n",
]


def mutate(data: bytes, rng: random.Random) -> tuple[str, bytes]:
    """One random damage to ``data``, with a description for the failure message."""
    op = rng.choice(["flip", "truncate", "drop line", "repeat line", "insert", "digit", "empty"])
    n = len(data)
    if op == "flip" and n:
        out = bytearray(data)
        for _ in range(rng.randint(1, 4)):
            out[rng.randrange(n)] = rng.randrange(256)
        return op, bytes(out)
    if op == "truncate" and n:
        cut = rng.randrange(n)
        return f"truncate at {cut}", data[:cut]
    if op in ("drop line", "repeat line") and data.count(b"\n") > 1:
        lines = data.split(b"\n")
        i = rng.randrange(len(lines))
        lines[i : i + 1] = [] if op == "drop line" else [lines[i], lines[i]]
        return f"{op} {i}", b"\n".join(lines)
    if op == "digit":
        digits = [i for i, b in enumerate(data) if 48 <= b <= 57]
        if digits:
            i = rng.choice(digits)
            return f"digit at {i}", data[:i] + rng.choice([b"x", b".", b"e", b"-"]) + data[i + 1 :]
    if op == "empty":
        return op, b""
    token, at = rng.choice(TOKENS), rng.randrange(n + 1)
    return f"insert {token[:8]!r} at {at}", data[:at] + token + data[at:]


def read_all(reader: Callable, path: Path) -> list[Ink]:
    result = reader(path)
    return [result] if isinstance(result, Ink) else list(result)


def fuzz(reader: Callable, fixture: Path, workdir: Path, rounds: int, seed: int) -> dict[str, int]:
    """Damage one file of a copy of ``fixture`` per round and check the reader's answer."""
    target = workdir / fixture.name
    if fixture.is_dir():
        shutil.copytree(fixture, target)
        files = sorted(p for p in target.rglob("*") if p.is_file())
    else:
        shutil.copy(fixture, target)
        files = [target]
    assert read_all(reader, target), f"{fixture} must read cleanly before it is damaged"
    rng = random.Random(seed)
    outcomes = {"inks": 0, "errors": 0}
    for k in range(rounds):
        file = rng.choice(files)
        original = file.read_bytes()
        what, damaged = mutate(original, rng)
        file.write_bytes(damaged)
        try:
            inks = read_all(reader, target)
        except InkstrokeError:
            outcomes["errors"] += 1
        except Exception as e:  # noqa: BLE001 - any other exception is the bug we look for
            pytest.fail(
                f"round {k} ({what} in {file.relative_to(workdir)}): {type(e).__name__}: {e}"
            )
        else:
            for ink in inks:
                assert isinstance(ink, Ink), f"round {k} ({what}): got {type(ink).__name__}"
                ink.check_finite(f"round {k} ({what})")
                assert all(s.ndim == 2 and s.shape[1] == 2 for s in ink.strokes)
                assert all(np.isfinite(s).all() for s in ink.strokes)
            outcomes["inks"] += 1
        finally:
            file.write_bytes(original)
    return outcomes


@pytest.mark.parametrize("reader, fixture", CASES)
def test_damaged_files_give_inks_or_one_inkstroke_error(reader, fixture, tmp_path):
    outcomes = fuzz(
        reader, FIXTURES / fixture, tmp_path, rounds=80, seed=zlib.crc32(fixture.encode())
    )
    assert outcomes["errors"] > 0  # the damage was noticed at least sometimes


@pytest.mark.slow
@pytest.mark.parametrize("reader, fixture", CASES)
def test_damaged_files_long_run(reader, fixture, tmp_path):
    fuzz(reader, FIXTURES / fixture, tmp_path, rounds=2000, seed=1)
