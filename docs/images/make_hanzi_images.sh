#!/usr/bin/env bash
# The hanzi pictures of the README and docs/hanzi.md, written by the shipped model
# from glyphs alone: eight held-out characters (spread over the held-out set), eight
# Japanese-only kanji from IPA Mincho, and the stroke order of a held-out character.
#   bash docs/images/make_hanzi_images.sh
set -euo pipefail
cd "$(dirname "$0")/../.."
inkstroke write "丁噌恪汶盥莎逻龙" --script hanzi -o docs/images/hanzi-held-out.png
inkstroke write "単岻戻歩竍舎鐚龝" --script hanzi --font /usr/share/fonts/opentype/ipafont-mincho/ipam.ttf -o docs/images/hanzi-japanese.png
inkstroke write "盥" --script hanzi -o docs/images/hanzi-held-out.gif
