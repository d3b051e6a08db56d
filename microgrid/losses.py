"""Losses on Values: the notes' mean squared error and a stable softmax cross-entropy.

Both take one example (a list of output Values) or a batch (a list of such lists) and
return one Value: the cost of that example, or the average cost over the batch.
"""

from __future__ import annotations

import numbers
from collections.abc import Sequence
from typing import TypeAlias

from .engine import Value

__all__ = ["mse", "cross_entropy", "Target"]

Target: TypeAlias = int | float | Sequence[float]
"""One example's target: a list of numbers, one number (one output), or a class index."""


Predictions: TypeAlias = Sequence[Value] | Sequence[Sequence[Value]]


def _is_vector(x: object) -> bool:
    """A list, tuple or NumPy array of numbers (anything sized and iterable but text)."""
    return hasattr(x, "__len__") and hasattr(x, "__iter__") and not isinstance(x, (str, bytes))


def _batch(predictions: Predictions, targets: object, who: str) -> tuple[list[Sequence[Value]], list[object]]:
    if len(predictions) == 0:
        raise ValueError(f"{who}() needs at least one prediction, got none")
    if isinstance(predictions[0], Value):
        return [predictions], [targets]  # type: ignore[list-item]
    if not _is_vector(targets) or len(targets) != len(predictions):  # type: ignore[arg-type]
        n = len(targets) if _is_vector(targets) else type(targets).__name__  # type: ignore[arg-type]
        raise ValueError(f"{who}() got {len(predictions)} predictions but targets of length {n}")
    return list(predictions), list(targets)  # type: ignore[arg-type, call-overload]


def _target_vector(target: object, n: int, who: str) -> list[float]:
    if _is_vector(target):
        values = list(target)  # type: ignore[call-overload]
        if len(values) != n:
            raise ValueError(f"{who}() target has {len(values)} numbers for {n} outputs")
        return [float(t) for t in values]
    if isinstance(target, bool) or not isinstance(target, numbers.Real):
        raise TypeError(f"{who}() target must be numbers or a class index, got {type(target).__name__}")
    if n == 1:
        return [float(target)]
    if isinstance(target, numbers.Integral) and 0 <= int(target) < n:
        return [1.0 if j == int(target) else 0.0 for j in range(n)]
    raise ValueError(f"{who}() class index must be an int in [0, {n}), got {target!r}")


def mse(predictions: Predictions, targets: object) -> Value:
    """The notes' cost: sum over outputs of (a_j - y_j)^2, averaged over examples.

    Args:
        predictions: n output Values (one example) or a batch of such lists.
        targets: per example, n numbers, a class index (one-hot target), or one number
            when n == 1.
    """
    examples, ys = _batch(predictions, targets, "mse")
    costs = []
    for outputs, target in zip(examples, ys):
        y = _target_vector(target, len(outputs), "mse")
        costs.append(Value.sum([(a - t) ** 2 for a, t in zip(outputs, y)]))
    return costs[0] if len(costs) == 1 else Value.sum(costs) * (1.0 / len(costs))


def cross_entropy(logits: Predictions, targets: object) -> Value:
    """Softmax cross-entropy -log softmax(z)_y, averaged over examples; stable for any finite logits.

    Computed as PyTorch does, from logits shifted by their maximum m (a constant: the
    loss does not depend on it): log(sum_i exp(z_i - m)) - (z_y - m). Unshifted,
    logsumexp(z) - z_y loses everything below z's last digit: at z = (1e17, 1e17) it
    gave 0.0 instead of log 2.

    Args:
        logits: n Values (one example, pre-softmax) or a batch of such lists.
        targets: per example, the class index y in [0, n).
    """
    examples, ys = _batch(logits, targets, "cross_entropy")
    losses = []
    for z, y in zip(examples, ys):
        if isinstance(y, bool) or not isinstance(y, numbers.Integral) or not 0 <= int(y) < len(z):
            raise ValueError(f"cross_entropy() target must be a class index in [0, {len(z)}), got {y!r}")
        m = Value(max(v.data if isinstance(v, Value) else Value(v).data for v in z))
        shifted = [v - m for v in z]
        losses.append(Value.logsumexp(shifted) - shifted[int(y)])
    return losses[0] if len(losses) == 1 else Value.sum(losses) * (1.0 / len(losses))
