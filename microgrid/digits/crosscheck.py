"""The two engines checked against each other: same loss, same gradients, same training.

``compare_gradients`` builds the scalar graph of a mini-batch and the fast path's matrix
backprop from identical float64 weights and reports the largest relative differences;
``compare_training`` runs SGD steps on both and compares the weights: the fast engine
is stepped by :class:`microgrid.optim.SGD` (as the training loop steps it), the scalar
engine by the update written out by hand here, so a bug in the optimizer shows as a
difference instead of happening identically on both sides. Used by
``python -m microgrid check`` and by the tests.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

import numpy as np

from ..nn import MLP
from ..optim import SGD
from .fast import FastMLP
from .train import scalar_batch_loss

__all__ = ["Comparison", "relative_difference", "compare_gradients", "compare_training", "random_architecture"]


@dataclass
class Comparison:
    """The largest relative differences found between the engines on one case."""

    case: str
    loss: float
    gradient: float
    weights: float = 0.0

    def worst(self) -> float:
        return max(self.loss, self.gradient, self.weights)


def relative_difference(a: np.ndarray, b: np.ndarray) -> float:
    """max |a - b| / max(|a|, |b|) over one array: the difference relative to its scale.

    The scale is the largest magnitude in the array (the whole W^(l) or b^(l)), not each
    element's own: an element that cancels to ~0 in a sum keeps an absolute rounding error
    of the size of its terms, which no summation order can make relatively small.
    """
    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    if not a.size:
        return 0.0
    if not (np.all(np.isfinite(a)) and np.all(np.isfinite(b))):
        return float("inf")  # a diverged case proves nothing: count it as a failure
    scale = max(float(np.max(np.abs(a))), float(np.max(np.abs(b))))
    return float(np.max(np.abs(a - b))) / scale if scale else 0.0


def _per_tensor(mlp: MLP, scalar: np.ndarray, fast: np.ndarray) -> float:
    """The worst relative_difference over W^(l) and b^(l), from flat arrays in scalar order."""
    worst, start = 0.0, 0
    for nin, nout in zip(mlp.sizes[:-1], mlp.sizes[1:]):
        end = start + nout * (nin + 1)
        s, f = scalar[start:end].reshape(nout, nin + 1), fast[start:end].reshape(nout, nin + 1)
        worst = max(worst, relative_difference(s[:, :-1], f[:, :-1]), relative_difference(s[:, -1], f[:, -1]))
        start = end
    return worst


def _scalar_params(mlp: MLP) -> np.ndarray:
    return np.array([p.data for p in mlp.parameters()])


def _scalar_grads(mlp: MLP) -> np.ndarray:
    return np.array([p.grad for p in mlp.parameters()])


def _flatten(fast: FastMLP, grads: bool) -> np.ndarray:
    """The fast model's parameters (or grads) in the scalar engine's order: per neuron w..., b."""
    parts = []
    for w, b in zip(fast.weights, fast.biases):
        wa, ba = (w.grad, b.grad) if grads else (w.data, b.data)
        parts.append(np.concatenate([wa, ba[:, None]], axis=1).ravel())
    return np.concatenate(parts)


def _scalar_loss(mlp: MLP, x: np.ndarray, y: np.ndarray, loss: str) -> float:
    mlp.zero_grad()
    return scalar_batch_loss(mlp, x, y, loss)


def compare_gradients(mlp: MLP, x: np.ndarray, y: np.ndarray, loss: str, case: str = "") -> Comparison:
    """Loss and every gradient of one batch, x (n, nin) float64 and labels y (n,), on both engines."""
    fast = FastMLP.from_scalar(mlp, dtype=np.float64)
    scalar_loss = _scalar_loss(mlp, x, y, loss)
    fast_loss = fast.loss_and_backward(x, y, loss)
    return Comparison(
        case or repr(mlp),
        relative_difference(np.array(scalar_loss), np.array(fast_loss)),
        _per_tensor(mlp, _scalar_grads(mlp), _flatten(fast, grads=True)),
    )


def compare_training(
    mlp: MLP,
    x: np.ndarray,
    y: np.ndarray,
    loss: str,
    steps: int = 20,
    batch: int = 10,
    lr: float = 0.005,
    case: str = "",
    momentum: float = 0.0,
) -> Comparison:
    """``steps`` SGD steps on consecutive batches of (x, y) on both engines, then the weights.

    The fast engine's steps are ``SGD(fast.flat_parameters(), lr, momentum)``; the scalar
    engine's are the textbook update, v = momentum * v + grad, w -= lr * v, per Value.
    """
    fast = FastMLP.from_scalar(mlp, dtype=np.float64)
    fast_opt = SGD(fast.flat_parameters(), lr=lr, momentum=momentum)
    params = mlp.parameters()
    velocity = [0.0] * len(params)
    worst_loss = 0.0
    for step in range(steps):
        lo = (step * batch) % len(x)
        xb, yb = x[lo : lo + batch], y[lo : lo + batch]
        a = _scalar_loss(mlp, xb, yb, loss)
        b = fast.loss_and_backward(xb, yb, loss)
        worst_loss = max(worst_loss, relative_difference(np.array(a), np.array(b)))
        for i, p in enumerate(params):  # by hand, independent of microgrid.optim
            velocity[i] = momentum * velocity[i] + p.grad
            p.data -= lr * velocity[i]
        fast_opt.step()
    return Comparison(
        case or repr(mlp), worst_loss, 0.0, _per_tensor(mlp, _scalar_params(mlp), _flatten(fast, grads=False))
    )


def random_architecture(rng: random.Random, nin: int = 784, nout: int = 10) -> tuple[MLP, str]:
    """A small random MLP (1-3 hidden layers of 1-12 neurons, random activations) and a loss."""
    hidden = [rng.randint(1, 12) for _ in range(rng.randint(1, 3))]
    loss = rng.choice(["mse", "cross_entropy"])
    # a deep linear net under MSE diverges at any useful learning rate: linear hidden layers go with CE only
    activation = rng.choice(["sigmoid", "relu", "tanh"] + (["linear"] if loss == "cross_entropy" else []))
    output = rng.choice(["sigmoid", "linear", "tanh"]) if loss == "mse" else "linear"
    # N(0, 1) weights make deep linear nets blow up under SGD: keep them to squashing activations
    init = rng.choice(["default", "normal"]) if activation in ("sigmoid", "tanh") and output != "linear" else "default"
    mlp = MLP(nin, [*hidden, nout], activation, output, init=init, seed=rng.randrange(2**31))
    return mlp, loss
