"""The notes' backpropagation equations for a whole mini-batch, as plain NumPy: read this first.

A batch of n examples is held the notes' way, one example per column: a^(0) = X^T is
(n_0, n), and layer l has weights W^(l) (n_l, n_(l-1)) and biases b^(l) (n_l,). Then

    z^(l) = W^(l) a^(l-1) + b^(l)                 a^(l) = sigma(z^(l))            (forward)
    delta^(L) = dC/da^(L) * sigma'(z^(L))                                          (output layer)
    delta^(l) = (W^(l+1)T delta^(l+1)) * sigma'(z^(l))                             (one layer back)
    dC/dW^(l) = delta^(l) a^(l-1)T                dC/db^(l) = delta^(l) summed over the batch

where C is the batch's average cost. Each function below is one of these lines. The fast
path (:mod:`microgrid.digits.fast`) computes the same numbers with fewer allocations;
the tests hold it to this module to the last digits, and this module to the scalar engine.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np

__all__ = ["SIGMA", "SIGMA_PRIME", "forward", "cost_and_output_gradient", "backward"]

Elementwise = Callable[[np.ndarray], np.ndarray]

SIGMA: dict[str, Elementwise] = {
    "sigmoid": lambda z: 1.0 / (1.0 + np.exp(-z)),
    "relu": lambda z: np.maximum(z, 0.0),
    "tanh": np.tanh,
    "linear": lambda z: z,
}
# sigma'(z) written with a = sigma(z), as the backward pass has a at hand
SIGMA_PRIME: dict[str, Elementwise] = {
    "sigmoid": lambda a: a * (1.0 - a),
    "relu": lambda a: (a > 0.0).astype(a.dtype),
    "tanh": lambda a: 1.0 - a * a,
    "linear": lambda a: np.ones_like(a),
}


def forward(
    weights: Sequence[np.ndarray], biases: Sequence[np.ndarray], activations: Sequence[str], x: np.ndarray
) -> list[np.ndarray]:
    """Every layer's activations [a^(0), a^(1), ..., a^(L)], each (n_l, n), for inputs x (n, n_0)."""
    a = [x.T]
    for w, b, name in zip(weights, biases, activations):
        z = w @ a[-1] + b[:, None]  # z^(l) = W^(l) a^(l-1) + b^(l)
        a.append(SIGMA[name](z))  # a^(l) = sigma(z^(l))
    return a


def cost_and_output_gradient(out: np.ndarray, labels: np.ndarray, loss: str) -> tuple[float, np.ndarray]:
    """The batch's average cost C and dC/dz^(L) or dC/da^(L), for outputs out (k, n) and labels (n,).

    "mse": C = average over the batch of sum_j (a_j^(L) - y_j)^2 (the notes' C0 per example),
    and the gradient is dC/da^(L) = 2 (a^(L) - y) / n.
    "cross_entropy": C = average of -log softmax(out)[label], and the gradient is the
    softmax minus the one-hot label, over n (the output activation is then linear).
    """
    n = out.shape[1]
    y = np.eye(out.shape[0], dtype=out.dtype)[:, labels]  # one-hot target columns (k, n)
    if loss == "mse":
        diff = out - y
        return float((diff * diff).sum()) / n, 2.0 * diff / n
    shifted = out - out.max(axis=0)
    log_softmax = shifted - np.log(np.exp(shifted).sum(axis=0))
    return float(-(log_softmax * y).sum()) / n, (np.exp(log_softmax) - y) / n


def backward(
    weights: Sequence[np.ndarray], activations: Sequence[str], a: Sequence[np.ndarray], output_gradient: np.ndarray
) -> tuple[list[np.ndarray], list[np.ndarray]]:
    """dC/dW^(l) (n_l, n_(l-1)) and dC/db^(l) (n_l,) for every layer, from the forward pass's
    activations ``a`` and dC/da^(L) (k, n) as ``cost_and_output_gradient`` returns it."""
    grad_w: list[np.ndarray] = [np.empty(0)] * len(weights)
    grad_b: list[np.ndarray] = [np.empty(0)] * len(weights)
    delta = output_gradient * SIGMA_PRIME[activations[-1]](a[-1])  # delta^(L) = dC/da^(L) * sigma'(z^(L))
    for layer in range(len(weights) - 1, -1, -1):
        grad_w[layer] = delta @ a[layer].T  # dC/dW^(l) = delta^(l) a^(l-1)T
        grad_b[layer] = delta.sum(axis=1)  # dC/db^(l) = delta^(l) summed over the batch
        if layer:  # delta^(l-1) = (W^(l)T delta^(l)) * sigma'(z^(l-1))
            delta = (weights[layer].T @ delta) * SIGMA_PRIME[activations[layer - 1]](a[layer])
    return grad_w, grad_b
