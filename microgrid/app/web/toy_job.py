"""Toy mode: a REPL-sized ``MLP`` of the scalar engine learns two moons or XOR.

Every step is full-batch gradient descent on the scalar engine (a graph of Values,
``backward()``), as in ``demos/tiny_nets.py``. The decision boundary is the net's output
over a grid of the plane, computed by the fast path from the same weights
(``FastMLP.from_scalar``): the same function, a thousand times faster than one Value
graph per grid point.

Settings (``parse_toy``): dataset "moons" (n points, noise) or "xor"; hidden layers (1 or
2, 1 to 32 neurons each); activation; loss "hinge" (labels -1/+1, linear output, the
micrograd demo's) or "mse" (targets 0/1, sigmoid output, the notes' cost); lr; momentum;
steps (1 to 2000).
"""

from __future__ import annotations

import sys
import threading
import time
import traceback
from typing import Any

import numpy as np

from ...digits.fast import FastMLP
from ...engine import Value
from ...init import ACTIVATIONS
from ...losses import mse
from ...nn import MLP
from ...optim import SGD
from ...support.toys import two_moons, xor
from .training_config import ConfigError, _check_number
from .views_runs import ToyCurvature

__all__ = ["ToyJob", "parse_toy"]

GRID = 48
TOY_DEFAULTS: dict[str, Any] = {
    "dataset": "moons", "points": 100, "noise": 0.1, "hidden": [16, 16], "activation": "relu", "loss": "hinge",
    "lr": 0.1, "momentum": 0.9, "steps": 150, "seed": 1,
}  # fmt: skip


def parse_toy(body: Any) -> dict[str, Any]:
    """The toy settings a request asks for, checked; raises ConfigError naming a bad one."""
    if not isinstance(body, dict):
        raise ConfigError(f"the toy settings must be a JSON object, got {type(body).__name__}")
    unknown = set(body) - set(TOY_DEFAULTS)
    if unknown:
        raise ConfigError(f"unknown toy setting {sorted(unknown)[0]!r}: expected one of {', '.join(TOY_DEFAULTS)}")
    s = {**TOY_DEFAULTS, **body}
    if s["dataset"] not in ("moons", "xor"):
        raise ConfigError(f"dataset must be moons or xor, got {s['dataset']!r}")
    if s["activation"] not in ACTIVATIONS:
        raise ConfigError(f"activation must be one of {', '.join(ACTIVATIONS)}, got {s['activation']!r}")
    if s["loss"] not in ("hinge", "mse"):
        raise ConfigError(f"loss must be hinge or mse, got {s['loss']!r}")
    hidden = s["hidden"]
    if not isinstance(hidden, list) or not 1 <= len(hidden) <= 2:
        raise ConfigError(f"hidden must be a list of 1 or 2 layer sizes, got {hidden!r}")
    for size in hidden:
        if isinstance(size, bool) or not isinstance(size, int) or not 1 <= size <= 32:
            raise ConfigError(f"each hidden layer of the toy net must have 1 to 32 neurons, got {size!r}")
    for name, low, high in (("points", 10, 400), ("steps", 1, 2000), ("seed", 0, 2**31 - 1)):
        if isinstance(s[name], bool) or not isinstance(s[name], int) or not low <= s[name] <= high:
            raise ConfigError(f"{name} must be a whole number from {low} to {high}, got {s[name]!r}")
    if isinstance(s["noise"], bool) or not isinstance(s["noise"], (int, float)) or not 0 <= s["noise"] <= 0.5:
        raise ConfigError(f"noise must be a number from 0 to 0.5, got {s['noise']!r}")
    s["lr"], s["momentum"] = _check_number("lr", s["lr"]), _check_number("momentum", s["momentum"])
    return s


