"""Each op's derivative written with Value ops, so that a gradient can be differentiated again.

``PARTIALS[op](node)`` returns the local derivative d(node)/d(parent) of each parent of
``node``, in parent order. A derivative that depends on the inputs is a Value built from
the node and its parents (``1 - t*t`` for ``t = tanh(x)`` uses the node ``t`` itself, so
differentiating it again goes through tanh once more); a constant one (1 for ``+``, -1
for ``neg``) is a plain float, which :func:`microgrid.autodiff.grad` folds away instead of
growing the graph with it.

``backward()`` keeps its own float rules in :mod:`microgrid.ops`: they are its fast path
(no Value is created per edge). The two tables say the same thing twice, so a property
test (tests/test_derivatives.py) evaluates both over hypothesis-drawn inputs and proves
they agree on every op; an op made with :func:`microgrid.define_op` has one derivative
only, from which both of its entries are made.

This module imports the engine and the standard library only.
"""

from __future__ import annotations

import math
from collections.abc import Callable

from .engine import Value

__all__ = ["PARTIALS", "Partial", "Partials"]

Partial = Value | float
Partials = tuple[Partial, ...]


def add_partials(node: Value) -> Partials:
    return (1.0, 1.0)


def sub_partials(node: Value) -> Partials:
    return (1.0, -1.0)


def mul_partials(node: Value) -> Partials:
    a, b = node._prev
    return (b, a)


def div_partials(node: Value) -> Partials:
    """d(a/b)/da = 1/b; d(a/b)/db = -(a/b)/b, written without b*b (which overflows first)."""
    a, b = node._prev
    inverse = 1.0 / b
    return (inverse, -(node * inverse))


def neg_partials(node: Value) -> Partials:
    return (-1.0,)


def pow_partials(node: Value) -> Partials:
    """d(a**c)/da = c * a**(c-1) for the constant exponent c (kept in node._aux)."""
    (a,) = node._prev
    c = node._aux
    if c == 0.0:
        return (0.0,)
    if c == 1.0:
        return (1.0,)
    if a.data == 0.0 and c < 1.0:
        return (math.copysign(math.inf, c),)  # the float rule's vertical tangent at 0
    return ((a if c == 2.0 else a ** (c - 1.0)) * c,)


def powv_partials(node: Value) -> Partials:
    """a**b with b a Value: d/da = b * a**(b-1), d/db = a**b * ln(a) (a > 0 checked forward)."""
    a, b = node._prev
    return (b * a ** (b - 1.0), node * a.log())


def exp_partials(node: Value) -> Partials:
    return (node,)


def log_partials(node: Value) -> Partials:
    return (1.0 / node._prev[0],)


def tanh_partials(node: Value) -> Partials:
    return (1.0 - node * node,)


def sigmoid_partials(node: Value) -> Partials:
    return (node * (1.0 - node),)


def relu_partials(node: Value) -> Partials:
    return (0.0 if node._prev[0].data <= 0.0 else 1.0,)  # NaN passes, as relu_back


def abs_partials(node: Value) -> Partials:
    x = node._prev[0].data
    return (1.0 if x > 0.0 else (-1.0 if x < 0.0 else 0.0),)


def dot_partials(node: Value) -> Partials:
    """out = sum_i w_i x_i + b with parents (w_1..w_n, x_1..x_n, b): d/dw_i = x_i, d/dx_i = w_i."""
    prev = node._prev
    n = (len(prev) - 1) // 2
    return (*prev[n : 2 * n], *prev[:n], 1.0)


def sum_partials(node: Value) -> Partials:
    return (1.0,) * len(node._prev)


def logsumexp_partials(node: Value) -> Partials:
    """d/dx_i log(sum_j exp(x_j)) = softmax(x)_i = exp(x_i - out)."""
    return tuple((p - node).exp() for p in node._prev)


PARTIALS: dict[str, Callable[[Value], Partials]] = {
    "+": add_partials,
    "-": sub_partials,
    "*": mul_partials,
    "/": div_partials,
    "neg": neg_partials,
    "**": pow_partials,
    "**v": powv_partials,
    "exp": exp_partials,
    "log": log_partials,
    "tanh": tanh_partials,
    "sigmoid": sigmoid_partials,
    "relu": relu_partials,
    "abs": abs_partials,
    "dot": dot_partials,
    "sum": sum_partials,
    "logsumexp": logsumexp_partials,
}
"""The local derivatives of each op, as Values (or constant floats), one per parent."""
