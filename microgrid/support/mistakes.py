"""Mistakes to make on purpose, on the toy and the scalar engine, each beside its fix.

Every lesson trains two small nets of :mod:`microgrid.nn` on the same two moons, from the
same starting weights, by full-batch gradient descent (``backward()`` and ``SGD``): one run
with the mistake, one with the one-line fix. What each measures:

- ``zero_grad``: leaf grads add up across ``backward()`` calls; without ``zero_grad()`` the
  step uses the sum of every gradient so far.
- ``lr``: lambda_max of the cost's Hessian (power iteration on ``hvp``), and two runs from
  the same trained weights with lr = 0.8 x 2/lambda_max and 2 x 2/lambda_max.
- ``saturated``: sigmoid neurons started with weights 40 times too large: sigma'(z) is
  about 0 for most of them, so the chain rule multiplies every gradient by about 0.
- ``mse_vs_ce``: a sigmoid output confidently wrong: MSE's gradient carries sigma'(z) ~ 0,
  the cross-entropy's is (a - y), the sigma' cancelled.
- ``dead_relu``: a relu layer whose biases start at -4: z < 0 for every point, so every
  relu outputs 0 and passes back a gradient of 0; nothing below it ever learns.

Pure Python on the engine.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ..engine import Value
from ..nn import MLP
from ..optim import SGD
from .toy_curvature import lambda_max
from .toys import two_moons

__all__ = ["LESSONS", "run_lesson"]

POINTS, STEPS = 60, 60


def _data() -> tuple[list[list[float]], list[float]]:
    return two_moons(POINTS, 0.1, seed=0)


def _cost(net: MLP, xs: list[list[float]], ys: list[float], loss: str) -> tuple[Value, float]:
    """The average cost over the points and the share right; ys are -1/+1."""
    outs = [net(p)[0] for p in xs]
    if loss == "hinge":
        terms = [(1 - y * s).relu() for y, s in zip(ys, outs)]
        right = sum((s.data > 0) == (y > 0) for s, y in zip(outs, ys))
    else:
        targets = [(y + 1) / 2 for y in ys]
        if loss == "mse":  # the notes' (a - y)^2
            terms = [(a - t) ** 2 for a, t in zip(outs, targets)]
        else:  # binary cross-entropy: -(y log a + (1 - y) log(1 - a))
            terms = [-(t * a.log() + (1 - t) * (1 - a).log()) for a, t in zip(outs, targets)]
        right = sum((a.data > 0.5) == (t > 0.5) for a, t in zip(outs, targets))
    return Value.sum(terms) * (1 / len(terms)), right / len(xs)


def _train(
    net: MLP, loss: str, lr: float, steps: int = STEPS, *, zero_grad: bool = True, label: str = ""
) -> dict[str, Any]:
    xs, ys = _data()
    optimizer = SGD(net.parameters(), lr=lr)
    costs, accuracies = [], []
    for _ in range(steps):
        cost, right = _cost(net, xs, ys, loss)
        if zero_grad:
            net.zero_grad()
        cost.backward()
        optimizer.step()
        costs.append(cost.data if cost.data == cost.data and abs(cost.data) < 1e6 else 1e6)
        accuracies.append(right)
    cost, right = _cost(net, xs, ys, loss)
    costs.append(cost.data if cost.data == cost.data and abs(cost.data) < 1e6 else 1e6)
    accuracies.append(right)
    return {"label": label, "loss": loss, "lr": lr, "costs": costs, "accuracies": accuracies}


def _net(hidden: list[int], activation: str, output: str, seed: int = 1) -> MLP:
    return MLP(2, [*hidden, 1], activation, output, seed=seed)


def _scale_weights(net: MLP, factor: float, layers: range | None = None) -> None:
    for number, layer in enumerate(net.layers):
        if layers is None or number in layers:
            for neuron in layer.neurons:
                for w in neuron.w:
                    w.data *= factor


def _zero_grad() -> dict[str, Any]:
    wrong = _train(_net([8], "tanh", "linear"), "mse", 0.1, 80, zero_grad=False, label="no zero_grad()")
    right = _train(_net([8], "tanh", "linear"), "mse", 0.1, 80, label="net.zero_grad() before backward()")
    return {"runs": [wrong, right]}


def _learning_rate() -> dict[str, Any]:
    start = _net([8], "tanh", "linear")
    _train(start, "mse", 0.1, steps=150)  # to where the surface is a bowl
    xs, ys = _data()
    cost, _ = _cost(start, xs, ys, "mse")
    top, _, _ = lambda_max(cost, start.parameters(), iterations=60, tol=1e-7)
    runs = []
    for factor, label in ((2.0, "lr = 2 × 2/λmax"), (0.8, "lr = 0.8 × 2/λmax")):
        net = _net([8], "tanh", "linear")
        for p, q in zip(net.parameters(), start.parameters()):
            p.data = q.data
        runs.append(_train(net, "mse", factor * 2 / top, steps=40, label=label))
    return {"runs": runs, "lambda_max": top, "limit": 2 / top}


def _saturated() -> dict[str, Any]:
    big = _net([8], "sigmoid", "sigmoid")
    _scale_weights(big, 40.0)
    xs, _ = _data()
    zs = [[n.w[0].data * x + n.w[1].data * y + n.b.data for n in big.layers[0].neurons] for x, y in xs]
    flat = [1 / (1 + 2.718281828459045 ** (-z)) for row in zs for z in row]
    saturated = sum(a * (1 - a) < 0.01 for a in flat) / len(flat)
    wrong = _train(big, "mse", 2.0, label="weights x 40: sigma' ~ 0")
    right = _train(_net([8], "sigmoid", "sigmoid"), "mse", 2.0, label="weights ~ 1/sqrt(fan-in)")
    return {"runs": [wrong, right], "saturated_share": saturated}


def _mse_vs_ce() -> dict[str, Any]:
    runs = []
    for loss, label in (("mse", "MSE: dC/dz = 2(a - y) sigma'(z)"), ("bce", "cross-entropy: dC/dz = a - y")):
        net = _net([8], "tanh", "sigmoid")
        _scale_weights(net, 6.0, range(1, 2))  # a confident output layer
        net.layers[1].neurons[0].b.data = 9.0  # that says "+1" for every point: half of them wrong
        runs.append(_train(net, loss, 0.5, label=label))
    return {"runs": runs}


def _dead_relu() -> dict[str, Any]:
    dead = _net([8, 8], "relu", "linear")
    for neuron in dead.layers[0].neurons:
        neuron.b.data = -4.0
    xs, _ = _data()
    outs = [[n(p).data for n in dead.layers[0].neurons] for p in xs]
    silent = sum(all(row[j] == 0.0 for row in outs) for j in range(8)) / 8
    wrong = _train(dead, "hinge", 0.1, label="first layer's biases -4: every relu off")
    right = _train(_net([8, 8], "relu", "linear"), "hinge", 0.1, label="biases 0 (the default init)")
    return {"runs": [wrong, right], "dead_share": silent}


LESSONS: dict[str, tuple[str, str, str, Callable[[], dict[str, Any]]]] = {
    "zero_grad": (
        "Forgetting zero_grad()",
        "backward() adds into every weight's grad, so without zero_grad() each step uses the sum of all "
        "the gradients so far and overshoots more and more.",
        "net.zero_grad() before cost.backward()",
        _zero_grad,
    ),
    "lr": (
        "A learning rate past 2/λmax",
        "Along the steepest-curving direction a step multiplies the error by (1 - lr λmax), which "
        "grows once lr > 2/λmax: the cost climbs instead of falling.",
        "keep lr below 2/λmax (λmax by power iteration on hvp)",
        _learning_rate,
    ),
    "saturated": (
        "Saturated sigmoids",
        "With weights 40 times too large most sigmoids sit at 0 or 1 where sigma'(z) is about 0, and "
        "the chain rule multiplies every gradient below them by it.",
        "start the weights at about 1/sqrt(fan-in) (init='default')",
        _saturated,
    ),
    "mse_vs_ce": (
        "MSE against cross-entropy",
        "A sigmoid output that is confidently wrong has sigma'(z) near 0, and MSE's gradient "
        "2(a - y) sigma'(z) carries it; the cross-entropy's is (a - y), so it learns fast exactly there.",
        "cost = -(y log a + (1 - y) log(1 - a)) for a sigmoid output",
        _mse_vs_ce,
    ),
    "dead_relu": (
        "A dead relu layer",
        "If z < 0 for every input a relu outputs 0 and passes back a gradient of 0, so its weights "
        "(and everything below) never change again.",
        "biases at 0 (init='default') or a smaller learning rate",
        _dead_relu,
    ),
}


def run_lesson(name: str) -> dict[str, Any]:
    """Both runs of lesson ``name`` and its one-sentence why and one-line fix."""
    if name not in LESSONS:
        raise ValueError(f"no lesson called {name!r}: expected one of {', '.join(LESSONS)}")
    title, why, fix, run = LESSONS[name]
    return {"name": name, "title": title, "why": why, "fix": fix, **run()}