class ToyJob:
    """Full-batch training of a scalar MLP on a 2-D toy set, in a daemon thread."""

    kind = "toy"
    number = 0  # set by the server: the how-manieth job this is

    def __init__(self, settings: dict[str, Any]) -> None:
        self.settings = s = settings
        self.xs, ys = two_moons(s["points"], s["noise"], seed=0) if s["dataset"] == "moons" else xor()
        self.ys = [1.0 if y > 0 else -1.0 for y in ys]  # xor() gives 0/1, two_moons -1/+1
        hinge = s["loss"] == "hinge"
        self.net = MLP(2, [*s["hidden"], 1], s["activation"], "linear" if hinge else "sigmoid", seed=s["seed"])
        self.optimizer = SGD(self.net.parameters(), lr=s["lr"], momentum=s["momentum"])
        self.status, self.message = "starting", ""
        self.step = 0
        self.costs: list[float] = []
        self.accuracies: list[float] = []
        self.boundary: dict[str, Any] | None = None
        self.final: dict[str, Any] | None = None
        self._stop = self._pause = False
        self._steps_allowed = 0  # while paused: steps to take before pausing again
        self._wake = threading.Event()
        pts = np.asarray(self.xs)
        low, high = pts.min(axis=0) - 0.5, pts.max(axis=0) + 0.5
        self.extent = [float(low[0]), float(high[0]), float(low[1]), float(high[1])]
        self.curvature: ToyCurvature | None = None  # lambda_max by hvp while set (POST /api/views/curvature)
        self._thread = threading.Thread(target=self._run, name="microgrid-toy", daemon=True)

    @property
    def running(self) -> bool:
        return self.status in ("starting", "running", "paused")

    def start(self) -> None:
        self._thread.start()

    def pause(self) -> None:
        self._pause = True

    def resume(self) -> None:
        self._pause = False
        self._wake.set()

    def step_once(self) -> None:
        """Take one step and pause again (pauses first if running)."""
        self._steps_allowed, self._pause = 1, True
        self._wake.set()

    def stop(self) -> None:
        self._stop = True
        self._wake.set()

    def change(self, settings: dict[str, float | None]) -> None:
        """A new learning rate, used from the next step on (the toy has no batch size or pace to change)."""
        if set(settings) != {"lr"} or settings["lr"] is None:
            raise ConfigError("the toy takes every point in each step: only lr can change while it trains")
        self.optimizer.lr = settings["lr"]

    def join(self, timeout: float | None = None) -> None:
        self._thread.join(timeout)

    def _cost(self, scores: list[Value]) -> Value:
        if self.settings["loss"] == "hinge":
            return Value.sum([(1 - y * s).relu() for y, s in zip(self.ys, scores)]) * (1 / len(scores))
        return mse([[s] for s in scores], [[(y + 1) / 2] for y in self.ys])

    def _right(self, scores: list[Value]) -> float:
        cut = 0.0 if self.settings["loss"] == "hinge" else 0.5
        return sum((s.data > cut) == (y > 0) for s, y in zip(scores, self.ys)) / len(self.ys)

    def _draw_boundary(self) -> None:
        fast = FastMLP.from_scalar(self.net)
        x0, x1, y0, y1 = self.extent
        gx, gy = np.meshgrid(np.linspace(x0, x1, GRID), np.linspace(y1, y0, GRID))
        out = fast(np.column_stack([gx.ravel(), gy.ravel()]))[:, 0]
        if self.settings["loss"] == "mse":
            out = out - 0.5
        self.boundary = {"side": GRID, "scores": out.reshape(GRID, GRID).round(4).tolist(), "step": self.step}

    def _trained(self) -> float:
        """Seconds of training so far, less what the curvature estimates took."""
        spent = self.curvature.spent if self.curvature is not None else 0.0
        return time.perf_counter() - self._started - spent

    def _run(self) -> None:
        self._started = time.perf_counter()
        try:
            self.status = "running"
            next_draw = 0.0
            while self.step < self.settings["steps"]:
                while self._pause and not self._stop and not self._steps_allowed:
                    self.status = "paused"
                    self._wake.wait(0.5)
                    self._wake.clear()
                if self._steps_allowed:
                    self._steps_allowed -= 1
                if self._stop:
                    break
                self.status = "running"
                scores = [self.net(p)[0] for p in self.xs]
                cost = self._cost(scores)
                self.net.zero_grad()
                cost.backward()
                if self.curvature is not None:
                    self.curvature.maybe(cost, self.net.parameters(), self.step, self.optimizer.lr, self._trained)
                self.optimizer.step()
                self.step += 1
                self.costs.append(cost.data)
                self.accuracies.append(self._right(scores))
                if time.perf_counter() >= next_draw:
                    self._draw_boundary()
                    next_draw = time.perf_counter() + 0.2
            scores = [self.net(p)[0] for p in self.xs]
            self._draw_boundary()
            self.final = {"accuracy": self._right(scores), "cost": self._cost(scores).data, "steps": self.step}
            self.status = "stopped" if self._stop else "done"
            self.message = f"{self.final['accuracy']:.0%} of the training points right after {self.step} steps"
        except Exception as err:  # one line on the page, the trace in the server's log
            traceback.print_exc(file=sys.stderr)
            self.status, self.message = "failed", f"toy training failed: {type(err).__name__}: {err}"

    def snapshot(self, since: int = 0) -> dict[str, Any]:
        """The toy run's state: points, labels, costs and accuracies per step, the boundary grid."""
        return {
            "kind": self.kind,
            "job": self.number,
            "status": self.status,
            "message": self.message,
            "settings": self.settings,
            "step": self.step,
            "steps": self.settings["steps"],
            "progress": self.step / self.settings["steps"],
            "lr": self.optimizer.lr,
            "points": [[round(a, 4), round(b, 4)] for a, b in self.xs],
            "labels": self.ys,
            "extent": self.extent,
            "costs": {"start": since, "values": [round(c, 6) for c in self.costs[since:]]},
            "accuracy": self.accuracies[-1] if self.accuracies else None,
            "boundary": self.boundary,
            "final": self.final,
        }
