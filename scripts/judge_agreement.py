"""Where the two judges disagree: generated lines read by Tesseract (the image)
and by the recogniser (the strokes), the lines with the largest CER gap saved
as pictures with both readings, for a person to say which judge is right.

    python scripts/judge_agreement.py --data data/unipen.inks -n 40 --out docs/recognizer
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from PIL import Image

from inkstroke.eval.legibility import (
    generated_lines,
    levenshtein,
    normalise,
    ocr_image,
    read_lines,
    recogniser_reads,
    reference_lines,
)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--data", required=True)
    ap.add_argument("-n", type=int, default=40)
    ap.add_argument("--show", type=int, default=6)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--out", default="docs/recognizer")
    args = ap.parse_args()
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    texts = [normalise(h.text or "") for h in reference_lines(args.data, args.n, seed=args.seed)]
    lines, _ = generated_lines(texts, seed=args.seed)
    tess = read_lines([ocr_image(g) for g in lines])
    rec = recogniser_reads(lines)
    rows = []
    for k, (t, a, b) in enumerate(zip(texts, tess, rec)):
        ct, cr = levenshtein(t, a) / len(t), levenshtein(t, b) / len(t)
        rows.append({"k": k, "text": t, "tesseract": a, "recogniser": b, "cer_tesseract": round(ct, 3),
                     "cer_recogniser": round(cr, 3), "gap": round(abs(ct - cr), 3)})
    rows.sort(key=lambda r: -r["gap"])
    # the most disagreeing lines, stacked in that order, as the judges saw them
    shown = [ocr_image(lines[r["k"]]) for r in rows[: args.show]]
    sheet = Image.new("L", (max(i.width for i in shown), sum(i.height + 10 for i in shown)), 255)
    y = 0
    for img in shown:
        sheet.paste(img, (0, y))
        y += img.height + 10
    sheet.save(out / "disagreements.png")
    agree = sum(r["gap"] <= 0.1 for r in rows) / len(rows)
    summary = {"lines": len(rows), "share_within_0.1_cer": round(agree, 3),
               "mean_cer_tesseract": round(sum(r["cer_tesseract"] for r in rows) / len(rows), 4),
               "mean_cer_recogniser": round(sum(r["cer_recogniser"] for r in rows) / len(rows), 4),
               "most_disagreeing": rows[: args.show]}
    (out / "agreement.json").write_text(json.dumps(summary, indent=1))
    print(json.dumps(summary, indent=1))


if __name__ == "__main__":
    main()
