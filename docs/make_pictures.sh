#!/usr/bin/env bash
# Regenerates the pictures of the docs with microgrid's own commands (run from the repository root).
set -euo pipefail
python -m microgrid draw chain --rankdir TB -o docs/images/chain.svg
python -m microgrid draw layer --rankdir TB -o docs/images/layer.svg
# the bundled model (784-256-10)
python -m microgrid show weights -o docs/images/weights.png
python -m microgrid show curves -o docs/images/curves.png
# the notes' network as bundled (python -m microgrid train --preset notes)
notes=microgrid/digits/models/notes.npz
python -m microgrid show weights --model "$notes" -o docs/images/notes-weights.png
python -m microgrid show curves --model "$notes" -o docs/images/notes-curves.png
python -m microgrid show activations demos/digits/3.png --model "$notes" -o docs/images/notes-activations-3.png
# the notebook, run top to bottom in a fresh kernel, its outputs saved (needs the test extra)
python docs/run_notebook.py
# gradient descent against Newton's step (second derivatives)
python demos/curvature.py -o docs/images/curvature.png
# The live page's panels (needs the web and test extras and /usr/bin/chromium)
python docs/live_pictures.py -o docs/images
# The training panel: docs/images/learn-{mid,end,toy}.png (needs /usr/bin/chromium)
python docs/learn_pictures.py
