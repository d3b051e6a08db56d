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

A training step allocates almost nothing: every W and b is a view of one flat vector
(``flat_parameters()``, so an optimizer updates the model in one operation per formula),
the grads are views of another, and the activations and deltas live in arrays kept per
batch size and reused.
"""

from __future__ import annotations

import functools
import math
import random
from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np
from numpy.typing import ArrayLike

from .init import check_activation, init_layer, layer_sizes

if TYPE_CHECKING:
    from .nn import MLP

__all__ = ["Param", "FastMLP", "LOSSES", "softmax"]

LOSSES = ("mse", "cross_entropy")


class Param:
    """One parameter array: ``data`` and its ``grad`` (same shape and dtype), plus a name.

    Assigning to ``data`` or ``grad`` writes into the existing array (the shape must
    match, a number fills it), so a Param that is a view of its model's one flat vector
    stays one: ``p.data = new`` and ``p.data -= step`` both update the model.
    """

    __slots__ = ("_data", "_grad", "name")

    def __init__(self, data: np.ndarray, name: str, grad: np.ndarray | None = None) -> None:
        self._data = data
        self._grad = np.zeros_like(data) if grad is None else grad
        self.name = name

    @property
    def data(self) -> np.ndarray:
        return self._data

    @data.setter
    def data(self, value: ArrayLike) -> None:
        self._write(self._data, value, "data")

    @property
    def grad(self) -> np.ndarray:
        return self._grad

    @grad.setter
    def grad(self, value: ArrayLike) -> None:
        self._write(self._grad, value, "grad")

    def _write(self, target: np.ndarray, value: ArrayLike, what: str) -> None:
        if value is target:  # an in-place update such as p.data -= step: already written
            return
        shape = np.shape(value)
        if shape and shape != target.shape:
            raise ValueError(f"{self.name}.{what} has shape {target.shape}, cannot assign an array of shape {shape}")
        target[...] = value

    def __repr__(self) -> str:
        return f"Param({self.name!r}, shape={self._data.shape}, dtype={self._data.dtype})"


def _activate(z: np.ndarray, activation: str) -> np.ndarray:
    """sigma(z) in place, for z (n, k).

    For sigmoid, exp(-z) overflows to inf for z << 0 and 1 / (1 + inf) = 0, as in the
    scalar engine: callers run this under ``np.errstate(over="ignore")``.
    """
    if activation == "sigmoid":
        np.negative(z, out=z)
        np.exp(z, out=z)
        z += 1.0
        return np.reciprocal(z, out=z)
    if activation == "relu":
        return np.maximum(z, 0.0, out=z)
    if activation == "tanh":
        return np.tanh(z, out=z)
    return z


def _times_derivative(delta: np.ndarray, a: np.ndarray, activation: str, scratch: np.ndarray) -> None:
    """delta *= sigma'(z) in place, with sigma'(z) computed from the activation a = sigma(z).

    delta, a and scratch (n, k); scratch is overwritten.
    """
    if activation == "sigmoid":  # sigma' = a (1 - a): delta a - (delta a) a
        delta *= a
        np.multiply(delta, a, out=scratch)
        delta -= scratch
    elif activation == "relu":
        np.greater(a, 0.0, out=scratch)
        delta *= scratch
    elif activation == "tanh":  # sigma' = 1 - a^2
        np.multiply(a, a, out=scratch)
        np.subtract(1.0, scratch, out=scratch)
        delta *= scratch


class _Workspace:
    """Arrays reused by every training step on batches of n rows, so a step allocates
    (almost) nothing: per layer l the activations a^(l), the deltas and a scratch array,
    each (n, k_l), the inputs converted to the model's dtype (n, nin) and n ones."""

    __slots__ = ("acts", "deltas", "scratch", "inputs", "ones")

    def __init__(self, n: int, sizes: Sequence[int], dtype: np.dtype) -> None:
        self.acts = [np.empty((n, k), dtype) for k in sizes[1:]]
        self.deltas = [np.empty((n, k), dtype) for k in sizes[1:]]
        self.scratch = [np.empty((n, k), dtype) for k in sizes[1:]]
        self.inputs = np.empty((n, sizes[0]), dtype)
        self.ones = np.ones(n, dtype)

    def inputs_like(self, x: np.ndarray) -> np.ndarray:
        """x (n, nin) converted into the inputs array (uint8 pixels become exact floats)."""
        np.copyto(self.inputs, x, casting="unsafe")
        return self.inputs


