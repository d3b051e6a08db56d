"""The notes' chain-rule examples as Values, with the derivatives worked out by hand.

``one_neuron_chain``: the last link of a one-neuron-per-layer network,
    z(L) = w(L) a(L-1) + b(L),  a(L) = sigma(z(L)),  C0 = (a(L) - y)^2
and by the chain rule
    dC0/dw(L)   = a(L-1) * sigma'(z(L)) * 2(a(L) - y)
    dC0/db(L)   =      1 * sigma'(z(L)) * 2(a(L) - y)
    dC0/da(L-1) =   w(L) * sigma'(z(L)) * 2(a(L) - y)

``two_neuron_layers``: neurons k = 0, 1 in layer L-1 and j = 0, 1 in layer L, with
    dC0/da_k(L-1) = sum over j of w_jk(L) sigma'(z_j(L)) 2(a_j(L) - y_j)
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from ..engine import Value

__all__ = ["ChainExample", "one_neuron_chain", "two_neuron_layers"]


def _sigmoid_prime(z: float) -> float:
    s = 1.0 / (1.0 + math.exp(-z))
    return s * (1.0 - s)


@dataclass
class ChainExample:
    """A built graph: its cost, its named Values, and each derivative by hand and by engine."""

    cost: Value
    values: dict[str, Value]
    highlight: Value
    rows: list[tuple[str, str, float, float]] = field(default_factory=list)  # name, formula, hand, engine

    def report(self) -> str:
        """One line per derivative: the formula, the hand value, the engine's, their difference."""
        lines = []
        for name, formula, hand, engine in self.rows:
            lines.append(f"{name} = {formula}")
            lines.append(f"    by hand {hand:.15f}   engine {engine:.15f}   |diff| {abs(hand - engine):.1e}")
        return "\n".join(lines)

    def worst_difference(self) -> float:
        return max(abs(hand - engine) for _, _, hand, engine in self.rows)


def one_neuron_chain(a_prev: float = 0.6, w: float = 1.2, b: float = -0.4, y: float = 1.0) -> ChainExample:
    """The notes' a(L-1) -> z(L) -> a(L) -> C0 chain, backpropagated; highlights w(L)."""
    a_prev_v = Value(a_prev, label="a(L-1)")
    w_v = Value(w, label="w(L)")
    b_v = Value(b, label="b(L)")
    y_v = Value(y, label="y")
    product = w_v * a_prev_v
    product.label = "w(L) a(L-1)"
    z = product + b_v
    z.label = "z(L)"
    a = z.sigmoid()
    a.label = "a(L)"
    error = a - y_v
    error.label = "a(L) - y"
    cost = error**2
    cost.label = "C0"
    cost.backward()
    sp = _sigmoid_prime(z.data)
    two_err = 2.0 * (a.data - y)
    rows = [
        ("dC0/dw(L)", "a(L-1) * sigma'(z(L)) * 2(a(L) - y)", a_prev * sp * two_err, w_v.grad),
        ("dC0/db(L)", "1 * sigma'(z(L)) * 2(a(L) - y)", sp * two_err, b_v.grad),
        ("dC0/da(L-1)", "w(L) * sigma'(z(L)) * 2(a(L) - y)", w * sp * two_err, a_prev_v.grad),
    ]
    names = {v.label: v for v in (a_prev_v, w_v, b_v, y_v, product, z, a, error, cost)}
    return ChainExample(cost, names, w_v, rows)


def two_neuron_layers(
    a_prev: tuple[float, float] = (0.3, 0.8),
    weights: tuple[tuple[float, float], tuple[float, float]] = ((0.9, -0.5), (0.4, 1.1)),
    biases: tuple[float, float] = (0.1, -0.2),
    y: tuple[float, float] = (1.0, 0.0),
) -> ChainExample:
    """Two neurons k in L-1 feeding two neurons j in L; highlights a_0(L-1)."""
    a_k = [Value(v, label=f"a_{k}(L-1)") for k, v in enumerate(a_prev)]
    w = [[Value(weights[j][k], label=f"w_{j}{k}(L)") for k in range(2)] for j in range(2)]
    b = [Value(biases[j], label=f"b_{j}(L)") for j in range(2)]
    names: dict[str, Value] = {v.label: v for v in (*a_k, *w[0], *w[1], *b)}
    terms = []
    zs, acts = [], []
    for j in range(2):
        z = Value.dot(w[j], a_k, b[j])
        z.label = f"z_{j}(L)"
        a = z.sigmoid()
        a.label = f"a_{j}(L)"
        err = a - Value(y[j], label=f"y_{j}")
        err.label = f"a_{j}(L) - y_{j}"
        sq = err**2
        sq.label = f"(a_{j}(L) - y_{j})^2"
        zs.append(z)
        acts.append(a)
        terms.append(sq)
        names.update({z.label: z, a.label: a, err.label: err, sq.label: sq})
    cost = terms[0] + terms[1]
    cost.label = "C0"
    cost.backward()
    rows = []
    for k in range(2):
        hand = sum(weights[j][k] * _sigmoid_prime(zs[j].data) * 2.0 * (acts[j].data - y[j]) for j in range(2))
        formula = f"sum over j of w_j{k}(L) sigma'(z_j(L)) 2(a_j(L) - y_j)"
        rows.append((f"dC0/da_{k}(L-1)", formula, hand, a_k[k].grad))
    return ChainExample(cost, names, a_k[0], rows)
