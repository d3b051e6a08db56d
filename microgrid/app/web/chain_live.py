"""The notes' one-neuron chain, recomputed by ``Value`` for the sliders.

a(L-1) -> z(L) = w(L) a(L-1) + b(L) -> a(L) = sigma(z(L)) -> C0 = (a(L) - y)^2, built by
:func:`microgrid.support.chain.one_neuron_chain` and backpropagated: every node's value and grad,
each edge's local derivative (the op's own derivative rule), and the product of the local
derivatives along the path from w(L) to C0, which is dC0/dw(L).
"""

from __future__ import annotations

import math
from typing import Any

from ...ops import local_derivatives
from ...support.chain import one_neuron_chain

__all__ = ["chain", "PATH"]

PATH = ["w(L)", "w(L) a(L-1)", "z(L)", "a(L)", "a(L) - y", "C0"]
"""The nodes from w(L) up to C0, in the notes' names."""


def chain(w: float, b: float, a_prev: float, y: float) -> dict[str, Any]:
    """Values, grads, local derivatives and the chain-rule product for these four numbers."""
    example = one_neuron_chain(a_prev=a_prev, w=w, b=b, y=y)
    nodes = example.values
    names = {id(v): name for name, v in nodes.items()}
    edges = []
    for name, node in nodes.items():
        if node.is_leaf:
            continue
        for parent, d in zip(node.parents, local_derivatives(node)):
            if id(parent) in names:
                edges.append({"from": names[id(parent)], "to": name, "local": d})
    by_pair = {(e["from"], e["to"]): e["local"] for e in edges}
    factors = [by_pair[(low, high)] for low, high in zip(PATH, PATH[1:])]
    return {
        "values": {name: v.data for name, v in nodes.items()},
        "grads": {name: v.grad for name, v in nodes.items()},
        "edges": edges,
        "path": PATH,
        "factors": factors,
        "product": math.prod(factors),
        "dC0_dw": nodes["w(L)"].grad,
        "rows": [
            {"name": name, "formula": formula, "by_hand": hand, "engine": engine}
            for name, formula, hand, engine in example.rows
        ],
    }
