"""Train the same network on both engines from the same seed and compare the weights.

    python demos/scalar_vs_fast.py [--limit 1000]

The scalar engine builds a graph of Values for every image; the fast path multiplies
matrices. Same starting weights, same batches in the same order, same SGD: the final
weights must agree to 1e-9 (relative to each weight matrix's scale).
"""

from __future__ import annotations

import argparse
import sys
import time

import numpy as np

from microgrid.digits.crosscheck import relative_difference
from microgrid.digits.data import load_mnist
from microgrid.digits.fast import FastMLP
from microgrid.digits.train import PRESETS, TrainConfig, train


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--limit", type=int, default=1000, help="training images (default 1000)")
    parser.add_argument("--epochs", type=int, default=1)
    args = parser.parse_args()
    data = load_mnist()
    plain = PRESETS["notes-plain"]  # the notes' recipe: N(0, 1) init, no shifts, no weight decay
    settings = {**plain, "epochs": args.epochs, "limit": args.limit, "batch_size": 10, "dtype": "float64"}
    models = {}
    for engine in ("scalar", "fast"):
        t0 = time.perf_counter()
        print(f"-- {engine} engine")
        model, _ = train(TrainConfig(**settings, engine=engine), data)
        models[engine] = model if isinstance(model, FastMLP) else FastMLP.from_scalar(model)
        print(f"   {time.perf_counter() - t0:.1f} s")
    worst = max(
        relative_difference(a.data, b.data) for a, b in zip(models["scalar"].parameters(), models["fast"].parameters())
    )
    moved = max(
        float(np.max(np.abs(a.data - b.data)))
        for a, b in zip(models["fast"].parameters(), FastMLP(784, [16, 16, 10], init="normal", seed=0).parameters())
    )
    print(f"weights moved by up to {moved:.3g} from their start")
    print(f"largest difference between the engines' weights: {worst:.2e} (relative to each W, b; bound 1e-9)")
    ok = worst <= 1e-9
    print("the engines agree" if ok else "the engines DISAGREE")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
