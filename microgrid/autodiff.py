"""Gradients as Values: ``grad``, ``hessian`` and a Hessian-vector product.

``grad(output, inputs)`` returns d output / d input for each input, like
``torch.autograd.grad``, and touches no ``.grad``. It walks only the nodes on some path
from an input to the output (a constant pixel is never visited).

Both walks evaluate each op's one rule from the table in :mod:`microgrid.ops`: on floats
(as ``backward()`` does), or, with ``create_graph=True``, on the nodes themselves, so the
local derivatives are Values and backpropagation itself builds a graph: the gradients it
returns can be differentiated again, to any order. Constant local derivatives (1 for
``+``) stay floats and are folded, so ``d(x + y)/dx`` is a plain 1.0, not a chain of nodes.

This module imports the engine and the standard library only.
"""

from __future__ import annotations

import gc
import math
from collections.abc import Iterator, Sequence
from contextlib import contextmanager

from .engine import Value
from .ops import OPS, dot_partials, local_derivatives

__all__ = ["grad", "hessian", "hvp"]

Partial = Value | float


@contextmanager
def _collector_paused() -> Iterator[None]:
    """Pause Python's cyclic garbage collector while a walk allocates tens of thousands of nodes.

    The nodes form no reference cycles (a DAG only points to parents), so a collection in
    between could free nothing; each one would still scan the whole graph (about a quarter
    of the time of grad(create_graph=True) on the seed net).
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def _check(output: object, inputs: object) -> list[Value]:
    if not isinstance(output, Value):
        raise TypeError(f"grad: output must be a Value, got {type(output).__name__}")
    if isinstance(inputs, Value):
        raise TypeError("grad: inputs must be a sequence of Values, e.g. [x], got a single Value")
    try:
        xs: list[Value] = list(inputs)  # type: ignore[call-overload]
    except TypeError:
        raise TypeError(f"grad: inputs must be a sequence of Values, got {type(inputs).__name__}") from None
    if set(map(type, xs)) <= {Value}:  # the common case, checked at C speed
        return xs
    for i, x in enumerate(xs):
        if not isinstance(x, Value):
            raise TypeError(f"grad: input {i} must be a Value, got {type(x).__name__}: {x!r:.60}")
    return xs


def _paths(output: Value, wanted: set[Value]) -> tuple[list[Value], set[Value], set[Value]]:
    """The non-leaf nodes on a path from a wanted node to output, output first, children before parents.

    Also returns the set of nodes that depend on a wanted node (``wanted`` itself, grown in
    place), the only ones that receive a gradient, and the set of every non-leaf node of the graph.
    Depth-first with an explicit stack of parent iterators, so any depth works. Leaves are
    never stored (a leaf depends on a wanted node only if it is one), so the 784 constant
    pixels of a neuron cost one attribute read each.
    """
    needed = wanted  # no copy: the caller's set is not used after (a copy is 12,560 inserts on the seed net)
    seen: set[Value] = {output}
    order: list[Value] = []
    stack: list[tuple[Value, Iterator[Value]]] = [(output, iter(output.parents))]
    while stack:
        node, parents = stack[-1]
        for p in parents:
            if p.parents and p not in seen:
                seen.add(p)
                stack.append((p, iter(p.parents)))
                break
        else:
            stack.pop()
            if node in needed or any(map(needed.__contains__, node.parents)):
                needed.add(node)
                if node.parents:
                    order.append(node)
    order.reverse()
    return order, needed, seen


def _float_grads(output: Value, wanted: set[Value]) -> dict[Value, float]:
    order, needed, _ = _paths(output, wanted)
    acc: dict[Value, float] = {output: 1.0}
    for node in order:
        g = acc.get(node, 0.0)
        for p, d in zip(node.parents, local_derivatives(node)):
            if p in needed:
                acc[p] = acc.get(p, 0.0) + d * g
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


Term = Value | float | tuple[Value, Value]
"""One contribution to a node's gradient: a Value, a float, or a pair (upstream, local) still to multiply."""


