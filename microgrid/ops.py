"""Forward values and derivative rules of the scalar engine: math only.

Every op has a forward helper (where the forward is more than one Python operator) and a
named backward rule ``<op>_back(node, upstream)`` that returns one gradient per parent,
in the order of ``node._prev``. Rules are plain module-level functions, looked up by the
op name stored on the node, so graphs pickle and no closure is created per node.

This module imports the standard library only.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import Any, Protocol

__all__ = [
    "BACKWARD",
    "KINK_OPS",
    "safe_exp",
    "stable_sigmoid",
    "safe_pow",
    "float_sum",
    "log_sum_exp",
]


class Node(Protocol):
    """What a derivative rule reads of a node: its value, its parents, its constant."""

    data: float
    _prev: tuple[Any, ...]
    _aux: float


# -- forward helpers ----------------------------------------------------------------------


def safe_exp(x: float) -> float:
    """exp(x), or +inf where the result does not fit a float (never OverflowError)."""
    try:
        return math.exp(x)
    except OverflowError:
        return math.inf


def stable_sigmoid(x: float) -> float:
    """1 / (1 + exp(-x)) without overflow: exp is only taken of a non-positive number."""
    if x >= 0.0:
        return 1.0 / (1.0 + math.exp(-x))
    e = math.exp(x)
    return e / (1.0 + e)


def safe_pow(base: float, exponent: float) -> float:
    """base ** exponent as a real float; overflow gives +-inf, never an exception.

    Raises ValueError for a negative base with a non-integer exponent (a complex result)
    and ZeroDivisionError for zero raised to any negative power, -inf included: 0 ** -c
    is 1 / 0 ** c, and the engine raises on division by zero (PyTorch returns inf).
    """
    if base == 0.0 and exponent < 0.0:
        raise ZeroDivisionError(f"0.0 cannot be raised to a negative power ({exponent!r})")
    try:
        return math.pow(base, exponent)
    except OverflowError:
        if base < 0.0 and float(exponent).is_integer() and int(exponent) % 2 == 1:
            return -math.inf
        return math.inf
    except ValueError:
        raise ValueError(f"pow() of a negative base needs an integer exponent, got {base!r} ** {exponent!r}") from None


def float_sum(xs: Sequence[float]) -> float:
    """math.fsum's correctly rounded sum, or, where fsum raises (an overflow, inf + -inf),
    the plain left-to-right float sum: inf or nan, as ``a + b`` gives."""
    try:
        return math.fsum(xs)
    except (OverflowError, ValueError):
        return sum(xs, 0.0)


def log_sum_exp(xs: Sequence[float]) -> float:
    """log(sum(exp(x))) shifted by the maximum, so no term overflows."""
    m = max(xs)
    if math.isinf(m):
        return m
    return m + math.log(math.fsum(math.exp(x - m) for x in xs))


# -- derivative rules ----------------------------------------------------------------------
# Each returns d(out)/d(parent) * upstream for every parent, in parent order.


def add_back(node: Node, g: float) -> tuple[float, ...]:
    return (g, g)


def sub_back(node: Node, g: float) -> tuple[float, ...]:
    return (g, -g)


def mul_back(node: Node, g: float) -> tuple[float, ...]:
    a, b = node._prev
    return (b.data * g, a.data * g)


def div_back(node: Node, g: float) -> tuple[float, ...]:
    """d(a/b)/db = -(a/b)/b, from the output: b*b would underflow (b = 1e-200) or overflow
    (b = 1e200); this is PyTorch's order of operations."""
    b = node._prev[1].data
    return (g / b, -g * (node.data / b))


def neg_back(node: Node, g: float) -> tuple[float, ...]:
    return (-g,)


def pow_back(node: Node, g: float) -> tuple[float, ...]:
    """d(a**c)/da = c * a**(c-1) for a constant exponent c (kept in node._aux).

    As in PyTorch: 0 for c == 0; at a == 0 with 0 < c < 1, a**(c-1) is +inf, so the
    result is the IEEE product c * inf * g: inf for g > 0, and nan for g == 0 (the
    backward of ``x**0.5 * 0.0`` at x = 0 is nan, as in PyTorch and JAX).
    """
    (a,) = node._prev
    c = node._aux
    if c == 0.0:
        return (0.0,)
    if a.data == 0.0 and c < 1.0:
        return (c * math.inf * g,)
    return (c * safe_pow(a.data, c - 1.0) * g,)


def powv_back(node: Node, g: float) -> tuple[float, ...]:
    """a**b with b a Value: d/da = b * a**(b-1), d/db = a**b * ln(a) (a > 0 checked forward)."""
    a, b = node._prev
    return (b.data * safe_pow(a.data, b.data - 1.0) * g, node.data * math.log(a.data) * g)


def exp_back(node: Node, g: float) -> tuple[float, ...]:
    return (node.data * g,)


def log_back(node: Node, g: float) -> tuple[float, ...]:
    return (g / node._prev[0].data,)


def tanh_back(node: Node, g: float) -> tuple[float, ...]:
    t = node.data
    return ((1.0 - t * t) * g,)


def sigmoid_back(node: Node, g: float) -> tuple[float, ...]:
    s = node.data
    return (s * (1.0 - s) * g,)


def relu_back(node: Node, g: float) -> tuple[float, ...]:
    """0 where the forward clamped (x <= 0), else g: a NaN input passes g, as in PyTorch."""
    return (0.0 if node._prev[0].data <= 0.0 else g,)


def abs_back(node: Node, g: float) -> tuple[float, ...]:
    x = node._prev[0].data
    return (g if x > 0.0 else (-g if x < 0.0 else 0.0),)


def dot_back(node: Node, g: float) -> tuple[float, ...]:
    """out = sum_i w_i x_i + b with parents (w_1..w_n, x_1..x_n, b)."""
    prev = node._prev
    n = (len(prev) - 1) // 2
    weights = prev[:n]
    inputs = prev[n : 2 * n]
    return (*[x.data * g for x in inputs], *[w.data * g for w in weights], g)


def sum_back(node: Node, g: float) -> tuple[float, ...]:
    return (g,) * len(node._prev)


def logsumexp_back(node: Node, g: float) -> tuple[float, ...]:
    """d/dx_i log(sum_j exp(x_j)) = softmax(x)_i = exp(x_i - out)."""
    out = node.data
    return tuple(math.exp(p.data - out) * g for p in node._prev)


BACKWARD: dict[str, Callable[[Node, float], tuple[float, ...]]] = {
    "+": add_back,
    "-": sub_back,
    "*": mul_back,
    "/": div_back,
    "neg": neg_back,
    "**": pow_back,
    "**v": powv_back,
    "exp": exp_back,
    "log": log_back,
    "tanh": tanh_back,
    "sigmoid": sigmoid_back,
    "relu": relu_back,
    "abs": abs_back,
    "dot": dot_back,
    "sum": sum_back,
    "logsumexp": logsumexp_back,
}
"""The derivative rule of each op name."""

KINK_OPS = frozenset({"relu", "abs"})
"""Ops whose derivative jumps at an input of 0: a central difference there is meaningless."""
