"""Gradients as Values: ``grad``, ``hessian`` and a Hessian-vector product.

``grad(output, inputs)`` returns d output / d input for each input, like
``torch.autograd.grad``, and touches no ``.grad``. It walks only the nodes on some path
from an input to the output (a constant pixel is never visited).

With ``create_graph=True`` the walk multiplies each upstream gradient by the op's local
derivatives from :mod:`microgrid.derivatives`, which are Values, so backpropagation itself
builds a graph: the gradients it returns can be differentiated again, to any order.
Constant local derivatives (1 for ``+``) are folded as floats, so ``d(x + y)/dx`` is a
plain 1.0 and not a chain of nodes. Without it, the walk uses backward()'s float rules.

This module imports the engine and the standard library only.
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Sequence

from . import ops
from .derivatives import PARTIALS, Partial
from .engine import Value

__all__ = ["grad", "hessian", "hvp", "missing_rule"]


def missing_rule(node: Value) -> NotImplementedError:
    """The error for a node whose op has no derivative rule (an op made by define_op not defined yet)."""
    return NotImplementedError(
        f"no derivative rule for op {node._op!r} ({node._name()}): if it was made with define_op, "
        f"define it again (same name) in this process, e.g. after unpickling"
    )


def _check(output: object, inputs: object) -> list[Value]:
    if not isinstance(output, Value):
        raise TypeError(f"grad: output must be a Value, got {type(output).__name__}")
    if isinstance(inputs, Value):
        raise TypeError("grad: inputs must be a sequence of Values, e.g. [x], got a single Value")
    try:
        xs: list[Value] = list(inputs)  # type: ignore[call-overload]
    except TypeError:
        raise TypeError(f"grad: inputs must be a sequence of Values, got {type(inputs).__name__}") from None
    for i, x in enumerate(xs):
        if not isinstance(x, Value):
            raise TypeError(f"grad: input {i} must be a Value, got {type(x).__name__}: {x!r:.60}")
    return xs


def _paths(output: Value, wanted: set[Value]) -> tuple[list[Value], dict[Value, bool]]:
    """The non-leaf nodes on a path from a wanted node to output, output first, children before parents.

    Also returns, for every node met, whether it depends on a wanted node. Depth-first with
    an explicit stack of parent iterators, so any depth works.
    """
    depends: dict[Value, bool] = {output: False}
    order: list[Value] = []
    stack: list[tuple[Value, Iterator[Value]]] = [(output, iter(output._prev))]
    while stack:
        node, parents = stack[-1]
        for p in parents:
            if p not in depends:
                if p._prev:
                    depends[p] = False
                    stack.append((p, iter(p._prev)))
                    break
                depends[p] = p in wanted
        else:
            stack.pop()
            hit = node in wanted or any(map(depends.__getitem__, node._prev))
            depends[node] = hit
            if hit and node._prev:
                order.append(node)
    order.reverse()
    return order, depends


def _float_grads(output: Value, wanted: set[Value]) -> dict[Value, float]:
    order, depends = _paths(output, wanted)
    acc: dict[Value, float] = {output: 1.0}
    rules = ops.BACKWARD
    for node in order:
        g = acc.get(node, 0.0)
        rule = rules.get(node._op)
        if rule is None:
            raise missing_rule(node)
        for p, c in zip(node._prev, rule(node, g)):
            if depends[p]:
                acc[p] = acc.get(p, 0.0) + c
    return acc


def _times(g: Value | float, d: Partial) -> Value | float | None:
    """upstream g times local derivative d, folding constants; None for an exact zero term."""
    if isinstance(d, Value):
        if isinstance(g, Value):
            return g * d
        if g == 0.0:
            return None
        return d if g == 1.0 else d * g
    if isinstance(g, Value):
        if d == 1.0:
            return g
        if d == -1.0:
            return -g
        return None if d == 0.0 else g * d
    return g * d


def _total(terms: list[Value | float]) -> Value | float:
    if len(terms) == 1:
        return terms[0]
    if not any(isinstance(t, Value) for t in terms):
        return math.fsum(terms)  # type: ignore[arg-type]
    if len(terms) == 2:
        return terms[0] + terms[1]  # type: ignore[operator]
    return Value.sum(terms)


def _value_grads(output: Value, wanted: set[Value]) -> tuple[dict[Value, Value | float], dict[Value, bool]]:
    order, depends = _paths(output, wanted)
    acc: dict[Value, list[Value | float]] = {output: [1.0]}
    totals: dict[Value, Value | float] = {}
    for node in order:
        terms = acc.pop(node, None)
        if terms is None:
            continue  # every path from it carried an exact zero (a relu that is off)
        g = totals[node] = _total(terms)
        rule = PARTIALS.get(node._op)
        if rule is None:
            raise missing_rule(node)
        product = g.__mul__ if isinstance(g, Value) else None
        for p, d in zip(node._prev, rule(node)):
            if not depends[p]:
                continue
            # the common case inline (a Value local derivative times a Value upstream): one mul node
            term = product(d) if product is not None and isinstance(d, Value) else _times(g, d)
            if term is None:
                continue
            terms = acc.get(p)
            if terms is None:
                acc[p] = [term]
            else:
                terms.append(term)
    for leaf, terms in acc.items():
        totals[leaf] = _total(terms)
    return totals, depends


def grad(output: Value, inputs: Sequence[Value], create_graph: bool = False) -> list[Value]:
    """d output / d x for each x of ``inputs``, as a list of Values (like ``torch.autograd.grad``).

    Args:
        output: the scalar Value to differentiate.
        inputs: the Values to differentiate by (leaves or intermediate nodes), length n.
        create_graph: if True, the results are built from Value ops and carry a graph of
            their own, so they can be differentiated again (``grad`` of a ``grad``) or drawn;
            if False they are leaves holding the numbers.

    Returns:
        n Values; 0.0 for an input ``output`` does not depend on. No ``.grad`` is changed.
        Inside ``no_grad()`` the results carry no graph, even with ``create_graph=True``.

    Example:
        >>> x = Value(0.5)
        >>> (dy,) = grad(x.tanh(), [x], create_graph=True)
        >>> round(grad(dy, [x])[0].data, 6)   # d2/dx2 tanh = -2 tanh (1 - tanh**2)
        -0.726862
    """
    xs = _check(output, inputs)
    wanted = set(xs)
    if not create_graph:
        sums = _float_grads(output, wanted)
        return [Value(sums.get(x, 0.0)) for x in xs]
    totals, original = _value_grads(output, wanted)
    results: list[Value] = []
    for x in xs:
        g = totals.get(x, 0.0)
        if not isinstance(g, Value):
            g = Value(g)
        elif g in original:
            g = g * 1.0  # a node of the original graph (a weight, say) is never handed back as a gradient
        results.append(g)
    return results


def hvp(output: Value, inputs: Sequence[Value], vector: Sequence[float]) -> list[float]:
    """The Hessian of ``output`` times ``vector``: H v, n floats, in two passes (no n x n matrix).

    Args:
        output: a scalar Value.
        inputs: n Values.
        vector: n numbers.
    """
    xs = _check(output, inputs)
    if len(vector) != len(xs):
        raise ValueError(f"hvp: vector has {len(vector)} entries for {len(xs)} inputs")
    firsts = grad(output, xs, create_graph=True)
    terms = [g * float(v) for g, v in zip(firsts, vector) if v != 0.0]
    if not terms:
        return [0.0] * len(xs)
    return [r.data for r in grad(Value.sum(terms), xs)]


def hessian(output: Value, inputs: Sequence[Value]) -> list[list[float]]:
    """The n x n matrix of second derivatives d2 output / dx_i dx_j (row i, column j).

    One ``grad(create_graph=True)`` pass, then one float pass per input over that graph.
    """
    xs = _check(output, inputs)
    return [[r.data for r in grad(g, xs)] for g in grad(output, xs, create_graph=True)]
