"""Neurons, layers and multi-layer perceptrons built on ``Value``.

A neuron computes the notes' ``a = sigma(w . a_prev + b)``: one fused weighted-sum node
(``Value.dot``) followed by its activation. A ``Layer`` always returns a list, also for a
single output, and an ``MLP`` chains layers.
"""

from __future__ import annotations

import random
from collections.abc import Sequence

from .engine import Operand, Value
from .init import check_activation, init_layer, layer_sizes

__all__ = ["Module", "Neuron", "Layer", "MLP"]


class Module:
    """Anything with parameters: ``parameters()`` lists them, ``zero_grad()`` clears their grads."""

    def parameters(self) -> list[Value]:
        """Every trainable Value, in a fixed order."""
        return []

    def zero_grad(self) -> None:
        """Set every parameter's grad to 0 (leaf grads accumulate across backward calls)."""
        for p in self.parameters():
            p.grad = 0.0

    def num_parameters(self) -> int:
        """How many scalars ``parameters()`` holds."""
        return len(self.parameters())


def _activate(z: Value, activation: str) -> Value:
    if activation == "sigmoid":
        return z.sigmoid()
    if activation == "relu":
        return z.relu()
    if activation == "tanh":
        return z.tanh()
    return z


def _as_values(x: Sequence[Operand], nin: int, who: str) -> list[Value]:
    if isinstance(x, (str, bytes)) or not (hasattr(x, "__len__") and hasattr(x, "__iter__")):
        raise TypeError(f"{who} needs a sequence of {nin} numbers or Values, got {type(x).__name__}")
    if getattr(x, "ndim", 1) != 1:
        raise ValueError(f"{who} expects a flat sequence of {nin} inputs, got shape {getattr(x, 'shape', None)}")
    if len(x) != nin:
        raise ValueError(f"{who} expects {nin} inputs, got {len(x)}")
    return [v if isinstance(v, Value) else Value(v) for v in x]


class Neuron(Module):
    """One neuron: ``activation(w . x + b)`` with ``nin`` weights and a bias.

    Args:
        nin: number of inputs.
        activation: "sigmoid" (the notes), "relu", "tanh" or "linear".
        seed: seeds the initial weights (see :mod:`microgrid.init`).
        init: "default" (scaled to the activation) or "normal" (the notes' N(0, 1)).
    """

    def __init__(
        self,
        nin: int,
        activation: str = "sigmoid",
        *,
        seed: int = 0,
        init: str = "default",
        _start: tuple[list[float], float] | None = None,
    ) -> None:
        self.activation = check_activation(activation)
        if _start is None:
            rows, biases = init_layer(layer_sizes(nin, [1])[0], 1, activation, init, random.Random(seed))
            _start = (rows[0], biases[0])
        weights, bias = _start
        self.w = [Value(w) for w in weights]
        self.b = Value(bias)

    @property
    def nin(self) -> int:
        return len(self.w)

    def __call__(self, x: Sequence[Operand]) -> Value:
        """x: nin numbers or Values -> the neuron's activation (one Value)."""
        xs = _as_values(x, self.nin, "Neuron")
        return _activate(Value.dot(self.w, xs, self.b), self.activation)

    def parameters(self) -> list[Value]:
        return [*self.w, self.b]

    def __repr__(self) -> str:
        return f"Neuron({self.nin}, activation={self.activation!r})"


class Layer(Module):
    """``nout`` neurons reading the same ``nin`` inputs; calling it returns a list of nout Values."""

    def __init__(
        self,
        nin: int,
        nout: int,
        activation: str = "sigmoid",
        *,
        seed: int = 0,
        init: str = "default",
        _rng: random.Random | None = None,
    ) -> None:
        check_activation(activation)
        layer_sizes(nin, [nout])
        rng = _rng if _rng is not None else random.Random(seed)
        rows, biases = init_layer(nin, nout, activation, init, rng)
        self.activation = activation
        self.neurons = [Neuron(nin, activation, _start=(w, b)) for w, b in zip(rows, biases)]

    @property
    def nin(self) -> int:
        return self.neurons[0].nin

    @property
    def nout(self) -> int:
        return len(self.neurons)

    def __call__(self, x: Sequence[Operand]) -> list[Value]:
        """x: nin numbers or Values -> a list of nout activations (always a list)."""
        xs = _as_values(x, self.nin, "Layer")
        return [n(xs) for n in self.neurons]

    def parameters(self) -> list[Value]:
        return [p for n in self.neurons for p in n.parameters()]

    def __repr__(self) -> str:
        return f"Layer({self.nin}, {self.nout}, activation={self.activation!r})"


class MLP(Module):
    """A multi-layer perceptron: ``MLP(784, [16, 16, 10])`` is the notes' network.

    Args:
        nin: inputs (784 for a 28x28 image).
        nouts: neurons per layer, hidden layers then the output layer.
        activation: of the hidden layers: "sigmoid" (the notes), "relu", "tanh", "linear".
        output_activation: of the last layer; None means the same as ``activation``.
        init: "default" (scaled to the activation: He for relu, LeCun otherwise, zero
            biases) or "normal" (the notes' N(0, 1) weights and biases).
        seed: the same seed gives the same weights, here and in ``FastMLP``.

    Calling it on nin numbers returns a list of nouts[-1] Values.
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
    ) -> None:
        sizes = layer_sizes(nin, list(nouts))
        self.activation = check_activation(activation)
        self.output_activation = check_activation(output_activation or activation)
        self.init = init
        self.seed = seed
        rng = random.Random(seed)
        self.layers = [
            Layer(
                sizes[i],
                sizes[i + 1],
                self.output_activation if i == len(sizes) - 2 else self.activation,
                init=init,
                _rng=rng,
            )
            for i in range(len(sizes) - 1)
        ]

    @property
    def sizes(self) -> list[int]:
        """[nin, *nouts]."""
        return [self.layers[0].nin, *(layer.nout for layer in self.layers)]

    def __call__(self, x: Sequence[Operand]) -> list[Value]:
        """x: nin numbers or Values -> list of nouts[-1] output activations."""
        out: list[Value] = _as_values(x, self.layers[0].nin, "MLP")
        for layer in self.layers:
            out = layer(out)
        return out

    def parameters(self) -> list[Value]:
        return [p for layer in self.layers for p in layer.parameters()]

    def __repr__(self) -> str:
        sizes = self.sizes
        return (
            f"MLP({sizes[0]} -> {sizes[1:]}, activation={self.activation!r}, "
            f"output_activation={self.output_activation!r}, {self.num_parameters():,} parameters)"
        )
