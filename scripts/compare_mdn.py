"""Motion tokens vs the MDN (Graves-style) baseline at the same training budget.

Both models share the decoder, data (token cache) and number of steps; only the
head differs. Writes loss curves, samples side by side, and the legibility
judge's CER on N validation texts for each, into docs/.

    python scripts/compare_mdn.py --bins runs/hw/step-1500 --mdn runs/mdn \
        --bins-tb runs/hw/tb --mdn-tb runs/mdn/tb --data data/unipen.inks -n 30
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
from tensorboard.backend.event_processing.event_accumulator import EventAccumulator  # noqa: E402

from inkstroke.eval.legibility import JudgeResult, normalise, ocr_image, read_lines, reference_lines  # noqa: E402
from inkstroke.render.raster import render_png_array  # noqa: E402
from inkstroke.write.api import write  # noqa: E402
from inkstroke.write.layout import PageLayout  # noqa: E402

TEXTS = ["hello world", "handwriting", "the quick brown fox", "motion tokens"]


def curves(tb: str, tag: str, max_step: int) -> tuple[list[int], list[float]]:
    ea = EventAccumulator(tb)
    ea.Reload()
    pts = [(e.step, e.value) for e in ea.Scalars(tag) if e.step <= max_step]
    return [p[0] for p in pts], [p[1] for p in pts]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    for k in ("--bins", "--mdn", "--bins-tb", "--mdn-tb", "--data"):
        ap.add_argument(k, required=True)
    ap.add_argument("-n", type=int, default=30)
    ap.add_argument("--steps", type=int, default=1500)
    ap.add_argument("--out", default="docs")
    args = ap.parse_args()
    out = Path(args.out)
    (out / "images").mkdir(parents=True, exist_ok=True)

    fig, axes = plt.subplots(1, 3, figsize=(13, 3.2))
    for ax, tag in zip(axes, ["train/pen", "train/end", "train/total"]):
        for name, tb in (("motion tokens", args.bins_tb), ("MDN", args.mdn_tb)):
            s, v = curves(tb, tag, args.steps)
            ax.plot(s, v, label=name)
        ax.set_title(tag + (" (each model's own units)" if tag == "train/total" else ""), fontsize=9)
        ax.set_xlabel("step")
        ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(out / "images" / "mdn-vs-tokens-loss.png", dpi=90)

    fig, axes = plt.subplots(len(TEXTS), 2, figsize=(12, 1.6 * len(TEXTS)))
    layout = PageLayout(page=(3000.0, 40.0), margin=2.0)
    for r, text in enumerate(TEXTS):
        for c, (name, model) in enumerate((("motion tokens", args.bins), ("MDN", args.mdn))):
            ink = write(text, model=model, seed=0, layout=layout).pages[0].copy(meta={})
            axes[r][c].imshow(render_png_array(ink, height=90))
            axes[r][c].set_axis_off()
            axes[r][c].set_title(f"{name}: {text!r}", fontsize=8)
    fig.tight_layout()
    fig.savefig(out / "images" / "mdn-vs-tokens-samples.png", dpi=90)

    humans = reference_lines(args.data, args.n)
    texts = [normalise(h.text or "") for h in humans]
    report = {"steps": args.steps, "lines": args.n}
    for name, model in (("motion_tokens", args.bins), ("mdn", args.mdn)):
        inks = [write(t, model=model, seed=k, layout=layout).pages[0].copy(meta={}) for k, t in enumerate(texts)]
        res = JudgeResult(name, texts, read_lines([ocr_image(i) for i in inks]))
        report[name] = res.summary()
    (out / "mdn-vs-tokens.json").write_text(json.dumps(report, indent=1))
    print(json.dumps(report, indent=1))


if __name__ == "__main__":
    main()
