"""The array arithmetic of one FastMLP step, on a batch laid out as columns.

A batch of n examples is held the notes' way, one example per column: layer l's
activations a^(l) are a (k_l, n) array, so z^(l) = W^(l) a^(l-1) + b^(l) is one matrix
product. The bias rides along in that product: a hidden layer's activations carry a last
row of ones and each layer's parameters are stored as one (fan_in + 1, fan_out) block
``[W^T; b]``, so ``[W b] [a; 1] = W a + b``, and the gradient of the whole block is one
product too. Everything here works in place on arrays a ``Workspace`` keeps, so a
training step allocates (almost) nothing. ``FORWARD`` and ``DERIVATIVE`` hold each
activation's kernels; FastMLP picks a layer's pair once, at construction.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable, Sequence

import numpy as np

__all__ = [
    "LOSSES", "ROWS_FIRST_UP_TO", "FORWARD", "DERIVATIVE", "Kernel", "Derivative", "Workspace", "loss_and_gradient",
    "softmax", "activate",
]  # fmt: skip

LOSSES = ("mse", "cross_entropy")

# Optimisation, kept because it buys more than 10% of a notes-net epoch: a first layer of up
# to this many neurons is multiplied in rows, x (n, 785) by [W^T; b], and turned into
# columns as sigma is applied (the notes' step runs 1.3x to 1.45x faster than in columns).
ROWS_FIRST_UP_TO = 32


class Workspace:
    """The arrays of a forward and backward pass over batches of n examples.

    Optimisation, kept because it buys more than 10% of a notes-net epoch: FastMLP keeps
    one Workspace per batch size and reuses it (allocating these per step makes the notes'
    step 1.1x to 1.2x slower).

    For sizes [nin, k1, ..., kL]:
        inputs (n, nin + 1): the batch in rows, in the model's dtype, last column
            1 / input_scale (the first layer multiplies it by the bias and then everything
            by input_scale, so the bias comes out unscaled);
        first (n, k1): the first layer's product in rows, for a first layer of at most
            ``ROWS_FIRST_UP_TO`` neurons (None for a wider one);
        acts[l] (k_l + 1, n): layer l's activations in columns with a last row of ones
            ((kL, n) for the output layer, which feeds nothing); ``outs[l]`` is the
            activations without the ones row;
        deltas[l], scratch[l] (k_l, n): dC/dz^(l) and room for sigma'(z^(l));
        targets (kL, n): one-hot target columns; columns (n,): 0 ... n-1;
        scale: the input_scale written into ``inputs``; per_example, two_per_example:
            1 / n and 2 / n (0-d arrays of the dtype).
    """

    __slots__ = (
        "inputs", "first", "acts", "outs", "deltas", "scratch", "targets", "columns", "scale", "per_example",
        "two_per_example",
    )  # fmt: skip

    def __init__(self, n: int, sizes: Sequence[int], dtype: np.dtype) -> None:
        last = len(sizes) - 2
        self.inputs = np.empty((n, sizes[0] + 1), dtype)
        self.first = np.empty((n, sizes[1]), dtype) if sizes[1] <= ROWS_FIRST_UP_TO else None
        self.acts = [np.ones((k + (layer < last), n), dtype) for layer, k in enumerate(sizes[1:])]
        self.outs = [a[:k] for a, k in zip(self.acts, sizes[1:])]
        self.deltas = [np.empty((k, n), dtype) for k in sizes[1:]]
        self.scratch = [np.empty((k, n), dtype) for k in sizes[1:]]
        self.targets = np.empty((sizes[-1], n), dtype)
        self.columns = np.arange(n)
        self.scale = math.nan  # nothing written into the last column yet (nan equals nothing)
        self.per_example, self.two_per_example = (np.array(c / max(n, 1), dtype) for c in (1.0, 2.0))

    def load(self, x: np.ndarray, input_scale: float) -> np.ndarray:
        """Copy the batch x (n, nin), any real dtype, into ``inputs``; returns ``inputs``.

        uint8 pixels become exact floats; the network will see x * input_scale.
        """
        np.copyto(self.inputs[:, :-1], x, casting="unsafe")
        if input_scale != self.scale:
            if not (math.isfinite(input_scale) and input_scale != 0.0):
                raise ValueError(f"input_scale must be a finite non-zero number, got {input_scale!r}")
            self.inputs[:, -1] = 1.0 / input_scale
            self.scale = input_scale
        return self.inputs


# sigma(s z) into out, for z, out and scratch (k, n); z may be out itself or a transposed
# view (the first layer's product made in rows). s is the
# input scale for the first layer and 1 elsewhere. For sigmoid, exp(-z) overflows to inf
# for z << 0 and 1 / (1 + inf) = 0, as in the scalar engine: callers run these under
# np.errstate(over="ignore"). Each writes into out, so a step allocates nothing here.


def _sigmoid(z: np.ndarray, out: np.ndarray, scratch: np.ndarray, s: float) -> None:
    np.multiply(z, -s, out)
    np.exp(out, out)
    np.add(out, 1.0, out)
    np.reciprocal(out, out)


def _relu(z: np.ndarray, out: np.ndarray, scratch: np.ndarray, s: float) -> None:
    np.multiply(z, s, out)
    np.maximum(out, 0.0, out=out)


def _tanh(z: np.ndarray, out: np.ndarray, scratch: np.ndarray, s: float) -> None:
    np.multiply(z, s, out)
    np.tanh(out, out)


def _linear(z: np.ndarray, out: np.ndarray, scratch: np.ndarray, s: float) -> None:
    if s != 1.0 or z is not out:
        np.multiply(z, s, out)


Kernel = Callable[[np.ndarray, np.ndarray, np.ndarray, float], None]
FORWARD: dict[str, Kernel] = {"sigmoid": _sigmoid, "relu": _relu, "tanh": _tanh, "linear": _linear}


# delta *= sigma'(z) in place, from the activation a = sigma(z); delta, a, scratch (k, n).


def _sigmoid_derivative(delta: np.ndarray, a: np.ndarray, scratch: np.ndarray) -> None:
    # sigma' = a (1 - a): delta a - (delta a) a
    np.multiply(delta, a, delta)
    np.multiply(delta, a, scratch)
    np.subtract(delta, scratch, delta)


def _relu_derivative(delta: np.ndarray, a: np.ndarray, scratch: np.ndarray) -> None:
    np.greater(a, 0.0, scratch)
    np.multiply(delta, scratch, delta)


def _tanh_derivative(delta: np.ndarray, a: np.ndarray, scratch: np.ndarray) -> None:
    # sigma' = 1 - a^2
    np.multiply(a, a, scratch)
    np.subtract(1.0, scratch, scratch)
    np.multiply(delta, scratch, delta)


def _linear_derivative(delta: np.ndarray, a: np.ndarray, scratch: np.ndarray) -> None:
    pass


def activate(name: str, z: np.ndarray) -> np.ndarray:
    """sigma(z) as a new array, any shape, by the activation's ``FORWARD`` kernel (overflow of exp is 0 or 1)."""
    out = np.empty_like(z)
    with np.errstate(over="ignore"):
        FORWARD[name](z, out, out, 1.0)
    return out


