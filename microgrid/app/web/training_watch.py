"""What the learning part shows besides the job's own numbers: the mini-batch being learned
from and the step it takes (at a pace a person can watch), and what went wrong in a failed
run, each named with what to try.

A :class:`PageWatch` is a ``Hooks`` watcher of a :class:`~.training_job.TrainingJob`
(``job.watchers``); ``snapshot()`` adds ``batch`` and ``diagnosis`` to the job's snapshot.
"""

from __future__ import annotations

import base64
import math
import threading
import time
from typing import Any, Protocol

import numpy as np

from ...digits.config import TrainConfig
from ...digits.data import PIXEL_SCALE
from ...digits.fast import FastMLP
from ...digits.loop import Hooks, Loop

__all__ = ["PageWatch", "SLOW_PACE", "SATURATED", "diagnose"]

SLOW_PACE = 20.0
"""At this pace (steps per second) or slower, every mini-batch is kept for the page."""
BATCH_EVERY = 1.0  # seconds between two kept mini-batches at a faster pace
CHECK_EVERY = 0.5  # seconds between two looks at the sigmoids
SATURATED = 0.01
"""A sigmoid activation within this of 0 or 1 is saturated: sigma'(z) = a(1 - a) < 0.0099."""
PROBE_IMAGES = 500  # fixed training images the saturation is measured on
SHOWN_IMAGES = 100  # at most this many of a mini-batch's images go to the page


def diagnose(costs: list[float], saturated: float | None, status: str, history: list[dict[str, float]],
             lr: float, loss: str, layer: int = 0) -> list[dict[str, str]]:  # fmt: skip
    """What went wrong, from the run's per-step costs, the largest share of saturated sigmoids in
    a layer (``layer``; None: no sigmoid layer), its status and history: a list of {name, says,
    try}, empty when nothing did. The thresholds are plain: the notes' recipe never trips them."""
    found: list[dict[str, str]] = []
    if status == "diverged":
        found.append({
            "name": "the cost blew up",
            "says": "a step was so long that the cost became infinite or NaN: "
                    "each step overshoots the valley and lands higher.",
            "try": f"a smaller learning rate than {lr:g} (a tenth of it), or smaller mini-batch steps",
        })  # fmt: skip
    if saturated is not None and saturated > 0.5:
        found.append({
            "name": "saturated sigmoids",
            "says": f"{100 * saturated:.0f}% of layer {layer}'s activations are within {SATURATED} of 0 or 1, "
                    "where the slope σ'(z) = a(1 − a) is almost 0: the nudges backpropagation sends through them "
                    "nearly vanish.",
            "try": f"a smaller learning rate than {lr:g}, so the weights do not jump to large values; or weights "
                   "that start small (the notes preset scales them by 1/√fan-in)",
        })  # fmt: skip
    window = 50
    if len(costs) >= 3 * window:
        first = sum(costs[:window]) / window
        before = sum(costs[-2 * window : -window]) / window
        last = sum(costs[-window:]) / window
        best = min(sum(costs[i : i + window]) / window for i in range(0, len(costs) - window + 1, window))
        if math.isfinite(last) and last > 1.5 * best and last > best + 0.05:
            found.append({
                "name": "the cost is rising",
                "says": f"the average cost of the last {window} mini-batches is {last:.3f}, up from {best:.3f}: the "
                        "steps overshoot.",
                "try": f"a smaller learning rate than {lr:g}",
            })  # fmt: skip
        elif abs(last - before) < 0.01 * max(before, 1e-12) and last > 0.6 * first:
            found.append({
                "name": "the cost stopped falling",
                "says": f"the average cost of the last {window} mini-batches, {last:.3f}, is where it was "
                        f"{window} steps earlier and barely below its start, {first:.3f}: the descent is stuck.",
                "try": f"a learning rate nearer the notes' 3 (now {lr:g}); "
                       "or the notes preset's smaller starting weights"
                       + ("" if loss == "mse" else "; or the MSE cost of the notes"),
            })  # fmt: skip
    if history and history[-1]["test_accuracy"] < 0.15:
        found.append({
            "name": "it guesses at chance",
            "says": f"{100 * history[-1]['test_accuracy']:.1f}% of the test digits right is what guessing gives (10%).",
            "try": "the notes preset (lr 3, batch 100, weights scaled by 1/√fan-in) as a start that works",
        })  # fmt: skip
    return found


