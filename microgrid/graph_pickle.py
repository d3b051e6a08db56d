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

This module imports the standard library only; ``Value.__reduce__`` calls :func:`plan`.
"""

from __future__ import annotations

import threading
import weakref
from typing import Any

__all__ = ["plan"]


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
    stack = [(root, iter(root._prev))]
    while stack:
        node, parents = stack[-1]
        for parent in parents:
            key = id(parent)
            if parent._prev and key not in visited and key not in seen:
                visited.add(key)
                stack.append((parent, iter(parent._prev)))
                break
        else:
            stack.pop()
            order.append(node)
    order.pop()  # root itself, always last
    return order
