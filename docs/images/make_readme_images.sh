#!/usr/bin/env bash
# Regenerates the README's handwriting pictures with the shipped model.
#   bash docs/images/make_readme_images.sh
set -euo pipefail
cd "$(dirname "$0")/../.."
inkstroke write "Hello world" --page 210x70 --seed 0 -o docs/images/hello-world.png
inkstroke write @docs/charset.txt --page 210x105 --seed 0 -o docs/images/charset.png
inkstroke write "The quick brown fox jumps over the lazy dog." --page 210x42 --margin 8 --seed 0 -o docs/images/fox.png
inkstroke write "The quick brown fox jumps over the lazy dog." --page 210x42 --margin 8 --seed 0 -o docs/images/fox.gif
