"""One weight's chain rule on one example, read off the scalar engine's graph.

``ExampleGraph(mlp, x, target, loss)`` builds the cost C0 of one example on a scalar
``MLP`` as Values and backpropagates it once. ``chain(l, j, k)`` then reads, for the weight
w_jk(l) (from neuron k of layer l-1 to neuron j of layer l; layers counted from 1), the
notes' chain from that weight to C0:

    w_jk(l) -> z_j(l) -> a_j(l) -> ... -> C0

each arrow with its local derivative (the op's own derivative rule, the numbers backward()
multiplies): dz_j(l)/dw_jk(l) = a_k(l-1), da_j(l)/dz_j(l) = sigma'(z_j(l)), and so on. Where a
node feeds more than one other node (a hidden neuron feeds every neuron of the next layer)
the chain stops and the rest of the way is dC0/da_j(l), which the rule sums over those
paths: sum_i (local derivative to node i) x (node i's grad); ``fan`` lists those terms.
The product of the factors is dC0/dw_jk(l), the same number as the weight's ``grad`` and as
the fast path's matrix cell dC0/dW(l)[j, k].

Pure Python on the engine; imports the engine only.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

from ..engine import Value
from ..losses import cross_entropy, mse
from ..nn import MLP
from ..ops import local_derivatives

__all__ = ["ExampleGraph"]


def _local(child: Value, parent: Value) -> float:
    """d child / d parent along the one edge between them (summed if parent appears twice), by
    the op's own derivative rule in the engine's table."""
    return math.fsum(d for p, d in zip(child.parents, local_derivatives(child)) if p is parent)


class ExampleGraph:
    """C0 of one example x (nin,) with label ``target``, built on ``mlp`` and backpropagated.

    The weights' grads are set to this example's gradient (zero_grad, then backward()):
    ``mlp`` must not be backpropagated by anyone else while its chains are read.
    """

    def __init__(self, mlp: MLP, x: Sequence[float], target: int, loss: str = "mse") -> None:
        if loss not in ("mse", "cross_entropy"):
            raise ValueError(f"loss must be mse or cross_entropy, got {loss!r}")
        self.mlp, self.target, self.loss = mlp, target, loss
        inputs = [Value(v, label=f"a_{k}(0)") for k, v in enumerate(x)]
        self.acts: list[list[Value]] = [inputs]
        self.zs: list[list[Value]] = [[]]
        out = inputs
        for number, layer in enumerate(mlp.layers, start=1):
            out = layer(out)
            zs = [a.parents[0] if a.op in ("sigmoid", "relu", "tanh") else a for a in out]
            for j, (z, a) in enumerate(zip(zs, out)):
                z.label, a.label = f"z_{j}({number})", f"a_{j}({number})"
            self.zs.append(zs)
            self.acts.append(out)
        self.cost = mse(out, target) if loss == "mse" else cross_entropy(out, target)
        self.cost.label = "C0"
        self._children = self._loss_children()
        mlp.zero_grad()
        self.cost.backward()

    def _loss_children(self) -> dict[int, list[Value]]:
        """id(node) -> the nodes it feeds, for the cost's nodes above the output layer."""
        outputs = {id(a) for a in self.acts[-1]}
        children: dict[int, list[Value]] = {}
        stack, seen = [self.cost], {id(self.cost)}
        while stack:
            node = stack.pop()
            for p in node.parents:
                siblings = children.setdefault(id(p), [])
                if all(c is not node for c in siblings):
                    siblings.append(node)
                if id(p) not in seen and id(p) not in outputs and p.parents:
                    seen.add(id(p))
                    stack.append(p)
        return children

    def _children_of(self, node: Value, layer: int) -> list[Value]:
        if layer < len(self.acts) - 1:  # a hidden neuron feeds every z of the next layer
            return list(self.zs[layer + 1])
        return self._children.get(id(node), [])

    def _name(self, node: Value) -> str:
        if node.label:
            return node.label
        if node.op == "-" and node.parents[0].label:
            j = node.parents[0].label.split("(")[0].removeprefix("a_")
            return f"{node.parents[0].label} - {'y_' + j if self.loss == 'mse' else 'm'}"
        if node.op == "**" and node.parents[0].op == "-":
            return f"({self._name(node.parents[0])})²"
        return node.op

    def _entry(self, node: Value) -> dict[str, Any]:
        return {"name": self._name(node), "value": node.data, "grad": node.grad}

    def chain(self, layer: int, j: int, k: int) -> dict[str, Any]:
        """The chain from w_jk(layer) to C0: nodes, edges with local derivatives, factors, product.

        Returns {"weight": name, "nodes": [{name, value, grad}], "edges": [{from, to, local}],
        "factors": [{name, value}], "fan": None or {"node", "terms": [{to, local, grad, product}],
        "sum"}, "product": the factors multiplied, "engine": the weight's grad}.
        """
        sizes = self.mlp.sizes
        if not 1 <= layer < len(sizes):
            raise ValueError(f"layer must be in [1, {len(sizes) - 1}], got {layer}")
        if not (0 <= j < sizes[layer] and 0 <= k < sizes[layer - 1]):
            raise ValueError(f"layer {layer} has weights w_jk with j < {sizes[layer]} and k < {sizes[layer - 1]}")
        weight = self.mlp.layers[layer - 1].neurons[j].w[k]
        weight.label = f"w_{j},{k}({layer})"
        z, a = self.zs[layer][j], self.acts[layer][j]
        path = [weight, z] if a is z else [weight, z, a]
        node = a
        while True:  # follow single children up (the output layer's a - y, its square, C0)
            children = self._children_of(node, layer if node is a else len(self.acts))
            if len(children) != 1:
                break
            node = children[0]
            path.append(node)
        edges = [
            {"from": self._name(low), "to": self._name(high), "local": _local(high, low)}
            for low, high in zip(path, path[1:])
        ]
        factors: list[dict[str, Any]] = [{"name": f"d {e['to']} / d {e['from']}", "value": e["local"]} for e in edges]
        fan = None
        last = path[-1]
        if last is not self.cost:
            children = self._children_of(last, layer if last is a else len(self.acts))
            locals_ = [_local(c, last) for c in children]
            total = math.fsum(d * c.grad for d, c in zip(locals_, children))
            terms = [
                {"to": self._name(c), "local": d, "grad": c.grad, "product": d * c.grad}
                for d, c in zip(locals_, children)
            ]
            fan = {"node": self._name(last), "terms": terms, "sum": total}
            factors.append({"name": f"dC0/d {self._name(last)}", "value": total})
        return {
            "weight": weight.label,
            "layer": layer,
            "j": j,
            "k": k,
            "nodes": [self._entry(n) for n in path] + ([] if last is self.cost else [self._entry(self.cost)]),
            "edges": edges,
            "factors": factors,
            "fan": fan,
            "product": math.prod(float(f["value"]) for f in factors),
            "engine": weight.grad,
        }
