#!/usr/bin/env bash
# Regenerates the README's handwriting pictures with the shipped model.
#   bash docs/images/make_readme_images.sh
set -euo pipefail
cd "$(dirname "$0")/../.."
inkstroke write "Hello world" --page 210x70 --seed 0 -o docs/images/hello-world.png
inkstroke write @docs/charset.txt --page 210x105 --seed 0 -o docs/images/charset.png
inkstroke write "The quick brown fox jumps over the lazy dog." --page 210x42 --margin 8 --seed 0 -o docs/images/fox.png
inkstroke write "The quick brown fox jumps over the lazy dog." --page 210x42 --margin 8 --seed 0 -o docs/images/fox.gif
# one line in each shipped style, labelled, stacked
tmp=$(mktemp -d)
for s in none w1 w2 w3 w4 w5 w6; do
  inkstroke write "The quick brown fox jumps over the lazy dog." --style "$s" --page 250x18 --margin 3 --seed 0 -o "$tmp/$s.png"
done
python - "$tmp" <<'PY'
import sys
from PIL import Image, ImageDraw
tmp = sys.argv[1]
names = ["none", "w1", "w2", "w3", "w4", "w5", "w6"]
rows = [Image.open(f"{tmp}/{n}.png").convert("L") for n in names]
w, h = rows[0].size
sheet = Image.new("L", (w + 90, h * len(rows)), 255)
draw = ImageDraw.Draw(sheet)
for k, (n, im) in enumerate(zip(names, rows)):
    sheet.paste(im, (90, k * h))
    draw.text((10, k * h + h // 2 - 6), f"--style {n}" if n != "none" else "default", fill=0)
sheet.save("docs/images/styles.png")
PY
rm -r "$tmp"