def _total(terms: list[Term]) -> Value | float:
    """The sum of a node's gradient terms, with as few new nodes as possible.

    Pairs (upstream g_j, local derivative d_j), the terms a node gets from each node it
    feeds, become one fused ``Value.dot`` node, sum_j g_j d_j + the rest, instead of one
    product node each and a sum: a hidden activation feeding 16 neurons costs one node.
    """
    if len(terms) == 1:
        t = terms[0]
        return t[0] * t[1] if type(t) is tuple else t  # type: ignore[index,return-value]
    pairs = [t for t in terms if type(t) is tuple]
    rest: list[Value | float] = [t for t in terms if type(t) is not tuple]  # type: ignore[misc]
    if not pairs:
        if not any(isinstance(t, Value) for t in rest):
            return math.fsum(rest)  # type: ignore[arg-type]
        return rest[0] + rest[1] if len(rest) == 2 else Value.sum(rest)  # type: ignore[operator]
    bias = _total(rest) if rest else 0.0  # type: ignore[arg-type]
    if len(pairs) == 1:
        g, d = pairs[0]  # type: ignore[misc]
        return g * d + bias
    return Value.dot([g for g, _ in pairs], [d for _, d in pairs], bias)  # type: ignore[misc]


def _value_grads(output: Value, wanted: set[Value]) -> tuple[dict[Value, Value | float], set[Value]]:
    """The gradient of output by every node that depends on a wanted one, and the graph's non-leaf nodes.

    A node's terms are kept as one term, or a list once a second one comes (most nodes feed
    one other node); a node that gets no term is never given one (its gradient is 0).
    """
    order, needed, seen = _paths(output, wanted)
    acc: dict[Value, Term | list[Term]] = {output: 1.0}
    totals: dict[Value, Value | float] = {}

    def add(p: Value, term: Term) -> None:
        old = acc.get(p)
        if old is None:
            acc[p] = term
        elif type(old) is list:
            old.append(term)
        else:
            acc[p] = [old, term]  # type: ignore[list-item]

    for node in order:
        terms = acc.pop(node, None)
        if terms is None:
            continue  # every path from it carried an exact zero (a relu that is off)
        g = totals[node] = _total(terms) if type(terms) is list else _total([terms])  # type: ignore[list-item]
        g_is_value = isinstance(g, Value)
        parents = node.parents
        if node.op == "dot" and g_is_value and OPS["dot"].partials is dot_partials:
            # the table's dot rule, d/dw_i = x_i, d/dx_i = w_i, d/db = 1, applied without calling it (thousands of
            # operands); a changed rule in the table is called below like any other, so both orders read it
            n = len(parents) // 2
            for w, x in zip(parents[:n], parents[n:-1]):
                if w in needed:
                    if w.parents or w in acc:
                        add(w, (g, x))  # type: ignore[arg-type]
                    else:  # a weight's first term, most often its only one: g * x made now
                        acc[w] = Value(g.data * x.data, "", (g, x), "*")  # type: ignore[union-attr,arg-type]
                if x in needed:
                    add(x, (g, w))  # type: ignore[arg-type]
            if parents[-1] in needed:
                add(parents[-1], g)
            continue
        for p, d in zip(parents, local_derivatives(node, as_values=True)):
            if p not in needed:
                continue
            # a Value times a Value is kept as a pair: _total makes the products when p's terms are all in
            term: Term | None = (g, d) if g_is_value and type(d) is Value else _times(g, d)  # type: ignore[assignment]
            if term is not None:
                add(p, term)
    for leaf, terms in acc.items():  # the inputs that are leaves; most get one (upstream, local) pair
        if type(terms) is tuple:  # g * d, made directly: there are thousands (the weights)
            g, d = terms  # type: ignore[misc]
            totals[leaf] = Value(g.data * d.data, "", (g, d), "*")
        elif type(terms) is list:
            totals[leaf] = _total(terms)
        else:
            totals[leaf] = terms  # type: ignore[assignment]
    return totals, seen


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
    with _collector_paused():
        return _grad(output, xs, create_graph)


def _grad(output: Value, xs: list[Value], create_graph: bool) -> list[Value]:
    wanted = set(xs)
    if not create_graph:
        sums = _float_grads(output, wanted)
        return [Value(sums.get(x, 0.0)) for x in xs]
    totals, original = _value_grads(output, wanted)
    return [
        Value(0.0) if g is None else g if type(g) is Value and g.parents and g not in original else _fresh(g)
        for g in map(totals.get, xs)
    ]


def _fresh(g: Value | float) -> Value:
    """A gradient as a new Value: a node of the original graph (a weight, say) or a leaf is
    never handed back as a gradient itself."""
    return g * 1.0 if isinstance(g, Value) else Value(g)


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
