"""Record where a fine-tuned run came from in its ``checkpoint.json``: the
checkpoint it started from (its whole metadata, under ``fine_tuned_from``),
the sampling block that checkpoint stood for (a distilled model's built-in
guidance) and how its training data was made (command, size, time).

    python scripts/record_fine_tune.py runs/hw9 --base src/inkstroke/models/handwriting \
        --data-command "python scripts/best_of_n_pool.py ..." --data-seconds 1985
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from inkstroke.io.container import atomic_write_bytes
from inkstroke.model.checkpoint import META


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("run", type=Path)
    ap.add_argument("--base", type=Path, required=True, help="the checkpoint the run started from")
    ap.add_argument("--data-command", required=True, help="the command that made the run's training data")
    ap.add_argument("--data-seconds", type=float, required=True, help="how long that command took")
    args = ap.parse_args()
    meta = json.loads((args.run / META).read_text())
    base = json.loads((args.base / META).read_text())
    meta["fine_tuned_from"] = base
    # the sampling the base stood for (guidance distilled in), not yet tuned for this run
    meta["sampling"] = {k: v for k, v in base.get("sampling", {}).items() if k != "tuned"}
    meta["data"] |= {"made_by": args.data_command, "made_in_seconds": args.data_seconds}
    atomic_write_bytes(args.run / META, lambda f: f.write(json.dumps(meta, indent=1).encode()))
    print(f"{args.run / META}: fine_tuned_from, sampling {meta['sampling']}, data {meta['data']}")


if __name__ == "__main__":
    main()
