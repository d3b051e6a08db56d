"""The backward pass in words: what each node sends to each parent, no graphviz needed.

For every node, in the order backpropagation visits them (the root first), one line
gives its op, value and grad; then, for each parent, the contribution it sends:
local derivative × upstream grad = amount added to the parent's grad.
"""

from __future__ import annotations

import sys
from typing import TextIO

from ..engine import Value
from ..ops import local_derivatives

__all__ = ["explain", "explain_text"]


def _fmt(x: float) -> str:
    return f"{x:.6g}"


def _wrap(name: str) -> str:
    return name if name.replace("(", "").replace(")", "").replace("_", "").isalnum() else f"({name})"


def explain_text(root: Value) -> str:
    """The walk-through of ``root``'s backward pass as text (call root.backward() first)."""
    order = list(reversed(root.topological_order()))
    names: dict[int, str] = {}
    counter = 0
    for node in order:
        if node.label:
            names[id(node)] = node.label
        elif node.parents:
            counter += 1
            names[id(node)] = f"n{counter}"
        else:
            names[id(node)] = f"const {_fmt(node.data)}"
    lines = []
    for node in order:
        name = names[id(node)]
        if node.is_leaf:
            continue
        op = f"** {_fmt(node.constants[0])}" if node.op == "**" else node.op
        lines.append(f"{name}  [{op}]  value {_fmt(node.data)}  grad {_fmt(node.grad)}")
        local = local_derivatives(node)
        shown = list(zip(node.parents, local))
        if len(shown) > 12:
            shown = shown[:6] + shown[-6:]
            hidden = len(node.parents) - 12
        else:
            hidden = 0
        for k, (parent, d) in enumerate(shown):
            if hidden and k == 6:
                lines.append(f"    ... {hidden} more parents")
            pname = names[id(parent)]
            lines.append(
                f"    -> {pname}: local d{_wrap(name)}/d{_wrap(pname)} = {_fmt(d)}"
                f"  x upstream grad {_fmt(node.grad)}  = {_fmt(d * node.grad)} added to its grad"
            )
    leaves = [n for n in order if n.is_leaf and n.label]
    if leaves:
        lines.append("leaves: " + ", ".join(f"{n.label}.grad = {_fmt(n.grad)}" for n in leaves))
    return "\n".join(lines)


def explain(root: Value, file: TextIO | None = None) -> None:
    """Print :func:`explain_text` of ``root`` (to stdout by default)."""
    print(explain_text(root), file=file or sys.stdout)
