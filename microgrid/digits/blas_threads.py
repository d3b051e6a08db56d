"""How many threads NumPy's BLAS may use while a FastMLP trains.

Each training step of the notes' network multiplies a (100, 784) batch by a (784, 16)
weight matrix: about 1.25 million multiply-adds, some 40 microseconds on one core. Handing
half of that to a second thread costs more in waking and waiting for it than it saves
(OpenBLAS splits any product above about 260 thousand multiply-adds). For a 256-neuron
layer the second thread pays for itself. ``benchmarks/blas_threads.py`` measures both on
this machine; :func:`threads_for` encodes where they cross.

The limit is applied with ``threadpoolctl`` for the duration of a ``with`` block, and only
to BLAS libraries: it changes how fast the products run, never what they compute.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager

__all__ = ["SMALL_PRODUCT", "largest_product", "threads_for", "blas_threads"]

# Below this many multiply-adds in a step's largest product, one BLAS thread is faster.
SMALL_PRODUCT = 2_000_000


def largest_product(sizes: Sequence[int], batch_size: int) -> int:
    """Multiply-adds of the largest matrix product in one step: batch * fan_in * fan_out."""
    return max(batch_size * fan_in * fan_out for fan_in, fan_out in zip(sizes[:-1], sizes[1:]))


def threads_for(sizes: Sequence[int], batch_size: int) -> int | None:
    """1 for a network whose products are too small to share out, else None (BLAS's default)."""
    return 1 if largest_product(sizes, batch_size) < SMALL_PRODUCT else None


@contextmanager
def blas_threads(limit: int | None) -> Iterator[None]:
    """Within the block NumPy's BLAS uses at most ``limit`` threads (None: no change)."""
    if limit is None:
        yield
        return
    from threadpoolctl import threadpool_limits

    with threadpool_limits(limits=limit, user_api="blas"):
        yield
