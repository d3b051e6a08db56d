"""What a training run keeps for the views of issue 25: replay snapshots and curvature.

An MNIST run's recorder is one of the job's loop watchers (a :class:`~microgrid.digits.loop.Hooks`):
after every step it keeps
:class:`~microgrid.digits.replay.Replay` snapshots and, while ``curvature_on``, estimates
lambda_max within 10% of the training time (:class:`~microgrid.digits.curvature.CurvatureTracker`).
A toy run's recorder estimates lambda_max on the scalar engine by ``hvp``
(:func:`microgrid.support.toy_curvature.lambda_max`), warm-started, within the same share.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from typing import Any

import numpy as np

from ...digits.curvature import CurvatureTracker
from ...digits.data import PIXEL_SCALE
from ...digits.fast import FastMLP
from ...digits.loop import Hooks, Loop
from ...digits.replay import Replay
from ...engine import Value
from ...support.toy_curvature import lambda_max

__all__ = ["RunViews", "ToyCurvature", "CURVATURE_SHARE", "CURVATURE_IMAGES"]

CURVATURE_SHARE = 0.08  # of the training time for the estimates (the issue allows 10%: headroom for side effects)
CURVATURE_IMAGES = 500  # the fixed training images the Hessian is taken over


class RunViews(Hooks):
    """Replay snapshots and lambda_max estimates of one MNIST run, a watcher of its loop.

    Args:
        model: the run's model at the start (kept as snapshot 0; its settings are copied
            for replayed models).
        pixels, labels: training images uint8 (n, nin) and labels (n,): the first
            ``CURVATURE_IMAGES`` are the curvature's batch.
        loss: the run's cost.
        seconds: the run's training seconds so far (pauses left out).
    """

    def __init__(
        self, model: FastMLP, pixels: np.ndarray, labels: np.ndarray, loss: str, seconds: Callable[[], float]
    ) -> None:
        self.template = model
        self.training_seconds = seconds
        self.replay = Replay(model.num_parameters(), model.dtype.itemsize)
        self.curvature = CurvatureTracker(
            pixels[:CURVATURE_IMAGES], labels[:CURVATURE_IMAGES], loss, share=CURVATURE_SHARE, input_scale=PIXEL_SCALE
        )
        self.curvature_on = False
        self.seconds = 0.0  # training seconds when curvature was turned on
        self.rates: list[tuple[int, float]] = []  # (the first step, the learning rate) at each change
        self.replay.add(0, model.flat_parameters()[0].data, math.nan)

    def _trained(self) -> float:
        """Training seconds so far, less what the estimates took."""
        return self.training_seconds() - self.curvature.spent

    def batch_end(self, loop: Loop, cost: float) -> None:
        """After a step: keep a snapshot if it is one to keep, estimate lambda_max if the budget allows."""
        model = loop.model
        assert isinstance(model, FastMLP)
        self.replay.add(loop.step, model.flat_parameters()[0].data, cost)
        if not self.rates or self.rates[-1][1] != loop.lr:
            self.rates.append((loop.step, loop.lr))
        if self.curvature_on:
            self.curvature.maybe(model, loop.step, loop.lr, self._trained() - self.seconds, cost)

    def epoch_end(self, loop: Loop, row: dict[str, float]) -> None:
        """A run with curvature on has an estimate by the end of its first epoch, however fast it trains: the
        budget's first guess of an H v's cost is cautious, and a short run on a quiet machine never earned one."""
        if self.curvature_on and not self.curvature.history:
            model = loop.model
            assert isinstance(model, FastMLP)
            self.curvature.maybe(model, loop.step, loop.lr, self._trained() - self.seconds, row["loss"], force=True)

    def keep_now(self, model: FastMLP, step: int, cost: float) -> None:
        """Keep the weights of ``step`` whatever the spacing (the run ended or paused there)."""
        self.replay.add(step, model.flat_parameters()[0].data, cost, force=True)

    def switch_curvature(self, on: bool) -> None:
        """Turn the estimates on or off; the budget counts training time from when it was turned on."""
        if on and not self.curvature_on:
            self.seconds = self._trained() - self.curvature.spent / CURVATURE_SHARE
        self.curvature_on = on

    def model_at(self, position: int) -> FastMLP:
        return self.replay.model(position, self.template)


class ToyCurvature:
    """lambda_max of a toy run's cost by ``hvp`` power iteration, within ``CURVATURE_SHARE`` of its time."""

    def __init__(self) -> None:
        self.history: list[dict[str, Any]] = []
        self.vector: list[float] | None = None
        self.spent = 0.0
        self.started = time.perf_counter()

    def maybe(self, cost: Value, params: list[Value], step: int, lr: float, trained: Callable[[], float]) -> None:
        """Estimate at ``cost``'s graph (before its step) if the time spent allows."""
        if self.spent > CURVATURE_SHARE * trained():
            return
        t0 = time.perf_counter()
        top, self.vector, _ = lambda_max(
            cost, params, iterations=3 if self.history else 12, start=self.vector, tol=1e-3
        )
        self.spent += time.perf_counter() - t0
        self.history.append({"step": step, "lambda_max": top, "lr": lr, "limit": 2 / top if top > 0 else None})
