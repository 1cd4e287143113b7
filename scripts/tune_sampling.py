"""Choose the default temperature and guidance of a model on *test*-split texts.

The legibility figures are reported on validation writers' texts; tuning on
the test split's texts keeps the reported figures free of the choice.

    python scripts/tune_sampling.py --data data/unipen.inks --model runs/hw -n 20
"""

from __future__ import annotations

import argparse
import itertools
import json

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
    args = ap.parse_args()
    texts = [normalise(h.text or "") for h in reference_lines(args.data, args.n, split="test", seed=1)]
    results = []
    for t, g in itertools.product(map(float, args.temperatures.split(",")), map(float, args.guidances.split(","))):
        inks, rates = generated_lines(texts, args.model, temperature=t, guidance=g, seed=100)
        res = JudgeResult("tune", texts, read_lines([ocr_image(i) for i in inks]))
        results.append({"temperature": t, "guidance": g, "cer": round(res.cer, 4), "wer": round(res.wer, 4), **rates})
        print(json.dumps(results[-1]), flush=True)
    best = min(results, key=lambda r: r["cer"])
    print("best:", json.dumps(best))


if __name__ == "__main__":
    main()
