"""The table of ops: each op's forward and its local derivatives, written once, side by side.

An entry is ``register(name, forward=..., partials=...)``:

* ``forward(*inputs)`` computes the op on floats;
* ``partials(*inputs, out)`` returns d(out)/d(input) for each input, in input order. It is
  written with operations that work on floats and on Values alike (``+ - * /``, and
  :func:`exp`, :func:`log`, :func:`power`, :func:`number` below), so the one rule serves
  twice: ``backward()`` calls it with the inputs' floats (fast: no Value is made) and
  ``grad(create_graph=True)`` calls it with the inputs' Values (it then builds a graph,
  and the gradient can be differentiated again).

An op made with a constant (the ``c`` of ``x ** c``) gets it after ``out``. Everything
that lists ops reads this table: the Value methods, the expression parser's functions
(``function=True``), the hypothesis strategies, the kinks gradcheck avoids (``kink=True``),
the drawings' labels (``symbol``). :func:`microgrid.define_op` registers through
:func:`register` too, and a name is registered once: redefining an op is refused.

This module imports the standard library only.
"""

from __future__ import annotations

import math
import operator
from collections.abc import Callable
from dataclasses import dataclass
from itertools import islice
from typing import Any

__all__ = ["Op", "OPS", "register", "rule_of", "missing_rule", "local_derivatives", "number", "exp", "log", "power"]


@dataclass(frozen=True, slots=True)
class Op:
    """One row of the table: see the module docstring."""

    name: str
    forward: Callable[..., float]
    partials: Callable[..., tuple[Any, ...]]
    arity: int | None = 1  # None: any number of inputs
    symbol: str = ""  # its label in drawings ("" for the name)
    kink: bool = False  # its derivative jumps at an input of 0 (no central difference there)
    function: bool = False  # a Value method x.name() and a function of the expression parser
    constant: bool = False  # made with one constant, passed to forward and partials last


OPS: dict[str, Op] = {}
"""Every op of this process, built-in or made by define_op, by name."""
BUILTIN: frozenset[str] = frozenset()
"""The names of the built-in ops (the table below), set once it is filled."""


def register(name: str, **fields: Any) -> Op:
    """Add the op ``name`` to the table; a name already there is refused (ValueError)."""
    if name in OPS:
        kind = "a built-in op" if name in BUILTIN else "already defined in this process"
        raise ValueError(f"op {name!r} is {kind}: an op is defined once, choose another name")
    op = OPS[name] = Op(name, **fields)
    return op


def rule_of(node: Any) -> Op:
    """The table entry of a node's op; NotImplementedError naming the node if there is none."""
    try:
        return OPS[node.op]
    except KeyError:
        raise missing_rule(node) from None


def missing_rule(node: Any) -> NotImplementedError:
    """The error for a node whose op is not in the table (an op of define_op not defined in this process)."""
    return NotImplementedError(
        f"no derivative rule for op {node.op!r} ({node.describe()}): if it was made with define_op, "
        "define it again (same name) in this process, e.g. after unpickling"
    )


def local_derivatives(node: Any, as_values: bool = False) -> tuple[Any, ...]:
    """d(node)/d(parent) for each parent: floats at the current values, or, with as_values,
    Values built from the node and its parents (constant ones stay floats)."""
    op = rule_of(node)
    if as_values:
        return op.partials(*node.parents, node, *node.constants)
    return op.partials(*[p.data for p in node.parents], node.data, *node.constants)


# -- what a derivative is written with: each works on a float and on a Value ---------------


def number(x: Any) -> float:
    """The float in x (x itself for a float): for a rule that branches on a value (a kink)."""
    return x if type(x) is float else x.data  # type: ignore[no-any-return]


def exp(x: Any) -> Any:
    """e ** x; +inf where a float result overflows."""
    return safe_exp(x) if type(x) is float else x.exp()


def log(x: Any) -> Any:
    """The natural log."""
    return math.log(x) if type(x) is float else x.log()


def power(x: Any, c: Any) -> Any:
    """x ** c; +-inf where a float result overflows."""
    return safe_pow(x, c) if type(x) is float and type(c) is float else x**c


# -- forward helpers: floats only ----------------------------------------------------------


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


def divide(a: float, b: float) -> float:
    """a / b; ZeroDivisionError for b == 0 (its message names the nodes at {0} and {1})."""
    if b == 0.0:
        raise ZeroDivisionError(f"division by zero: the denominator ({{1}}) is 0.0 (numerator: {{0}}, {a!r})")
    return a / b


def positive_log(x: float) -> float:
    if not x > 0.0:
        raise ValueError(f"log() needs a positive input, got {x!r}")
    return math.log(x)