def softmax(z: np.ndarray) -> np.ndarray:
    """exp(z) normalised along the last axis, shifted by the maximum so nothing overflows."""
    e = np.exp(z - z.max(axis=-1, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True)  # type: ignore[no-any-return]


@functools.lru_cache(maxsize=8)
def _identity(k: int, dtype: np.dtype) -> np.ndarray:
    """The (k, k) identity matrix, read-only: row j is the one-hot target of label j."""
    eye = np.eye(k, dtype=dtype)
    eye.flags.writeable = False
    return eye


def _loss_and_gradient(out: np.ndarray, targets: np.ndarray, loss: str, grad: np.ndarray) -> float:
    """The batch's average cost for outputs out (n, k); writes dC/d(out) into grad (n, k).

    targets: labels (n,) ints in [0, k), or target rows (n, k) for mse.
    """
    n = out.shape[0]
    if loss == "mse":  # C = sum over the batch of |out - y|^2, / n
        target_rows = np.take(_identity(out.shape[1], out.dtype), targets, axis=0) if targets.ndim == 1 else targets
        np.subtract(out, target_rows, out=grad)
        value = float(np.vdot(grad, grad)) / n
        grad *= 2.0 / n
        return value
    # cross-entropy of the softmax: C = log sum exp(out) - out[label], / n
    rows = np.arange(n)
    np.subtract(out, out.max(axis=1, keepdims=True), out=grad)
    picked = grad[rows, targets]
    np.exp(grad, out=grad)
    sums = grad.sum(axis=1)
    value = float((np.log(sums) - picked).sum()) / n
    grad /= sums[:, None]  # the softmax, from the same exponentials
    grad[rows, targets] -= 1.0
    grad *= 1.0 / n
    return value


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
        _draw_weights: bool = True,
    ) -> None:
        self.sizes = layer_sizes(nin, list(nouts))
        self.activation = check_activation(activation)
        self.output_activation = check_activation(output_activation or activation)
        self.init = init
        self.seed = seed
        self.dtype = np.dtype(dtype)
        if self.dtype not in (np.dtype(np.float64), np.dtype(np.float32)):
            raise ValueError(f"dtype must be float64 or float32, got {self.dtype}")
        total = sum(fan_out * (fan_in + 1) for fan_in, fan_out in zip(self.sizes[:-1], self.sizes[1:]))
        self._attach(np.zeros(total, self.dtype), np.zeros(total, self.dtype))
        if not _draw_weights:  # zeros, for a caller about to copy weights in (a model file, a scalar MLP)
            return
        rng = random.Random(seed)
        for i, (w, b) in enumerate(zip(self.weights, self.biases)):
            w.data, b.data = init_layer(self.sizes[i], self.sizes[i + 1], self.activations[i], init, rng)

    def _attach(self, flat_data: np.ndarray, flat_grad: np.ndarray) -> None:
        """Make every weight and bias a view of flat_data (and every grad of flat_grad),
        (num_parameters(),) each, so an optimizer can update all of them with one array
        operation per formula."""
        self._flat = Param(flat_data, "all", flat_grad)
        self.weights: list[Param] = []
        self.biases: list[Param] = []
        offset = 0
        for i, (fan_in, fan_out) in enumerate(zip(self.sizes[:-1], self.sizes[1:])):
            for shape, store, name in (
                ((fan_out, fan_in), self.weights, f"W{i + 1}"),
                ((fan_out,), self.biases, f"b{i + 1}"),
            ):
                size = math.prod(shape)
                data, grad = (flat[offset : offset + size].reshape(shape) for flat in (flat_data, flat_grad))
                store.append(Param(data, name, grad))
                offset += size
        # per layer (W, W^T, b, dC/dW, dC/db, activation): views that never move, so a
        # training step reads them without a property call each
        self._layers = [
            (w.data, w.data.T, b.data, w.grad, b.grad, act)
            for w, b, act in zip(self.weights, self.biases, self.activations)
        ]
        self._workspaces: dict[int, _Workspace] = {}

    def __getstate__(self) -> dict[str, object]:
        """What pickle and copy.deepcopy keep: the settings and the two flat vectors (the
        views are rebuilt on the other side, so a copy's W and b are views of its own vector)."""
        derived = ("_flat", "weights", "biases", "_layers", "_workspaces")
        state = {k: v for k, v in self.__dict__.items() if k not in derived}
        return {**state, "flat_data": self._flat.data, "flat_grad": self._flat.grad}

    def __setstate__(self, state: dict[str, object]) -> None:
        state = dict(state)
        flat_data, flat_grad = state.pop("flat_data"), state.pop("flat_grad")
        self.__dict__.update(state)
        self._attach(np.array(flat_data, dtype=self.dtype), np.array(flat_grad, dtype=self.dtype))

    # -- structure ----------------------------------------------------------------------

    @property
    def activations(self) -> list[str]:
        """The activation of each layer, hidden layers then output."""
        n = len(self.sizes) - 1
        return [self.activation] * (n - 1) + [self.output_activation]

    def parameters(self) -> list[Param]:
        """[W1, b1, W2, b2, ...]: the arrays an optimizer steps, W^(l) (nout, nin), b^(l) (nout,)."""
        return [p for pair in zip(self.weights, self.biases) for p in pair]

    def flat_parameters(self) -> list[Param]:
        """The same numbers as ``parameters()`` as one Param over one contiguous vector.

        Its ``data`` and ``grad`` have shape (num_parameters(),), and ``parameters()`` are
        views of them. An optimizer given ``flat_parameters()`` updates the whole model
        with one array operation per formula instead of one per array, the same numbers
        in less time (the training loop does this).
        """
        return [self._flat]

    def num_parameters(self) -> int:
        return self._flat.data.size

    def zero_grad(self) -> None:
        self._flat.grad[...] = 0.0

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

    def forward_all(self, x: np.ndarray, *, input_scale: float = 1.0) -> list[np.ndarray]:
        """Every layer's activations for inputs x (n, nin): [x, a1 (n, k1), ..., aL (n, kL)].

        The network sees x * input_scale: raw uint8 pixels with ``input_scale=1/255`` are
        read as the same [0, 1] inputs ``data.to_inputs`` makes, without a float copy.
        The first entry of the list is x converted to this model's dtype, not scaled.
        """
        x = self._check_inputs(x)
        with np.errstate(over="ignore"):
            return self._forward(x, [None] * (len(self.sizes) - 1), input_scale)

    def _forward(self, a: np.ndarray, into: Sequence[np.ndarray | None], input_scale: float) -> list[np.ndarray]:
        """forward_all for inputs a (n, nin) already of this model's dtype, writing each
        layer's activations into the matching array of ``into`` (None: a new array)."""
        acts = [a]
        scale = input_scale
        for (_, w_t, b, _, _, activation), out in zip(self._layers, into):
            z = np.dot(a, w_t, out)
            if scale != 1.0:  # first layer only: (x s) W^T = (x W^T) s, n*k numbers, not n*nin
                z *= scale
                scale = 1.0
            z += b
            a = _activate(z, activation)
            acts.append(a)
        return acts

    def __call__(self, x: np.ndarray) -> np.ndarray:
        """Outputs (n, nouts[-1]) for inputs x (n, nin)."""
        return self.forward_all(x)[-1]

    def predict(self, x: np.ndarray, batch_size: int = 10_000, *, input_scale: float = 1.0) -> np.ndarray:
        """The most active output neuron (the digit) for each row of x (n, nin): ints (n,).

        Computed ``batch_size`` rows at a time; the network sees x * input_scale.
        """
        x = np.asarray(x)
        return np.concatenate(
            [
                self.forward_all(x[i : i + batch_size], input_scale=input_scale)[-1].argmax(axis=1)
                for i in range(0, max(len(x), 1), batch_size)
            ]
        )

    def _workspace(self, n: int) -> _Workspace:
        """The reusable arrays for batches of n rows (kept for a few batch sizes)."""
        workspace = self._workspaces.get(n)
        if workspace is None:
            if len(self._workspaces) >= 4:
                self._workspaces.clear()
            workspace = self._workspaces[n] = _Workspace(n, self.sizes, self.dtype)
        return workspace

    def loss_and_backward(
        self,
        x: np.ndarray,
        targets: np.ndarray,
        loss: str = "mse",
        *,
        check: bool = True,
        input_scale: float = 1.0,
    ) -> float:
        """The batch's average cost; fills every parameter's ``grad`` (assigned, not added).

        The grads are written into the same arrays every call (as PyTorch's are): copy
        one to keep it past the next call.

        Args:
            x: inputs (n, nin), any real dtype.
            targets: class labels (n,) ints, or target rows (n, nout) for mse.
            loss: "mse" (the notes' sum of squares per example, averaged) or
                "cross_entropy" (softmax of the outputs, averaged).
            check: validate shapes and the label range. The training loop validates the
                whole data set once and passes False, saving a few microseconds a step.
            input_scale: the network sees x * input_scale. The training loop passes
                uint8 pixels and 1/255: gathering a batch of bytes moves a quarter of the
                memory that float32 inputs would, and no float copy of the data set exists.
        """
        if loss not in LOSSES:
            raise ValueError(f"unknown loss {loss!r}: expected one of {', '.join(LOSSES)}")
        if check:
            x = self._check_inputs(x)
            targets = self._check_targets(targets, len(x), loss)
        workspace = self._workspace(len(x))
        if x.dtype != self.dtype:
            x = workspace.inputs_like(x)
        with np.errstate(over="ignore"):
            out = self._forward(x, workspace.acts, input_scale)[-1]
            grad_out = workspace.deltas[-1]
            value = _loss_and_gradient(out, targets, loss, grad_out)
            self._backward(x, workspace, grad_out, input_scale)
        return value

    def _check_targets(self, targets: np.ndarray, n: int, loss: str) -> np.ndarray:
        """Labels (n,) as ints in [0, nout), or target rows (n, nout) of this dtype, for mse."""
        targets = np.asarray(targets)
        classes = self.sizes[-1]
        if targets.ndim == 1:
            if targets.shape[0] != n:
                raise ValueError(f"got {n} inputs but {targets.shape[0]} labels")
            labels = targets.astype(np.intp)
            if labels.size and (labels.min() < 0 or labels.max() >= classes):
                raise ValueError(f"labels must be in [0, {classes}), got [{labels.min()}, {labels.max()}]")
            return labels
        if loss == "cross_entropy":
            raise ValueError("cross_entropy needs class labels of shape (n,)")
        if targets.shape != (n, classes):
            raise ValueError(f"targets must have shape {(n, classes)} or ({n},), got {targets.shape}")
        return targets.astype(self.dtype, copy=False)

    def _backward(self, x: np.ndarray, workspace: _Workspace, delta: np.ndarray, input_scale: float) -> None:
        """Backpropagate dC/da of the last layer, delta (n, kL), into every Param.grad.

        x (n, nin) is the batch's input, which the network saw as x * input_scale; the
        workspace holds the forward pass's activations and receives the deltas.
        """
        acts, deltas, scratch, ones = [x, *workspace.acts], workspace.deltas, workspace.scratch, workspace.ones
        for i in range(len(self._layers) - 1, -1, -1):
            w, _, _, grad_w, grad_b, activation = self._layers[i]
            _times_derivative(delta, acts[i + 1], activation, scratch[i])
            np.dot(ones, delta, grad_b)  # the sum over the batch, by BLAS
            if i == 0 and input_scale != 1.0:  # dC/dW1 = delta^T (x s) = (s delta)^T x
                delta *= input_scale
            np.dot(delta.T, acts[i], grad_w)
            if i:
                delta = np.dot(delta, w, deltas[i - 1])

    # -- copies to and from the scalar engine ---------------------------------------------

    @classmethod
    def from_scalar(cls, mlp: MLP, dtype: type = np.float64) -> FastMLP:
        """A FastMLP holding exactly the weights of a scalar ``nn.MLP``."""
        sizes = mlp.sizes
        fast = cls(
            sizes[0], sizes[1:], mlp.activation, mlp.output_activation, init=mlp.init, dtype=dtype, _draw_weights=False
        )
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
