"""Replay: a training run's weights kept at evenly spaced steps, to scrub back and forth.

``Replay.add(step, weights, cost)`` is called with the starting weights (step 0) and after
every step; it copies the weights only every ``every`` steps. When ``limit`` snapshots are
held, ``every`` doubles and the snapshots between its multiples are dropped, so a run of
any length keeps at most ``limit`` snapshots spread evenly over the whole run, and at most
``max_bytes`` of weights (the limit is lowered for a large model). The notes' 784-16-16-10
network in float32 takes 52,008 bytes a snapshot: 200 of them, 10.4 MB.
"""

from __future__ import annotations

import copy

import numpy as np

from .fast import FastMLP

__all__ = ["MAX_SNAPSHOTS", "MAX_BYTES", "Replay"]

MAX_SNAPSHOTS = 200
MAX_BYTES = 30_000_000


class Replay:
    """Snapshots of one run: step numbers, flat weight vectors and the batch cost at each.

    Args:
        parameters: the model's number of parameters (P); itemsize: bytes per number.
        limit: the most snapshots kept (fewer when limit * P * itemsize > max_bytes).
    """

    def __init__(self, parameters: int, itemsize: int = 4, limit: int = MAX_SNAPSHOTS, max_bytes: int = MAX_BYTES):
        self.limit = max(2, min(limit, max_bytes // max(parameters * itemsize, 1)))
        self.every = 1
        self.steps: list[int] = []
        self.costs: list[float] = []
        self._weights: list[np.ndarray] = []

    def __len__(self) -> int:
        return len(self.steps)

    @property
    def nbytes(self) -> int:
        """The bytes the snapshots' weights take."""
        return sum(w.nbytes for w in self._weights)

    def add(self, step: int, weights: np.ndarray, cost: float, *, force: bool = False) -> bool:
        """Keep a copy of weights (P,) after ``step`` if it is a step to keep (or ``force``: the
        step a run ended or paused at); True if kept."""
        if step % self.every and not force:
            return False
        if self.steps and self.steps[-1] == step:  # the same step again (the end of a run): refresh it
            self._weights[-1], self.costs[-1] = weights.copy(), cost
            return True
        while len(self.steps) >= self.limit:  # thin out: keep the steps that are multiples of twice the spacing
            self.every *= 2
            keep = [i for i, s in enumerate(self.steps) if s % self.every == 0]
            self.steps = [self.steps[i] for i in keep]
            self.costs = [self.costs[i] for i in keep]
            self._weights = [self._weights[i] for i in keep]
            if step % self.every and not force:
                return False
        self.steps.append(step)
        self.costs.append(float(cost))
        self._weights.append(weights.copy())
        return True

    def weights(self, position: int) -> np.ndarray:
        """The flat weights (P,) of snapshot ``position`` (0 = the first kept)."""
        if not 0 <= position < len(self.steps):
            raise IndexError(f"position must be in [0, {len(self.steps) - 1}], got {position}")
        return self._weights[position]

    def model(self, position: int, template: FastMLP) -> FastMLP:
        """A FastMLP like ``template`` holding the weights of snapshot ``position``."""
        model = copy.deepcopy(template)
        model.flat_parameters()[0].data[...] = self.weights(position)
        return model
