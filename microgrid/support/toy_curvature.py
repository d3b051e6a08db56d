"""The toy's curvature on the scalar engine: lambda_max of the cost's Hessian by ``hvp``.

Power iteration: v <- H v / |H v|, with H v from :func:`microgrid.autodiff.hvp` (a gradient
of the gradient, no n x n matrix), until the Rayleigh quotient v . H v settles: the largest
curvature of the cost surface. Gradient descent with a learning rate past 2 / lambda_max overshoots along
that direction by more than it corrects, and the cost grows.

Pure Python on the engine.
"""

from __future__ import annotations

import math
import random
from collections.abc import Sequence

from ..autodiff import hvp
from ..engine import Value

__all__ = ["lambda_max"]


def _normalised(v: Sequence[float]) -> list[float]:
    size = math.sqrt(math.fsum(x * x for x in v))
    if size == 0.0:
        raise ValueError("the Hessian times the vector is 0: the cost is flat along it (no curvature to measure)")
    return [x / size for x in v]


def lambda_max(
    cost: Value,
    params: Sequence[Value],
    *,
    iterations: int = 30,
    tol: float = 1e-6,
    start: Sequence[float] | None = None,
    seed: int = 0,
) -> tuple[float, list[float], int]:
    """The largest eigenvalue of d2 cost / d params2, its unit vector, and the H v products used.

    Power iteration finds the eigenvalue of largest size; when that one is negative (a
    saddle, often at the start), a second run on H + |it| I finds the largest positive one.

    Args:
        cost: a scalar Value built from ``params`` (the graph is reused for every product).
        params: the n Values to differentiate by.
        start: a vector (n,) to begin from (the last estimate's, so a few products do).
    """
    value, v, used = _power(cost, params, iterations, tol, start, seed, 0.0)
    if value < 0.0:  # the largest in size is negative: the largest positive is the top of H + |value| I
        shift = -value
        top, v, more = _power(cost, params, iterations, tol, None, seed, shift)
        return top - shift, v, used + more
    return value, v, used


def _power(
    cost: Value, params: Sequence[Value], iterations: int, tol: float, start: Sequence[float] | None, seed: int,
    shift: float,
) -> tuple[float, list[float], int]:
    """Power iteration on H + shift I."""
    rng = random.Random(seed)
    v = _normalised(list(start) if start is not None else [rng.gauss(0.0, 1.0) for _ in params])
    value, used = 0.0, 0
    for _ in range(iterations):
        hv = [h + shift * x for h, x in zip(hvp(cost, params, v), v)]
        used += 1
        found = math.fsum(a * b for a, b in zip(v, hv))
        done = used > 1 and abs(found - value) <= tol * abs(found)
        value = found
        if math.sqrt(math.fsum(x * x for x in hv)) == 0.0:
            return 0.0, v, used
        v = _normalised(hv)
        if done:
            break
    return value, v, used
