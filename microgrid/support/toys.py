"""Tiny data sets in pure Python, for nets small enough to train in the REPL."""

from __future__ import annotations

import math
import random

__all__ = ["xor", "two_moons"]


def xor() -> tuple[list[list[float]], list[float]]:
    """The four XOR points and their labels 0/1."""
    return [[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]], [0.0, 1.0, 1.0, 0.0]


def two_moons(n: int = 100, noise: float = 0.1, seed: int = 0) -> tuple[list[list[float]], list[float]]:
    """n points on two interleaved half circles with Gaussian noise; labels -1.0 and +1.0.

    Returns xs (n lists of 2 floats) and ys (n floats), alternating between the moons.
    The angle along each moon is drawn at random (scikit-learn's make_moons spaces them
    evenly). micrograd's demo on these points: see :mod:`microgrid.init`.
    """
    if n < 1:
        raise ValueError(f"two_moons needs n >= 1, got {n}")
    rng = random.Random(seed)
    xs, ys = [], []
    for i in range(n):
        t = math.pi * rng.random()
        if i % 2 == 0:
            x, y, label = math.cos(t), math.sin(t), -1.0
        else:
            x, y, label = 1.0 - math.cos(t), 0.5 - math.sin(t), 1.0
        xs.append([x + rng.gauss(0.0, noise), y + rng.gauss(0.0, noise)])
        ys.append(label)
    return xs, ys
