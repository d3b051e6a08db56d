#!/usr/bin/env bash
# Regenerates the pictures of the docs with microgrid's own commands (run from the repository root).
set -euo pipefail
python -m microgrid draw chain -o docs/images/chain.svg
python -m microgrid show weights -o docs/images/weights.png
python -m microgrid show curves -o docs/images/curves.png
python -m microgrid draw layer -o docs/images/layer.svg
python docs/learn_pictures.py   # the training panel: docs/images/learn-{mid,end,toy}.png (needs /usr/bin/chromium)
