"""The numbers of the guided path's own parts, computed by microgrid (the page only draws them).

* :func:`example_cost`: the cost C0 of one example, term by term, and the average cost C of a
  mini-batch beside it (the notes' "cost of one example and its average");
* :func:`sensitivity`: two real weights of the network and how sensitive C0 is to each, by
  ``backward()`` and checked by nudging the weight (the notes' "32 times more sensitive");
* :func:`descent`: gradient descent on a function of one input or of two inputs, every value
  and slope by ``Value`` and ``backward()``.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import numpy as np

from ...digits.fast import FastMLP
from ...engine import Value
from ...losses import mse
from ...nn import MLP
from .nudges import nudges

__all__ = ["example_cost", "sensitivity", "descent", "SURFACES", "NUDGE"]

NUDGE = 1e-3
"""The size of the nudge given to a weight to measure the change of C0 it causes."""


def _costs(outputs: np.ndarray, targets: np.ndarray) -> list[float]:
    """C0 of each example by ``microgrid.losses.mse``: outputs (n, 10), targets (n,)."""
    return [mse([Value(float(a)) for a in row], int(t)).data for row, t in zip(outputs, targets)]


def example_cost(model: FastMLP, image: np.ndarray, target: int, batch: np.ndarray, labels: np.ndarray,
                 start: int) -> dict[str, Any]:  # fmt: skip
    """One example (784,) with the digit ``target``: a(L), y, each term (a_j(L) - y_j)^2 and
    C0; the mini-batch (n, 784) with ``labels`` (n,): each example's C0 and their average C."""
    out = model.forward_all(image.reshape(1, 784))[-1][0].astype(np.float64)
    y = [1.0 if j == target else 0.0 for j in range(len(out))]
    terms = [(float(a) - t) ** 2 for a, t in zip(out, y)]
    cost = mse([Value(float(a)) for a in out], target).data
    batch_out = model.forward_all(batch)[-1].astype(np.float64)
    each = _costs(batch_out, labels)
    return {
        "target": target,
        "a": out.tolist(),
        "y": y,
        "terms": terms,
        "cost": cost,
        "digit": int(out.argmax()),
        "batch": {
            "start": start,
            "count": len(each),
            "labels": labels.tolist(),
            "answers": batch_out.argmax(axis=1).tolist(),
            "costs": each,
            "average": float(sum(each) / len(each)),
            "right": int((batch_out.argmax(axis=1) == labels).sum()),
        },
    }


def sensitivity(mlp: MLP, image: list[float], target: int) -> dict[str, Any]:
    """Two weights w_jk(L) of the target neuron j of the output layer: the one C0 is most
    sensitive to, and one about 32 times less sensitive (the notes' example); each with its
    dC0/dw by ``backward()`` and the change of C0 when it is nudged by ``NUDGE`` (by a
    forward pass of a float64 copy), so the ratio can be read both ways."""
    result = nudges(mlp, image, target)
    last = result["layers"][-1]
    grads = last["grad_w"][target]
    order = sorted(range(len(grads)), key=lambda k: -abs(grads[k]))
    first = order[0]
    wanted = abs(grads[first]) / 32
    second = min(order[1:], key=lambda k: abs(math.log(max(abs(grads[k]), 1e-300) / max(wanted, 1e-300))))
    fast = FastMLP.from_scalar(mlp)
    x = np.asarray(image, dtype=np.float64).reshape(1, 784)
    layer = len(mlp.layers) - 1

    def cost_with(k: int, nudge: float) -> float:
        w = fast.weights[layer].data
        keep = float(w[target, k])
        w[target, k] = keep + nudge
        out = fast.forward_all(x)[-1][0]
        w[target, k] = keep
        return float(((out - np.array(result["y"])) ** 2).sum())

    weights = []
    for k in (first, second):
        changed = cost_with(k, NUDGE) - result["cost"]
        weights.append({
            "j": target, "k": k, "layer": layer + 1,
            "w": mlp.layers[layer].neurons[target].w[k].data,
            "grad": grads[k],
            "a_prev": result["layers"][-2]["a"][k] if layer > 0 else image[k],
            "nudge": NUDGE,
            "cost_change": changed,
        })  # fmt: skip
    ratio = abs(grads[first]) / max(abs(grads[second]), 1e-300)
    measured = abs(weights[0]["cost_change"]) / max(abs(weights[1]["cost_change"]), 1e-300)
    return {"target": target, "cost": result["cost"], "weights": weights, "ratio": ratio, "measured_ratio": measured}


def _one(v: list[Value]) -> Value:
    x = v[0]
    return 0.03 * x**4 - 0.45 * x**2 + 0.15 * x + 2 - 0.9 * (-3 * x**2).exp()


def _two(v: list[Value]) -> Value:
    x, y = v
    return 0.3 * (x**2 - 1) ** 2 + 0.5 * y**2 + 0.25 * x + 0.2 * x * y


SURFACES: dict[str, tuple[Callable[[list[Value]], Value], str, tuple[float, float]]] = {
    "one": (_one, "C(w) = 0.03w⁴ − 0.45w² + 0.15w + 2 − 0.9·exp(−3w²)", (-4.0, 4.0)),
    "two": (_two, "C(w₁, w₂) = 0.3(w₁² − 1)² + 0.5w₂² + 0.25w₁ + 0.2w₁w₂", (-2.0, 2.0)),
}
"""The functions of the two descent parts: a function of one input with three local minima,
and one of two inputs with two valleys; each with its formula and the range drawn."""


def _value_and_grad(fn: Callable[[list[Value]], Value], point: list[float]) -> tuple[float, list[float]]:
    inputs = [Value(p) for p in point]
    out = fn(inputs)
    out.backward()
    return out.data, [v.grad for v in inputs]


def descent(surface: str, start: list[float], lr: float, steps: int, samples: int = 161) -> dict[str, Any]:
    """Gradient descent from ``start`` (one number per input): ``steps`` steps of
    w <- w - lr * dC/dw, each point's value and gradient by ``Value.backward()``; and the
    function itself, sampled for the drawing (a curve, or a grid of samples x samples/4)."""
    fn, formula, (lo, hi) = SURFACES[surface]
    dims = 1 if surface == "one" else 2
    point = list(start)
    path = []
    for _ in range(steps + 1):
        value, grad = _value_and_grad(fn, point)
        step = [-lr * g for g in grad]  # the step taken from here (at the last point: the next one)
        path.append({"w": list(point), "cost": value, "grad": grad, "step": step})
        if not all(math.isfinite(p) for p in point) or any(abs(p) > 1e6 for p in point):
            break
        point = [p + s for p, s in zip(point, step)]
    if dims == 1:
        xs = np.linspace(lo, hi, samples).tolist()
        drawn: dict[str, Any] = {"w": xs, "cost": [fn([Value(x)]).data for x in xs]}
    else:
        side = samples // 4
        ws = np.linspace(lo, hi, side).tolist()
        drawn = {"w": ws, "cost": [[fn([Value(a), Value(b)]).data for a in ws] for b in ws]}
    return {"surface": surface, "formula": formula, "range": [lo, hi], "lr": lr, "path": path, "drawn": drawn}
