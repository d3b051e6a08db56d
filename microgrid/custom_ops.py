"""Ops of your own: ``define_op(name, forward=..., derivative=...)``.

``forward`` computes the op on floats; ``derivative`` takes the op's inputs as Values and
returns d(op)/d(input) for each input, written with Value ops (one term, or a tuple of one
term per input). The op is registered in the table of :mod:`microgrid.ops` through the same
``register`` as the built-in ops, with one rule: ``backward()`` evaluates it on floats (the
terms computed under ``no_grad``) and ``grad(create_graph=True)`` on Values (the terms as a
graph, so the op can be differentiated again). So a new op works with ``backward``,
``grad``, ``hessian``, ``draw_dot``, ``explain`` and ``gradcheck``. A name is defined once:
defining it again (or a built-in name) is refused.

Example::

    softplus = define_op(
        "softplus",
        forward=lambda x: math.log1p(math.exp(-abs(x))) + max(x, 0.0),
        derivative=lambda x: x.sigmoid(),
    )
    y = softplus(Value(0.5))     # a Value whose op is "softplus"
    softplus(0.5)                # 0.974..., a float

Pickling: a node stores its op's *name*, and a pickled op is its name. Unpickling a graph
made with an op needs nothing; using its derivative (``backward``, ``grad``) or unpickling
the op object itself needs ``define_op`` with that name to have run in the process first
(import the module that defines it). Otherwise the error names the op.

This module imports the engine and the standard library only.
"""

from __future__ import annotations

import inspect
import numbers
from collections.abc import Callable
from typing import Any

from . import ops
from .engine import Value, no_grad

__all__ = ["define_op", "CustomOp", "get_op", "REGISTRY"]

Partials = tuple[Value | float, ...]
REGISTRY: dict[str, CustomOp] = {}
"""Every op made by define_op in this process, by name."""


class CustomOp:
    """A scalar op made by :func:`define_op`: call it on Values (a Value) or numbers (a float)."""

    def __init__(self, name: str, forward: Callable[..., float], derivative: Callable[..., Any], arity: int) -> None:
        self.name = name
        self.forward = forward
        self.derivative = derivative
        self.arity = arity

    def __repr__(self) -> str:
        return f"<op {self.name!r} of {self.arity} input{'s' if self.arity != 1 else ''}>"

    def __reduce__(self) -> tuple[object, tuple[str]]:
        return (get_op, (self.name,))

    def __call__(self, *args: Value | float) -> Value | float:
        if len(args) != self.arity:
            raise TypeError(f"{self.name}() takes {self.arity} input(s), got {len(args)}")
        for i, a in enumerate(args):
            if not isinstance(a, (Value, numbers.Real)) or isinstance(a, bool):
                raise TypeError(f"{self.name}(): input {i} must be a number or a Value, got {type(a).__name__}")
        if not any(isinstance(a, Value) for a in args):
            return self._forward([float(a) for a in args if not isinstance(a, Value)])
        return Value.apply(self.name, *args)  # the table's forward, as for every op

    def _forward_of(self, *xs: float) -> float:
        return self._forward(list(xs))

    def _forward(self, xs: list[float]) -> float:
        out = self.forward(*xs)
        if isinstance(out, bool) or not isinstance(out, numbers.Real):
            raise TypeError(f"{self.name}: forward must return a number, got {type(out).__name__}: {out!r:.60}")
        return float(out)

    def partials(self, *args: Any) -> Partials:
        """The table's rule: the user's derivative at the inputs (floats or Values, then the
        output, which it does not need), checked: one Value or float per input."""
        inputs = args[: self.arity]
        if all(type(x) is float for x in inputs):  # backward(): the terms as numbers
            with no_grad():
                return tuple(t.data if isinstance(t, Value) else t for t in self._terms(*map(Value, inputs)))
        return self._terms(*inputs)

    def _terms(self, *inputs: Value) -> Partials:
        terms = self.derivative(*inputs)
        if self.arity == 1 and not isinstance(terms, (tuple, list)):
            terms = (terms,)
        if not isinstance(terms, (tuple, list)) or len(terms) != self.arity:
            got = f"{len(terms)} terms" if isinstance(terms, (tuple, list)) else f"a {type(terms).__name__}"
            raise ValueError(
                f"{self.name}: derivative must return one term per input ({self.arity}), got {got}: "
                "return a tuple (d/d input 0, d/d input 1, ...)"
            )
        out: list[Value | float] = []
        for i, t in enumerate(terms):
            if isinstance(t, Value):
                out.append(t)
            elif isinstance(t, numbers.Real) and not isinstance(t, bool):
                out.append(float(t))
            else:
                raise TypeError(f"{self.name}: derivative term {i} must be a Value or a number, got {type(t).__name__}")
        return tuple(out)


def _arity_of(name: str, forward: Callable[..., float]) -> int:
    try:
        params = inspect.signature(forward).parameters.values()
    except (TypeError, ValueError):
        raise TypeError(f"define_op({name!r}): cannot read forward's arguments; pass arity=") from None
    kinds = {p.kind for p in params}
    if inspect.Parameter.VAR_POSITIONAL in kinds:
        raise TypeError(f"define_op({name!r}): forward takes *args; pass arity= (how many inputs the op has)")
    return sum(1 for p in params if p.default is p.empty and p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD))


def define_op(
    name: str,
    *,
    forward: Callable[..., float],
    derivative: Callable[..., Any],
    arity: int | None = None,
) -> CustomOp:
    """Make a new scalar op from its forward function and its derivative.

    Args:
        name: the op's name (an identifier, not an op that exists, such as "tanh"); shown
            in drawings and errors, and stored on nodes, so a graph pickles by it. A name is
            defined once: defining it again is refused (ValueError).
        forward: floats -> float, e.g. ``lambda x: math.log1p(math.exp(x))``.
        derivative: the inputs as Values -> d(op)/d(input) for each input, written with
            Value ops (``lambda x: x.sigmoid()``); a tuple of one term per input when the
            op has several inputs. Terms may be numbers where the derivative is constant.
        arity: the number of inputs (default: forward's required positional arguments).

    Returns:
        the op, a callable: on Values it returns a Value, on numbers a float.
    """
    if not isinstance(name, str) or not name.isidentifier():
        raise ValueError(f"define_op: name must be an identifier such as 'softplus', got {name!r}")
    if name in ops.OPS:
        kind = "a built-in op" if name in ops.BUILTIN else "already defined in this process"
        raise ValueError(f"define_op: {name!r} is {kind}; an op is defined once, choose another name")
    if not callable(forward) or not callable(derivative):
        raise TypeError(f"define_op({name!r}): forward and derivative must be functions")
    n = _arity_of(name, forward) if arity is None else arity
    if not isinstance(n, int) or n < 1:
        raise ValueError(f"define_op({name!r}): an op needs at least one input, got arity {n!r}")
    op = CustomOp(name, forward, derivative, n)
    ops.register(name, forward=op._forward_of, partials=op.partials, arity=n, function=False)
    REGISTRY[name] = op
    return op


def get_op(name: str) -> CustomOp:
    """The op define_op made under ``name`` in this process (how a pickled op is unpickled)."""
    try:
        return REGISTRY[name]
    except KeyError:
        known = ", ".join(sorted(REGISTRY)) or "none yet"
        raise LookupError(
            f"no op named {name!r} is defined in this process (defined: {known}): run its define_op "
            "(import the module that defines it) before unpickling or differentiating it"
        ) from None
