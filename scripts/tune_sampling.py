"""Choose the default temperature and guidance of a model on *test*-split texts.

The legibility figures are reported on validation writers' texts; tuning on
the test split's texts keeps the reported figures free of the choice. With
``--record`` the best setting goes into the checkpoint's ``sampling`` block,
which ``write`` and ``eval legibility`` take as the model's defaults.

    python scripts/tune_sampling.py --data data/unipen.inks --model runs/hw -n 20 [--record]
"""

from __future__ import annotations

import argparse
import itertools
import json
import shlex
import sys
import time
from pathlib import Path

from inkstroke.eval.legibility import (
    JudgeResult,
    generated_lines,
    normalise,
    ocr_image,
    read_lines,
    reference_lines,
)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--data", required=True)
    ap.add_argument("--model", required=True)
    ap.add_argument("-n", type=int, default=20)
    ap.add_argument("--temperatures", default="0.4,0.7")
    ap.add_argument("--guidances", default="0,1.5,3")
    ap.add_argument("--text-seed", type=int, default=1, help="which test-split texts (eval legibility's --seed)")
    ap.add_argument("--record", action="store_true", help="write the best setting into the checkpoint")
    args = ap.parse_args()
    texts = [normalise(h.text or "") for h in reference_lines(args.data, args.n, split="test", seed=args.text_seed)]
    results = []
    for t, g in itertools.product(map(float, args.temperatures.split(",")), map(float, args.guidances.split(","))):
        inks, rates = generated_lines(texts, args.model, temperature=t, guidance=g, seed=100)
        res = JudgeResult("tune", texts, read_lines([ocr_image(i) for i in inks]))
        results.append({"temperature": t, "guidance": g, "cer": round(res.cer, 4), "wer": round(res.wer, 4), **rates})
        print(json.dumps(results[-1]), flush=True)
    best = min(results, key=lambda r: r["cer"])
    print("best:", json.dumps(best))
    if args.record:
        record(Path(args.model), best, results, f"{args.n} test-split texts (--seed {args.text_seed})")


def record(run: Path, best: dict, results: list[dict], texts: str) -> None:
    """The chosen defaults, and how they were chosen, into ``run``'s checkpoint.json."""
    from inkstroke.io.container import atomic_write_bytes
    from inkstroke.model.checkpoint import META

    meta = json.loads((run / META).read_text())
    meta["sampling"] = {**meta.get("sampling", {}), "temperature": best["temperature"], "guidance": best["guidance"],
                        "tuned": {"command": "python " + " ".join(shlex.quote(a) for a in sys.argv),
                                  "texts": f"{texts}, generation seed 100, Tesseract CER",
                                  "results": results, "date": time.strftime("%Y-%m-%dT%H:%M:%S%z")}}
    atomic_write_bytes(run / META, lambda f: f.write(json.dumps(meta, indent=1).encode()))


if __name__ == "__main__":
    main()
