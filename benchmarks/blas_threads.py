"""One BLAS thread against NumPy's default, per training step, for networks of growing size.

    python benchmarks/blas_threads.py [--rounds 30] [--steps 20]

For each network, chunks of ``--steps`` training steps (FastMLP.loss_and_backward plus an
Adam step on uint8 MNIST batches, as ``train`` runs them) alternate between the two
settings, round after round, so machine noise hits both alike. It prints the median
microseconds per step and where microgrid.digits.blas_threads.threads_for puts each network.
"""

from __future__ import annotations

import argparse
import statistics
import time

import numpy as np
from _common import table

from microgrid.digits.blas_threads import blas_threads, largest_product, threads_for
from microgrid.digits.data import PIXEL_SCALE, load_mnist
from microgrid.digits.fast import FastMLP
from microgrid.digits.train import batch_order
from microgrid.optim import Adam

NETWORKS = [
    ([784, 16, 16, 10], 100),
    ([784, 32, 10], 100),
    ([784, 64, 10], 100),
    ([784, 128, 10], 100),
    ([784, 256, 10], 128),
]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rounds", type=int, default=30)
    parser.add_argument("--steps", type=int, default=20, help="training steps per timed chunk")
    args = parser.parse_args()
    data = load_mnist()
    pixels = data.train_images.reshape(len(data.train_images), 784)
    labels = data.train_labels.astype(np.intp)
    order = batch_order(0, 1, len(pixels))
    rows = []
    for sizes, batch in NETWORKS:
        model = FastMLP(784, sizes[1:], "relu", "linear", seed=0, dtype=np.float32)
        optimizer = Adam(model.flat_parameters(), lr=1e-3)
        times: dict[str, list[float]] = {"1 thread": [], "default": []}
        position = 0
        for round_ in range(args.rounds):
            settings = [("1 thread", 1), ("default", None)]
            for name, limit in settings if round_ % 2 else settings[::-1]:
                with blas_threads(limit):
                    t0 = time.perf_counter()
                    for _ in range(args.steps):
                        idx = order[position : position + batch]
                        position = (position + batch) % (len(order) - batch)
                        model.loss_and_backward(pixels[idx], labels[idx], "cross_entropy", input_scale=PIXEL_SCALE)
                        optimizer.step()
                    times[name].append((time.perf_counter() - t0) / args.steps * 1e6)
        one, default = statistics.median(times["1 thread"]), statistics.median(times["default"])
        rows.append(
            [
                "-".join(map(str, sizes)) + f", batch {batch}",
                f"{largest_product(sizes, batch):,}",
                f"{one:.0f}",
                f"{default:.0f}",
                f"{default / one:.2f}x",
                "1 thread" if threads_for(sizes, batch) == 1 else "default",
            ]
        )
    headers = ["network", "largest product", "1 thread us/step", "default us/step", "default / 1", "train uses"]
    print(table(headers, rows))


if __name__ == "__main__":
    main()
