"""The fast path's gradient for one example: dC0/dW(l) and dC0/db(l) for every layer.

The matrix view of backpropagation: for one image and its label, ``FastMLP.loss_and_backward``
(a batch of one, so the batch's average cost is that example's C0) fills every layer's
dC0/dW(l) (n_l, n_(l-1)) at once. Row j of dC0/dW(1) is how neuron j's 784 weights should
move for this example: a 28x28 picture. Each cell is one weight's chain rule, which
:class:`microgrid.support.weight_chain.ExampleGraph` reads off the scalar engine's graph.
"""

from __future__ import annotations

import copy

import numpy as np

from .fast import FastMLP

__all__ = ["example_gradients"]


def example_gradients(
    model: FastMLP, image: np.ndarray, label: int, loss: str = "mse"
) -> tuple[float, list[np.ndarray], list[np.ndarray]]:
    """C0 for one image (nin,) with ``label``, and dC0/dW(l) (n_l, n_(l-1)) and dC0/db(l) (n_l,)
    per layer, in float64 (computed on a float64 copy; ``model`` is left as it was)."""
    work = model if model.dtype == np.float64 else FastMLP.__new__(FastMLP)
    if work is not model:
        state = copy.copy(model.__getstate__())
        state["dtype"] = np.dtype(np.float64)
        work.__setstate__(state)
    else:
        work = copy.deepcopy(model)
    cost = work.loss_and_backward(np.asarray(image, np.float64).reshape(1, -1), np.array([label]), loss)
    return cost, [w.grad.copy() for w in work.weights], [b.grad.copy() for b in work.biases]
