"""Peak memory of a call, for tests that bound what a loader allocates."""

import tracemalloc
from collections.abc import Callable


def peak_mb(fn: Callable[[], object]) -> float:
    """The largest Python allocation (MiB, tracemalloc) while fn() runs."""
    tracemalloc.start()
    try:
        fn()
    finally:
        peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
    return peak / 2**20
