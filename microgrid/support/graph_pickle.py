"""How a Value graph is pickled: each node once, shared nodes stay shared, any depth.

Pickle keeps the identity of an object it meets twice in one dump (its memo), so a node
that pickles as ``(its fields, its parents)`` is written once and every later reference
to it is a memo lookup: linear in the graph, and ``nodes[1].parents[0] is nodes[0]``
after a round trip. But pickle recurses into the parents it has not written yet, one C
stack level per node: a 100,000-op chain would overflow the recursion limit.

So the first node of a dump that pickle meets sends ahead, as an argument, the list of
its not-yet-written ancestors in topological order (parents first). Pickle writes that
list element by element, and each element, met while the list is being written, pickles
shallowly: its parents are already in the memo. Nothing recurses deeper than a node and
its parents, and no node is listed twice, so a list of 8,000 nodes of one chain is as
small as the chain's last node alone.

Which nodes this dump has written is kept per thread, for as long as pickle's memo lives:
the first listing of a dump also sends a :class:`_DumpMarker`, which pickle's memo keeps
alive until the dump ends; its weak reference dying ends the bookkeeping. If the
bookkeeping is ever wrong about the memo (two picklers in one thread), the result is
still correct: a node missed here is written when pickle meets it, a node listed again is
a memo lookup.

Importing this module registers :func:`reduce_value` with :mod:`copyreg` as how a Value
pickles (``import microgrid`` does it), so the Value module holds no pickling code.
"""

from __future__ import annotations

import copyreg
import threading
import weakref
from collections.abc import Callable
from typing import Any

from ..engine import Value
from ..grad_mode import GRAD_MODE

__all__ = ["plan", "reduce_value"]


def reduce_value(value: Value) -> tuple[Callable[..., Value], tuple[Any, ...]]:
    """Pickle a graph of any depth, each node once: shared nodes stay shared.

    A leaf pickles as itself; a node as its fields and parents, preceded, the first time a
    dump meets the graph, by its unwritten ancestors in topological order, so pickle never
    recurses deeper than one node.
    """
    if value.is_leaf:
        return (_leaf, (value.data, value.grad, value.label))
    fields = (value.data, value.grad, value.op, value.constants, value.label, value.parents)
    ahead = plan(value)
    if ahead is None:
        return (_node, fields)
    return (_node_after, (*ahead, *fields))


def _leaf(data: float, grad: float, label: str) -> Value:
    leaf = Value(data, label)
    leaf.grad = grad
    return leaf


def _node(
    data: float, grad: float, op: str, constants: tuple[float, ...], label: str, parents: tuple[Value, ...]
) -> Value:
    """Unpickle one non-leaf node (its parents are already rebuilt), with its parents even under no_grad."""
    token = GRAD_MODE.set(True)
    try:
        node = Value(data, label, parents, op, constants)
    finally:
        GRAD_MODE.reset(token)
    node.grad = grad
    return node


def _node_after(_marker: object, _ancestors: list[Value], *fields: Any) -> Value:
    """Unpickle a node whose unwritten ancestors were sent ahead (already rebuilt, in order)."""
    return _node(*fields)


copyreg.pickle(Value, reduce_value)


class _DumpMarker:
    """Lives in pickle's memo while a dump runs; unpickles as False (and is ignored)."""

    __slots__ = ("__weakref__",)

    def __reduce__(self) -> tuple[type[bool], tuple[()]]:
        return (bool, ())


class _Written(threading.local):
    """Per thread: the current dump's marker, the ids of the nodes listed to be written
    ahead (``planned``) and of every node listed or written (``seen``)."""

    def __init__(self) -> None:
        self.marker: weakref.ref[_DumpMarker] | None = None
        self.planned: set[int] = set()
        self.seen: set[int] = set()

    def forget(self, marker: weakref.ref[_DumpMarker]) -> None:
        """The dump of ``marker`` ended: drop its ids (unless a newer dump took over)."""
        if self.marker is marker:
            self.marker = None
            self.planned, self.seen = set(), set()


_written = _Written()


def plan(node: Any) -> tuple[_DumpMarker | None, list[Any]] | None:
    """How a non-leaf node is pickled now: None for shallowly (its parents are in the memo);
    else (marker or None, the ancestors to write first, parents before children)."""
    state = _written
    me = id(node)
    live = state.marker is not None and state.marker() is not None
    if live and me in state.planned:
        state.planned.discard(me)
        return None
    marker = None
    if not live or me in state.seen:  # a new dump (or pickle meets a node twice: another pickler)
        marker = _DumpMarker()
        state.marker = weakref.ref(marker, state.forget)
        state.planned, state.seen = set(), set()
    ancestors = _unwritten_ancestors(node, state.seen)
    ids = [id(a) for a in ancestors]
    state.planned.update(ids)
    state.seen.update(ids)
    state.seen.add(me)
    return marker, ancestors


def _unwritten_ancestors(root: Any, seen: set[int]) -> list[Any]:
    """The non-leaf ancestors of root not in ``seen``, parents before children (root excluded).

    A depth-first post-order over an explicit stack: any depth, each node once.
    """
    order: list[Any] = []
    visited = {id(root)}
    stack = [(root, iter(root.parents))]
    while stack:
        node, parents = stack[-1]
        for parent in parents:
            key = id(parent)
            if parent.parents and key not in visited and key not in seen:
                visited.add(key)
                stack.append((parent, iter(parent.parents)))
                break
        else:
            stack.pop()
            order.append(node)
    order.pop()  # root itself, always last
    return order
