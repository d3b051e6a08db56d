"""The vectorised NumPy MLP: forward and backward over a whole mini-batch in matrix form.

``FastMLP`` has the same architecture spec, activations, losses and initial weights as
``nn.MLP`` (same seed, same numbers), so the two engines can be checked against each
other. With a^(0) = X (batch n, nin) and layer l's weights W^(l) (nout, nin):

    z^(l) = a^(l-1) W^(l)T + b^(l)          a^(l) = sigma(z^(l))
    delta^(L) = dC/da^(L) * sigma'(z^(L))
    delta^(l) = (delta^(l+1) W^(l+1)) * sigma'(z^(l))
    dC/dW^(l) = delta^(l)T a^(l-1)           dC/db^(l) = sum over the batch of delta^(l)

These are the notes' backpropagation equations, one matrix product per layer and step.
Parameters are ``Param`` objects with ``.data`` and ``.grad`` arrays, so the optimizers of
:mod:`microgrid.optim` step them exactly as they step scalar Values.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np

from .init import check_activation, init_layer, layer_sizes

if TYPE_CHECKING:
    from .nn import MLP

__all__ = ["Param", "FastMLP", "LOSSES", "softmax"]

LOSSES = ("mse", "cross_entropy")


class Param:
    """One parameter array: ``data`` and its ``grad`` (same shape), plus a name."""

    __slots__ = ("data", "grad", "name")

    def __init__(self, data: np.ndarray, name: str) -> None:
        self.data = data
        self.grad = np.zeros_like(data)
        self.name = name

    def __repr__(self) -> str:
        return f"Param({self.name!r}, shape={self.data.shape}, dtype={self.data.dtype})"


def _activate(z: np.ndarray, activation: str) -> np.ndarray:
    """sigma(z) in place, for z (n, k)."""
    if activation == "sigmoid":
        # exp of -z may overflow to inf for z << 0: then 1 / (1 + inf) = 0, as in the scalar engine
        with np.errstate(over="ignore"):
            np.negative(z, out=z)
            np.exp(z, out=z)
        z += 1.0
        return np.reciprocal(z, out=z)
    if activation == "relu":
        return np.maximum(z, 0.0, out=z)
    if activation == "tanh":
        return np.tanh(z, out=z)
    return z


def _times_derivative(delta: np.ndarray, a: np.ndarray, activation: str) -> None:
    """delta *= sigma'(z) in place, with sigma'(z) computed from the activation a = sigma(z), (n, k)."""
    if activation == "sigmoid":  # sigma' = a (1 - a), without a temporary for a (1 - a)
        delta *= a
        delta -= delta * a
    elif activation == "relu":
        delta *= a > 0.0
    elif activation == "tanh":
        delta *= 1.0 - a * a


def softmax(z: np.ndarray) -> np.ndarray:
    """exp(z) normalised along the last axis, shifted by the maximum so nothing overflows."""
    e = np.exp(z - z.max(axis=-1, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True)  # type: ignore[no-any-return]


class FastMLP:
    """A multi-layer perceptron computed a mini-batch at a time with NumPy.

    Args:
        nin: inputs (784 for a 28x28 image).
        nouts: neurons per layer, hidden layers then the output layer.
        activation: of the hidden layers: "sigmoid", "relu", "tanh" or "linear".
        output_activation: of the last layer; None means the same as ``activation``.
        init: "default" (scaled to the activation) or "normal" (N(0, 1)), as in ``nn.MLP``.
        seed: the same seed gives the same starting weights as ``nn.MLP``.
        dtype: np.float64 (exact cross-checks) or np.float32 (faster training).

    Shapes: inputs X (n, nin); outputs (n, nouts[-1]); W^(l) (nout, nin); b^(l) (nout,).
    """

    def __init__(
        self,
        nin: int,
        nouts: Sequence[int],
        activation: str = "sigmoid",
        output_activation: str | None = None,
        *,
        init: str = "default",
        seed: int = 0,
        dtype: type = np.float64,
    ) -> None:
        self.sizes = layer_sizes(nin, list(nouts))
        self.activation = check_activation(activation)
        self.output_activation = check_activation(output_activation or activation)
        self.init = init
        self.seed = seed
        self.dtype = np.dtype(dtype)
        if self.dtype not in (np.dtype(np.float64), np.dtype(np.float32)):
            raise ValueError(f"dtype must be float64 or float32, got {self.dtype}")
        rng = random.Random(seed)
        self.weights: list[Param] = []
        self.biases: list[Param] = []
        for i, (fan_in, fan_out) in enumerate(zip(self.sizes[:-1], self.sizes[1:])):
            rows, bias = init_layer(fan_in, fan_out, self.activations[i], init, rng)
            self.weights.append(Param(np.array(rows, dtype=self.dtype), f"W{i + 1}"))
            self.biases.append(Param(np.array(bias, dtype=self.dtype), f"b{i + 1}"))

    # -- structure ----------------------------------------------------------------------

    @property
    def activations(self) -> list[str]:
        """The activation of each layer, hidden layers then output."""
        n = len(self.sizes) - 1
        return [self.activation] * (n - 1) + [self.output_activation]

    def parameters(self) -> list[Param]:
        """[W1, b1, W2, b2, ...]: the arrays an optimizer steps."""
        return [p for pair in zip(self.weights, self.biases) for p in pair]

    def num_parameters(self) -> int:
        return sum(p.data.size for p in self.parameters())

    def zero_grad(self) -> None:
        for p in self.parameters():
            p.grad[...] = 0.0

    def __repr__(self) -> str:
        return (
            f"FastMLP({self.sizes[0]} -> {self.sizes[1:]}, activation={self.activation!r}, "
            f"output_activation={self.output_activation!r}, dtype={self.dtype.name}, "
            f"{self.num_parameters():,} parameters)"
        )

    # -- computation --------------------------------------------------------------------

    def _check_inputs(self, x: np.ndarray) -> np.ndarray:
        x = np.asarray(x)
        if x.ndim == 1:
            x = x[None]
        if x.ndim != 2 or x.shape[1] != self.sizes[0]:
            raise ValueError(f"FastMLP expects inputs of shape (n, {self.sizes[0]}), got {np.shape(x)}")
        return x if x.dtype == self.dtype else x.astype(self.dtype)

    def forward_all(self, x: np.ndarray) -> list[np.ndarray]:
        """Every layer's activations for inputs x (n, nin): [x, a1 (n, k1), ..., aL (n, kL)]."""
        return self._forward_trusted(self._check_inputs(x))

    def _forward_trusted(self, a: np.ndarray) -> list[np.ndarray]:
        """forward_all for inputs already known to be (n, nin) of this model's dtype."""
        acts = [a]
        for w, b, act in zip(self.weights, self.biases, self.activations):
            z = a @ w.data.T
            z += b.data
            a = _activate(z, act)
            acts.append(a)
        return acts

    def __call__(self, x: np.ndarray) -> np.ndarray:
        """Outputs (n, nouts[-1]) for inputs x (n, nin)."""
        return self.forward_all(x)[-1]

    def predict(self, x: np.ndarray, batch_size: int = 10_000) -> np.ndarray:
        """The most active output neuron (the digit) for each row of x: ints (n,)."""
        x = np.asarray(x)
        return np.concatenate(
            [self(x[i : i + batch_size]).argmax(axis=1) for i in range(0, max(len(x), 1), batch_size)]
        )

    def loss_and_backward(self, x: np.ndarray, targets: np.ndarray, loss: str = "mse", *, check: bool = True) -> float:
        """The batch's average cost; fills every parameter's ``grad`` (assigned, not added).

        Args:
            x: inputs (n, nin).
            targets: class labels (n,) ints, or target rows (n, nout) for mse.
            loss: "mse" (the notes' sum of squares per example, averaged) or
                "cross_entropy" (softmax of the outputs, averaged).
            check: validate shapes, dtype and label range. The training loop validates
                the whole data set once and passes False, saving a few microseconds a step.
        """
        if check:
            acts = self.forward_all(x)
        else:
            acts = self._forward_trusted(x)
        out = acts[-1]
        n = out.shape[0]
        targets = np.asarray(targets)
        if not check and targets.ndim == 1:
            labels = targets
        elif targets.ndim == 1:
            if targets.shape[0] != n:
                raise ValueError(f"got {n} inputs but {targets.shape[0]} labels")
            labels = targets.astype(np.intp)
            if labels.size and (labels.min() < 0 or labels.max() >= out.shape[1]):
                raise ValueError(f"labels must be in [0, {out.shape[1]}), got [{labels.min()}, {labels.max()}]")
        elif targets.shape != out.shape:
            raise ValueError(f"targets must have shape {out.shape} or ({n},), got {targets.shape}")
        if loss == "mse":
            if targets.ndim == 1:
                diff = out.copy()
                diff[np.arange(n), labels] -= 1.0
            else:
                diff = out - targets
            value = float(np.einsum("ij,ij->", diff, diff)) / n
            diff *= 2.0 / n
            grad_out = diff
        elif loss == "cross_entropy":
            if targets.ndim != 1:
                raise ValueError("cross_entropy needs class labels of shape (n,)")
            shifted = out - out.max(axis=1, keepdims=True)
            exps = np.exp(shifted)
            sums = exps.sum(axis=1)
            rows = np.arange(n)
            value = float((np.log(sums) - shifted[rows, labels]).sum()) / n
            grad_out = exps / sums[:, None]  # the softmax, from the same exponentials
            grad_out[rows, labels] -= 1.0
            grad_out *= 1.0 / n
        else:
            raise ValueError(f"unknown loss {loss!r}: expected one of {', '.join(LOSSES)}")
        self._backward(acts, grad_out)
        return value

    def _backward(self, acts: list[np.ndarray], grad_out: np.ndarray) -> None:
        """Backpropagate dC/da of the last layer, grad_out (n, kL), into every Param.grad."""
        delta = grad_out  # owned by this pass: updated in place
        for i in range(len(self.weights) - 1, -1, -1):
            _times_derivative(delta, acts[i + 1], self.activations[i])
            self.weights[i].grad = delta.T @ acts[i]
            self.biases[i].grad = delta.sum(axis=0)
            if i:
                delta = delta @ self.weights[i].data

    # -- copies to and from the scalar engine ---------------------------------------------

    @classmethod
    def from_scalar(cls, mlp: MLP, dtype: type = np.float64) -> FastMLP:
        """A FastMLP holding exactly the weights of a scalar ``nn.MLP``."""
        sizes = mlp.sizes
        fast = cls(sizes[0], sizes[1:], mlp.activation, mlp.output_activation, init=mlp.init, dtype=dtype)
        for layer, w, b in zip(mlp.layers, fast.weights, fast.biases):
            w.data[...] = [[p.data for p in neuron.w] for neuron in layer.neurons]
            b.data[...] = [neuron.b.data for neuron in layer.neurons]
        return fast

    def to_scalar(self) -> MLP:
        """A scalar ``nn.MLP`` holding exactly these weights (float64 values)."""
        from .nn import MLP

        mlp = MLP(self.sizes[0], self.sizes[1:], self.activation, self.output_activation, init=self.init)
        for layer, w, b in zip(mlp.layers, self.weights, self.biases):
            for j, neuron in enumerate(layer.neurons):
                for k, p in enumerate(neuron.w):
                    p.data = float(w.data[j, k])
                neuron.b.data = float(b.data[j])
        return mlp