Derivative = Callable[[np.ndarray, np.ndarray, np.ndarray], None]
DERIVATIVE: dict[str, Derivative] = {
    "sigmoid": _sigmoid_derivative,
    "relu": _relu_derivative,
    "tanh": _tanh_derivative,
    "linear": _linear_derivative,
}


@functools.lru_cache(maxsize=8)
def _identity(k: int, dtype: np.dtype) -> np.ndarray:
    """The (k, k) identity matrix, read-only: column j is the one-hot target of label j."""
    eye = np.eye(k, dtype=dtype)
    eye.flags.writeable = False
    return eye


def loss_and_gradient(out: np.ndarray, targets: np.ndarray, loss: str, grad: np.ndarray, work: Workspace) -> float:
    """The batch's average cost for outputs out (k, n); writes dC/d(out) into grad (k, n).

    targets: labels (n,) ints in [0, k), or target rows (n, k) for mse.
    """
    n: int = out.shape[1]
    if loss == "mse":  # C = sum over the batch of |out - y|^2, / n
        if targets.ndim == 1:
            target_columns = np.take(_identity(out.shape[0], out.dtype), targets, axis=1, out=work.targets)
        else:
            target_columns = targets.T
        np.subtract(out, target_columns, out=grad)
        value: float = float(np.vdot(grad, grad)) / n
        np.multiply(grad, work.two_per_example, grad)
        return value
    # cross-entropy of the softmax: C = log sum exp(out) - out[label], / n
    np.subtract(out, out.max(axis=0), out=grad)
    picked = targets * n + work.columns  # where each column's label sits in grad.ravel()
    flat = grad.reshape(-1)
    label_logits = np.take(flat, picked)  # out[label] - max
    np.exp(grad, out=grad)
    sums = grad.sum(axis=0)
    value = float(np.log(sums).sum() - label_logits.sum()) / n
    sums *= n
    np.divide(grad, sums, grad)  # the softmax / n, from the same exponentials
    flat[picked] -= work.per_example
    return value


def softmax(z: np.ndarray) -> np.ndarray:
    """exp(z) normalised along the last axis, shifted by the maximum so nothing overflows."""
    e = np.exp(z - z.max(axis=-1, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True)  # type: ignore[no-any-return]
