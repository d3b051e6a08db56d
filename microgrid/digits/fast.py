"""The vectorised NumPy MLP: forward and backward over a whole mini-batch in matrix form.

``FastMLP`` has the same architecture spec, activations, losses and initial weights as
``nn.MLP`` (same seed, same numbers), so the two engines can be checked against each
other. Inside, a batch of n examples is held as columns, the notes' way: with
a^(0) = X^T (nin, n) and layer l's weights W^(l) (nout, nin),

    z^(l) = W^(l) a^(l-1) + b^(l)             a^(l) = sigma(z^(l))
    delta^(L) = dC/da^(L) * sigma'(z^(L))
    delta^(l) = (W^(l+1)T delta^(l+1)) * sigma'(z^(l))
    dC/dW^(l) = delta^(l) a^(l-1)T            dC/db^(l) = sum over the batch of delta^(l)

These are the notes' backpropagation equations, one matrix product per layer and step
(the bias is folded into it, see :mod:`microgrid.digits.fast_kernels`). Their plain
version, one NumPy line per equation, is :mod:`microgrid.digits.equations`: read it
first; the tests hold this module to it to the last digits. The public arrays are
in rows: inputs (n, nin), outputs (n, nout). Parameters are ``Param`` objects with
``.data`` and ``.grad`` arrays, so the optimizers of :mod:`microgrid.optim` step them
exactly as they step scalar Values.

A training step allocates almost nothing: every W and b is a view of one flat vector
(``flat_parameters()``, so an optimizer updates the model in one operation per formula),
the grads are views of another, and the activations and deltas live in arrays kept per
batch size and reused.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np
from numpy.typing import ArrayLike

from ..init import check_activation, init_layer, layer_sizes
from .fast_kernels import DERIVATIVE, FORWARD, LOSSES, Derivative, Kernel, Workspace, loss_and_gradient, softmax

if TYPE_CHECKING:
    from ..nn import MLP

__all__ = ["Param", "FastMLP", "LOSSES", "softmax"]


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
        operation per formula.

        Layer l owns one block of the vector, read as a (fan_in + 1, fan_out) matrix
        [W^T; b]: W^(l) is the transpose of its first fan_in rows, b^(l) its last row.
        A step multiplies by the whole block, bias included, in one matrix product.
        """
        self._flat = Param(flat_data, "all", flat_grad)
        self.weights: list[Param] = []
        self.biases: list[Param] = []
        # per layer: the block's transpose [W b], W^T (fan_in, fan_out), the grad block, and the
        # activation's kernels (fast_kernels.FORWARD and DERIVATIVE)
        self._layers: list[tuple[np.ndarray, np.ndarray, np.ndarray, Kernel, Derivative]] = []
        offset = 0
        for i, (fan_in, fan_out, activation) in enumerate(zip(self.sizes[:-1], self.sizes[1:], self.activations)):
            end = offset + (fan_in + 1) * fan_out
            block, grad_block = (flat[offset:end].reshape(fan_in + 1, fan_out) for flat in (flat_data, flat_grad))
            self.weights.append(Param(block[:fan_in].T, f"W{i + 1}", grad_block[:fan_in].T))
            self.biases.append(Param(block[fan_in], f"b{i + 1}", grad_block[fan_in]))
            self._layers.append((block.T, block[:fan_in], grad_block, FORWARD[activation], DERIVATIVE[activation]))
            offset = end
        self._workspaces: dict[int, Workspace] = {}

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

    def _check_inputs(self, x: ArrayLike) -> np.ndarray:
        """x as a 2-D array (n, nin) of numbers (one example (nin,) becomes (1, nin))."""
        x = np.asarray(x)
        if x.ndim == 1:
            x = x[None]
        if x.ndim != 2 or x.shape[1] != self.sizes[0]:
            raise ValueError(f"FastMLP expects inputs of shape (n, {self.sizes[0]}), got {np.shape(x)}")
        if x.dtype.kind not in "biuf":
            raise ValueError(f"FastMLP expects real numbers as inputs, got an array of dtype {x.dtype}")
        return x

    def forward_all(self, x: ArrayLike, *, input_scale: float = 1.0) -> list[np.ndarray]:
        """Every layer's activations for inputs x (n, nin): [x, a1 (n, k1), ..., aL (n, kL)].

        The network sees x * input_scale: raw uint8 pixels with ``input_scale=1/255`` are
        read as the same [0, 1] inputs ``data.to_inputs`` makes, without a float copy.
        The first entry of the list is x converted to this model's dtype, not scaled.
        The arrays are new on every call.
        """
        x = self._check_inputs(x)
        workspace = Workspace(len(x), self.sizes, self.dtype)
        with np.errstate(over="ignore"):
            self._forward(workspace.load(x, input_scale), workspace)
        return [workspace.inputs[:, :-1], *(out.T for out in workspace.outs)]

    def _forward(self, inputs: np.ndarray, workspace: Workspace) -> np.ndarray:
        """Every layer's activations into ``workspace.outs`` (k_l, n), for inputs (n, nin + 1)
        as ``Workspace.load`` made them (seen times its input_scale); returns the output
        layer's (kL, n)."""
        acts, outs, scratch, layers = workspace.acts, workspace.outs, workspace.scratch, self._layers
        for layer, (block_t, _, _, sigma, _) in enumerate(layers):
            out = outs[layer]
            if layer == 0 and workspace.first is not None:  # the same product in rows, turned by sigma
                sigma(np.dot(inputs, block_t.T, workspace.first).T, out, scratch[0], workspace.scale)
            elif layer == 0:  # z^(1) = s [W b] [x^T; 1/s] = s W x^T + b, (k1, n)
                sigma(np.dot(block_t, inputs.T, out), out, scratch[0], workspace.scale)
            else:  # a^(l) = sigma([W b] [a^(l-1); 1]) = sigma(W a^(l-1) + b)
                sigma(np.dot(block_t, acts[layer - 1], out), out, scratch[layer], 1.0)
        return outs[-1]

    def __call__(self, x: ArrayLike) -> np.ndarray:
        """Outputs (n, nouts[-1]) for inputs x (n, nin)."""
        return self.forward_all(x)[-1]

    def predict(self, x: ArrayLike, batch_size: int = 10_000, *, input_scale: float = 1.0) -> np.ndarray:
        """The most active output neuron (the digit) for each row of x (n, nin): ints (n,).

        Computed ``batch_size`` rows at a time; the network sees x * input_scale.
        """
        x = self._check_inputs(x)
        return np.concatenate(
            [
                self.forward_all(x[i : i + batch_size], input_scale=input_scale)[-1].argmax(axis=1)
                for i in range(0, max(len(x), 1), batch_size)
            ]
        )

    def _workspace(self, n: int) -> Workspace:
        """The reusable arrays for batches of n rows (kept for a few batch sizes)."""
        workspace = self._workspaces.get(n)
        if workspace is None:
            if len(self._workspaces) >= 4:
                self._workspaces.clear()
            workspace = self._workspaces[n] = Workspace(n, self.sizes, self.dtype)
        return workspace

    def loss_and_backward(
        self,
        x: ArrayLike,
        targets: ArrayLike,
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
                whole data set once and passes False (x and targets must then be arrays
                of the right shapes, targets labels as ints), saving a few microseconds a step.
            input_scale: the network sees x * input_scale. The training loop passes
                uint8 pixels and 1/255: gathering a batch of bytes moves a quarter of the
                memory that float32 inputs would, and no float copy of the data set exists.
        """
        if loss not in LOSSES:
            raise ValueError(f"unknown loss {loss!r}: expected one of {', '.join(LOSSES)}")
        if check:
            x = self._check_inputs(x)
            targets = self._check_targets(targets, len(x), loss)
        workspace = self._workspace(len(x))  # type: ignore[arg-type]
        with np.errstate(over="ignore"):
            out = self._forward(workspace.load(x, input_scale), workspace)  # type: ignore[arg-type]
            delta = workspace.deltas[-1]
            value = loss_and_gradient(out, targets, loss, delta, workspace)  # type: ignore[arg-type]
            self._backward(workspace, delta)
        return value

    def _check_targets(self, targets: ArrayLike, n: int, loss: str) -> np.ndarray:
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

    def _backward(self, workspace: Workspace, delta: np.ndarray) -> None:
        """Backpropagate dC/da of the output layer, delta (kL, n), into every Param.grad.

        The workspace holds the forward pass's inputs and activations and receives the
        deltas. The network saw its inputs times the workspace's input scale.
        """
        acts, outs, deltas, scratch = workspace.acts, workspace.outs, workspace.deltas, workspace.scratch
        for layer in range(len(self._layers) - 1, -1, -1):
            _, w_t, grad_block, _, times_derivative = self._layers[layer]
            times_derivative(delta, outs[layer], scratch[layer])  # dC/dz = dC/da sigma'(z)
            if layer:
                np.dot(acts[layer - 1], delta.T, grad_block)  # dC/d[W^T; b] = [a; 1] delta^T
                delta = np.dot(w_t, delta, deltas[layer - 1])  # dC/da^(l-1) = W^T delta, (k_(l-1), n)
            else:  # the inputs were seen scaled: dC/dW1 = (s delta) x^T
                if workspace.scale != 1.0:
                    np.multiply(delta, workspace.scale, delta)
                np.dot(workspace.inputs.T, delta.T, grad_block)

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
        from ..nn import MLP

        mlp = MLP(self.sizes[0], self.sizes[1:], self.activation, self.output_activation, init=self.init)
        for layer, w, b in zip(mlp.layers, self.weights, self.biases):
            for j, neuron in enumerate(layer.neurons):
                for k, p in enumerate(neuron.w):
                    p.data = float(w.data[j, k])
                neuron.b.data = float(b.data[j])
        return mlp