class Watched(Protocol):
    """What a PageWatch reads of its job (a :class:`~.training_job.TrainingJob`)."""

    pixels: np.ndarray
    model: FastMLP
    config: TrainConfig
    pace: float | None
    status: str
    costs: list[float]
    history: list[dict[str, float]]

    @property
    def lr(self) -> float: ...


class PageWatch(Hooks):
    """Keeps the current mini-batch (images, labels, the network's answers, the cost before and
    after its step) and the share of saturated sigmoids, for the job's snapshot."""

    def __init__(self, job: Watched) -> None:
        self.job = job
        self.batch: dict[str, Any] | None = None
        self.saturated: float | None = None  # the largest share of saturated sigmoids in a layer ...
        self.layer = 0  # ... and that layer (1 = the first hidden one)
        self._kept_at = 0.0
        self._checked_at = 0.0
        self._pending: dict[str, Any] | None = None
        self._lock = threading.Lock()
        rng = np.random.default_rng(1)
        pick = rng.permutation(len(job.pixels))[:PROBE_IMAGES]
        self._probe = np.take(job.pixels, pick, axis=0)
        self._sigmoid_layers = [i for i, a in enumerate(job.model.activations) if a == "sigmoid"]

    def _slow(self) -> bool:
        pace = self.job.pace
        return pace is not None and pace <= SLOW_PACE or self.job.status == "paused"

    def gradient(self, loop: Loop, cost: float) -> None:
        now = time.perf_counter()
        if self._slow() or now - self._kept_at >= BATCH_EVERY:
            self._kept_at = now
            idx = loop.order[loop.position : loop.position + loop.batch_size]
            images = np.take(loop.pixels, idx, axis=0)
            answers = self.job.model.forward_all(images, input_scale=PIXEL_SCALE)[-1].argmax(axis=1)
            flat = self.job.model.flat_parameters()[0]
            grad_norm = float(np.linalg.norm(flat.grad.astype(np.float64)))
            self._pending = {
                "step": loop.step + 1,
                "epoch": loop.epoch,
                "count": len(idx),
                "first": int(loop.position),
                "labels": np.take(loop.labels, idx).tolist(),
                "answers": answers.tolist(),
                "right_before": int((answers == np.take(loop.labels, idx)).sum()),
                "cost_before": cost,
                "lr": loop.lr,
                "grad_norm": grad_norm,
                "step_length": loop.lr * grad_norm,
                "images": base64.b64encode(np.ascontiguousarray(images[:SHOWN_IMAGES], np.uint8).tobytes()).decode(),
                "_images": images,
                "_labels": np.take(loop.labels, idx),
            }
        if now - self._checked_at >= CHECK_EVERY and self._sigmoid_layers:
            self._checked_at = now
            layers = self.job.model.forward_all(self._probe, input_scale=PIXEL_SCALE)[1:]
            near = SATURATED
            shares = {i + 1: float(((layers[i] < near) | (layers[i] > 1 - near)).mean()) for i in self._sigmoid_layers}
            self.layer, self.saturated = max(shares.items(), key=lambda item: item[1])

    def batch_end(self, loop: Loop, cost: float) -> None:
        pending, self._pending = self._pending, None
        if pending is None:
            return
        images, labels = pending.pop("_images"), pending.pop("_labels")
        if self._slow():  # the same mini-batch after its step: what the step did for it
            with np.errstate(over="ignore", invalid="ignore"):
                out = self.job.model.forward_all(images, input_scale=PIXEL_SCALE)[-1].astype(np.float64)
            if self.job.config.loss == "mse":
                after = float(((out - np.eye(out.shape[1])[labels]) ** 2).sum(axis=1).mean())
            else:
                shifted = out - out.max(axis=1, keepdims=True)
                after = float((np.log(np.exp(shifted).sum(axis=1)) - shifted[np.arange(len(labels)), labels]).mean())
            pending["cost_after"] = after
            pending["right_after"] = int((out.argmax(axis=1) == labels).sum())
        with self._lock:
            self.batch = pending

    def snapshot(self) -> dict[str, Any]:
        """``batch``: the mini-batch last learned from (None before the first); ``diagnosis``:
        what went wrong so far; ``saturated``: the share of saturated sigmoid activations."""
        job = self.job
        with self._lock:
            batch = self.batch
        found = diagnose(job.costs, self.saturated, job.status, job.history, job.lr, job.config.loss, self.layer)
        return {"batch": batch, "diagnosis": found, "saturated": self.saturated, "pace": job.pace}
