#!/usr/bin/env bash
# Copies a finished training run into the package as the default English model:
# weights, checkpoint metadata (config, tokenizers, data, command, time, hardware)
# and the style primers picked from UNIPEN by scripts/make_styles.py.
#   bash scripts/ship_model.sh runs/hw data/unipen.inks
set -euo pipefail
run=${1:?run folder}; data=${2:?UNIPEN .inks}
dest=src/inkstroke/models/handwriting
mkdir -p "$dest"
python scripts/make_styles.py --data "$data" --model "$run" -k 6 --candidates 150
cp "$run/model.safetensors" "$run/checkpoint.json" "$run/styles.json" "$dest/"
ls -la "$dest"
