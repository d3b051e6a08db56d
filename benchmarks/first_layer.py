"""The first layer's product in rows (then turned into columns) against in columns.

    python benchmarks/first_layer.py [--rounds 30]

FastMLP keeps a batch as columns, (k, n), but gathers it as rows, x (n, 785) with the
bias column. The first layer's z^(1) (k1, n) can be made as [W b] x^T directly, or as
x [W^T; b] in rows (n, k1) and turned into columns while sigma is applied (the turn is
one strided read). For widths k1 of the first layer, on uint8 MNIST batches, both are
timed in alternation with the BLAS threads ``train`` uses; the script prints the median
microseconds per product and which one ``fast_kernels.ROWS_FIRST_UP_TO`` picks.
"""

from __future__ import annotations

import argparse
import statistics
import time

import numpy as np
from _common import table

from microgrid.digits.blas_threads import blas_threads, largest_product, threads_for
from microgrid.digits.fast_kernels import ROWS_FIRST_UP_TO

WIDTHS = [(16, 100), (32, 100), (64, 100), (128, 100), (256, 128)]


def median_microseconds(width: int, batch: int, rounds: int, products: int) -> dict[str, float]:
    """Median microseconds per first-layer product, both ways, timed in alternation."""
    rng = np.random.default_rng(0)
    inputs = rng.random((batch, 785)).astype(np.float32)
    block = rng.standard_normal((785, width)).astype(np.float32)
    in_rows, columns = np.empty((batch, width), np.float32), np.empty((width, batch), np.float32)

    def rows_then_turn() -> None:
        np.multiply(np.dot(inputs, block, in_rows).T, 1.0, out=columns)

    def straight_columns() -> None:
        np.dot(block.T, inputs.T, columns)
        np.multiply(columns, 1.0, out=columns)

    ways = {"rows, turned": rows_then_turn, "columns": straight_columns}
    times: dict[str, list[float]] = {name: [] for name in ways}
    with blas_threads(threads_for([784, width, 10], batch)):
        for round_ in range(rounds):
            for name in ways if round_ % 2 else list(ways)[::-1]:
                t0 = time.perf_counter()
                for _ in range(products):
                    ways[name]()
                times[name].append((time.perf_counter() - t0) / products * 1e6)
    return {name: statistics.median(ts) for name, ts in times.items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rounds", type=int, default=30)
    parser.add_argument("--products", type=int, default=50, help="products per timed chunk")
    args = parser.parse_args()
    rows = []
    for width, batch in WIDTHS:
        turned, straight = median_microseconds(width, batch, args.rounds, args.products).values()
        rows.append(
            [
                f"784-{width}, batch {batch}",
                f"{largest_product([784, width], batch):,}",
                f"{turned:.1f}",
                f"{straight:.1f}",
                f"{straight / turned:.2f}x",
                "rows" if width <= ROWS_FIRST_UP_TO else "columns",
            ]
        )
    headers = ["first layer", "multiply-adds", "rows+turn us", "columns us", "columns / rows", "FastMLP uses"]
    print(table(headers, rows))


if __name__ == "__main__":
    main()
