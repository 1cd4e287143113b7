"""How `write` picks a draw: the draws of each word (six by default), as the image reader sees
them, with the stroke recogniser's and the image reader's scores (log-likelihood
per letter) and the letters-apart bonus; the kept draw is framed. Where the
kept candidate is a draw's first strokes (a word of one character or ending
in a sign), the frame goes round that draw and a third line gives the
candidate's strokes and scores. A lone sign or digit has a last cell, the
font's sign, framed where it is kept.

    python scripts/ranking_picture.py --out docs/recognizer/ranking.png [WORD ...]
"""

from __future__ import annotations

import argparse

import numpy as np
from PIL import Image, ImageDraw

from inkstroke.recognize.api import load_recognizer_cached
from inkstroke.recognize.image import HEIGHT, load_image_reader_cached, word_image
from inkstroke.write.api import (
    DEFAULT_CANDIDATES,
    IMAGE_READER_WEIGHT,
    SEPARATE_LETTERS_BONUS,
    _acceptable,
    _trim,
    candidate_pool,
    default_guidance,
    default_temperature,
    letters_apart,
    load_generator,
)

CELL_W, LABEL_H, NAME_W = 150, 42, 90


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("words", nargs="*", default=["minimum", "1990,", "Street", "(and)", "/"])
    ap.add_argument("--out", required=True)
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()
    gen, rec, reader = load_generator(), load_recognizer_cached(), load_image_reader_cached()
    n = DEFAULT_CANDIDATES
    sheet = Image.new("L", (NAME_W + (n + 1) * CELL_W, len(args.words) * (HEIGHT + LABEL_H)), 255)
    draw = ImageDraw.Draw(sheet)
    for row, word in enumerate(args.words):
        width = gen.text_tok.expected_width(word)
        raw = gen.generate([word] * n, temperature=default_temperature(gen), guidance=default_guidance(gen), seed=args.seed)
        ok = np.array([_acceptable(ink, width) for ink in raw])
        c = candidate_pool([_trim(ink, width) for ink in raw], [word], n, ok)
        inks = c.inks
        strokes = rec.score(inks, c.texts)
        pictures = reader.score(inks, c.texts)
        apart = letters_apart(inks, c.texts)
        total = strokes + IMAGE_READER_WEIGHT * pictures + SEPARATE_LETTERS_BONUS * apart
        total = np.where(c.ok, total, -np.inf)
        best = int(np.argmax(total))
        y = row * (HEIGHT + LABEL_H)
        draw.text((6, y + HEIGHT // 2 - 6), word, fill=0)
        shown = list(range(n)) + [k for k in range(n, len(inks)) if c.draw[k] < 0]  # the draws, the font's sign
        kept = best if c.draw[best] < 0 else c.draw[best]
        for cell, k in enumerate(shown):
            picture = (255 - word_image(inks[k]) * 255).astype(np.uint8)[:, : CELL_W - 8]
            x = NAME_W + cell * CELL_W
            sheet.paste(Image.fromarray(picture), (x, y))
            label = "font: " if c.draw[k] < 0 else ""
            draw.text((x, y + HEIGHT), f"{label}s {strokes[k]:.2f} i {pictures[k]:.2f}", fill=0)
            draw.text((x, y + HEIGHT + 12), f"+{SEPARATE_LETTERS_BONUS * apart[k]:.1f} = {total[k]:.2f}", fill=0)
            if k == kept:
                draw.rectangle([x - 2, y, x + CELL_W - 6, y + HEIGHT + LABEL_H - 2], outline=0, width=2)
                if best >= n and c.draw[best] >= 0:
                    m = len(inks[best].strokes)
                    draw.text((x, y + HEIGHT + 24), f"kept: first {m} stroke{'s' * (m > 1)} = {total[best]:.2f}", fill=0)
    sheet.save(args.out)
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