def positive_pow(a: float, b: float) -> float:
    """a ** b for a Value exponent b: a positive base only (its message names the base at {0})."""
    if a <= 0.0:
        why = "(d/db a**b = a**b ln a)"
        raise ValueError(f"pow() with a Value exponent needs a positive base {why}, got {a!r} ({{0}})")
    return safe_pow(a, b)


def float_sum(*xs: float) -> float:
    """math.fsum's correctly rounded sum, or, where fsum raises (an overflow, inf + -inf),
    the plain left-to-right float sum: inf or nan, as ``a + b`` gives."""
    try:
        return math.fsum(xs)
    except (OverflowError, ValueError):
        return sum(xs, 0.0)


def log_sum_exp(*xs: float) -> float:
    """log(sum(exp(x))) shifted by the maximum, so no term overflows."""
    if not xs:
        raise ValueError("logsumexp() needs at least one value, got none")
    m = max(xs)
    if math.isinf(m):
        return m
    return m + math.log(math.fsum(math.exp(x - m) for x in xs))


def dot(*args: float) -> float:
    """w . x + b over args = (w_1..w_n, x_1..x_n, b)."""
    n = (len(args) - 1) // 2
    return sum(map(operator.mul, args, islice(args, n, 2 * n)), args[-1])  # map stops after the n products


def dot_partials(*args: Any) -> tuple[Any, ...]:
    """d/dw_i = x_i, d/dx_i = w_i, d/db = 1, for args = (w_1..w_n, x_1..x_n, b, out)."""
    n = (len(args) - 2) // 2
    return (*args[n : 2 * n], *args[:n], 1.0)


def pow_partials(x: Any, out: Any, c: float) -> tuple[Any, ...]:
    """d(x**c)/dx = c x**(c-1); as in PyTorch, 0 for c == 0 and a vertical tangent (c * inf)
    at x == 0 for c < 1, so that inf * 0 upstream is nan (the backward of x**0.5 * 0 at 0)."""
    if c == 0.0 or c == 1.0:
        return (c,)
    if number(x) == 0.0 and c < 1.0:
        return (c * math.inf,)
    return (c * (x if c == 2.0 else power(x, c - 1.0)),)


def softmax(*args: Any) -> tuple[Any, ...]:
    """d/dx_i log(sum_j exp(x_j)) = softmax(x)_i = exp(x_i - out), for args = (x_1..x_n, out)."""
    return tuple(exp(x - args[-1]) for x in args[:-1])


def relu(x: float) -> float:
    """max(0, x), clamping only x <= 0: NaN passes (relu(nan) is nan, as in PyTorch)."""
    return 0.0 if x <= 0.0 else x


def sign(x: Any) -> tuple[float]:
    v = number(x)
    return (1.0 if v > 0.0 else (-1.0 if v < 0.0 else 0.0),)


# -- the table -----------------------------------------------------------------------------
# [tutorial:ops]
register("+", forward=operator.add, partials=lambda a, b, out: (1.0, 1.0), arity=2)
register("-", forward=operator.sub, partials=lambda a, b, out: (1.0, -1.0), arity=2, symbol="−")
register("*", forward=operator.mul, partials=lambda a, b, out: (b, a), arity=2, symbol="×")
register("/", forward=divide, partials=lambda a, b, out: (1.0 / b, -(out / b)), arity=2, symbol="÷")
register("tanh", forward=math.tanh, partials=lambda x, out: (1.0 - out * out,), function=True)
register("sigmoid", forward=stable_sigmoid, partials=lambda x, out: (out * (1.0 - out),), function=True, symbol="σ")
# [/tutorial:ops]
register("neg", forward=operator.neg, partials=lambda x, out: (-1.0,), symbol="−x")
register("**", forward=safe_pow, partials=pow_partials, constant=True, symbol="x^c")
register(
    "**v", forward=positive_pow, partials=lambda a, b, out: (b * power(a, b - 1.0), out * log(a)), arity=2, symbol="a^b"
)
register("exp", forward=safe_exp, partials=lambda x, out: (out,), function=True)
register("log", forward=positive_log, partials=lambda x, out: (1.0 / x,), function=True)
register("relu", forward=relu, partials=lambda x, out: (0.0 if number(x) <= 0.0 else 1.0,), kink=True, function=True)
register("abs", forward=abs, partials=lambda x, out: sign(x), kink=True, function=True)
register("dot", forward=dot, partials=dot_partials, arity=None, symbol="w·x+b")
register("sum", forward=float_sum, partials=lambda *args: (1.0,) * (len(args) - 1), arity=None, symbol="Σ")
register("logsumexp", forward=log_sum_exp, partials=softmax, arity=None)

BUILTIN = frozenset(OPS)


def names(where: Callable[[Op], bool]) -> tuple[str, ...]:
    """The names of the ops for which ``where(op)`` holds, in table order."""
    return tuple(name for name, op in OPS.items() if where(op))
