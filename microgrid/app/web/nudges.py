"""Backpropagation as nudges, computed by the scalar engine's ``backward()``.

For one example (or the average over a mini-batch) the notes' cost
C0 = sum over j of (a_j(L) - y_j)^2 is built from Values by the model's scalar copy
(``nn.MLP``), backpropagated, and read back:

* each neuron's activation a, weighted sum z and their grads dC0/da, dC0/dz; the nudge a
  neuron "wants" is -dC0/da (the output layer's is -2(a_j - y_j));
* for the target neuron of the output layer, the three ways to raise it: its bias
  (nudge -dC0/db), its weights (-dC0/dw_jk, large where a_k(L-1) is bright), and the
  previous activations (this neuron's share of -dC0/da_k(L-1): w_jk times its upstream
  grad, the line ``microgrid.explain`` prints for that edge);
* the weight grads of the layers drawn as edges (fan-in up to 256), and the explain lines
  of the nodes C0, a_t(L) and z_t(L).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from ...engine import Value
from ...init import ACTIVATIONS
from ...losses import mse
from ...nn import MLP
from ...ops import local_derivatives
from ...pictures.explain import explain_text

__all__ = ["build", "nudges", "batch_nudges"]

EDGE_GRADS_MAX_FAN_IN = 256  # weight grads are returned for layers with at most this many inputs


def _pre_activation(a: Value) -> Value:
    """The weighted sum z under an activation node (a itself for a linear layer)."""
    return a.parents[0] if a.op in ACTIVATIONS else a  # an activation's op is named after it; linear adds none


def build(mlp: MLP, x: Sequence[float]) -> tuple[list[list[Value]], list[list[Value]]]:
    """Run the scalar MLP on x (nin,); returns per layer l = 1..L its z and a Values, labelled
    z_j(l) and a_j(l) (the notes' names, layers counted from the first hidden one)."""
    zs: list[list[Value]] = []
    acts: list[list[Value]] = []
    out: list[Value] = [Value(v) for v in x]
    for number, layer in enumerate(mlp.layers, start=1):
        out = layer(out)
        z = [_pre_activation(a) for a in out]
        for j, (zj, aj) in enumerate(zip(z, out)):
            zj.label, aj.label = f"z_{j}({number})", f"a_{j}({number})"
        zs.append(z)
        acts.append(out)
    return zs, acts


def _layers(mlp: MLP, zs: list[list[Value]], acts: list[list[Value]]) -> list[dict[str, Any]]:
    layers = []
    for number, (layer, z, a) in enumerate(zip(mlp.layers, zs, acts), start=1):
        entry: dict[str, Any] = {
            "layer": number,
            "a": [v.data for v in a],
            "z": [v.data for v in z],
            "grad_a": [v.grad for v in a],
            "grad_z": [v.grad for v in z],
            "nudge_a": [-v.grad for v in a],
            "grad_b": [n.b.grad for n in layer.neurons],
            "grad_w": None,
            "nudge_w": None,
        }
        if layer.nin <= EDGE_GRADS_MAX_FAN_IN:
            entry["grad_w"] = [[w.grad for w in n.w] for n in layer.neurons]
            entry["nudge_w"] = [[-w.grad for w in n.w] for n in layer.neurons]
        layers.append(entry)
    return layers


def _three_ways(mlp: MLP, zs: list[list[Value]], acts: list[list[Value]], target: int) -> dict[str, Any]:
    """The output neuron ``target``'s three levers, each from its edges' local derivatives
    times the upstream grad dC0/dz_t(L) (what ``explain`` prints for each parent of z_t(L))."""
    neuron = mlp.layers[-1].neurons[target]
    z = zs[-1][target]
    shares = [d * z.grad for d in local_derivatives(z)]  # dot: (a_k * g for each w_k, w_k * g for each a_k, g for b)
    n = neuron.nin
    prev = acts[-2] if len(acts) > 1 else None
    return {
        "index": target,
        "a": acts[-1][target].data,
        "grad_z": z.grad,
        "bias": neuron.b.data,
        "bias_nudge": -shares[2 * n],
        "weights": [w.data for w in neuron.w],
        "weight_nudges": [-s for s in shares[:n]],
        "prev_a": [v.data for v in prev] if prev else None,
        "activation_nudges": [-s for s in shares[n : 2 * n]],
    }


def _explain_lines(cost: Value, names: set[str]) -> list[str]:
    """The lines of ``explain_text(cost)`` for the nodes called ``names`` (each node's line
    and its parents' lines below it)."""
    lines, keep = [], False
    for line in explain_text(cost).splitlines():
        if not line.startswith(" "):
            keep = line.split("  [", 1)[0] in names
        if keep and not line.startswith("leaves:"):
            lines.append(line)
    return lines


def nudges(mlp: MLP, x: Sequence[float], target: int) -> dict[str, Any]:
    """One example x (nin,) with the digit ``target``: the cost C0, every layer's values,
    grads and nudges, the target neuron's three ways, and the explain lines.

    The caller must hold the MLP alone (its parameters' grads are zeroed and refilled).
    """
    mlp.zero_grad()
    zs, acts = build(mlp, x)
    cost = mse(acts[-1], target)
    cost.label = "C0"
    cost.backward()
    last = len(mlp.layers)
    return {
        "target": target,
        "y": [1.0 if j == target else 0.0 for j in range(len(acts[-1]))],
        "cost": cost.data,
        "layers": _layers(mlp, zs, acts),
        "three_ways": _three_ways(mlp, zs, acts, target),
        "explain": _explain_lines(cost, {"C0", f"a_{target}({last})", f"z_{target}({last})"}),
    }


def batch_nudges(mlp: MLP, xs: Sequence[Sequence[float]], targets: Sequence[int]) -> dict[str, Any]:
    """The mini-batch's average cost C = (1/n) sum of C0 over the examples, backpropagated:
    each layer's nudges summed over the examples (= the average of their nudges, as the
    cost is their average) and the average weight grads (what a gradient step follows).

    xs: n inputs (nin,); targets: n digits.
    """
    mlp.zero_grad()
    graphs = [build(mlp, x) for x in xs]
    cost = mse([acts[-1] for _, acts in graphs], list(targets))
    cost.backward()
    layers = []
    for number, layer in enumerate(mlp.layers, start=1):
        index = number - 1
        grad_a = [sum(acts[index][j].grad for _, acts in graphs) for j in range(layer.nout)]
        entry: dict[str, Any] = {
            "layer": number,
            "a": [sum(acts[index][j].data for _, acts in graphs) / len(graphs) for j in range(layer.nout)],
            "grad_a": grad_a,
            "nudge_a": [-g for g in grad_a],
            "grad_b": [n.b.grad for n in layer.neurons],
            "grad_w": None,
            "nudge_w": None,
        }
        if layer.nin <= EDGE_GRADS_MAX_FAN_IN:
            entry["grad_w"] = [[w.grad for w in n.w] for n in layer.neurons]
            entry["nudge_w"] = [[-w.grad for w in n.w] for n in layer.neurons]
        layers.append(entry)
    return {"count": len(graphs), "cost": cost.data, "targets": list(targets), "layers": layers}
