"""One MNIST training run in a background thread, steerable while it runs.

The loop is the one ``python -m microgrid train`` runs (:class:`microgrid.digits.loop.Loop`:
the same shuffles, optimizer, learning-rate schedule, cost and per-epoch evaluation, from
the same seed the same weights); this module is its page-side :class:`~microgrid.digits.loop.Hooks`:
pause, resume, one step at a time, a pace (steps per second, from one mini-batch at a time
to full speed), stop, a new learning rate or batch size that takes effect at the next
batch, and the live quantities read by the server's event stream. A control request only
sets a flag; the loop tests it between two batches, so a running step costs one attribute
test more than ``train``'s. Other views attach as more Hooks (``job.watchers``): each is
called as the loop calls the job's.

Divergence (a NaN or infinite cost) ends the job with a message and puts back the last
good weights, taken at most a quarter of a second of training earlier.
"""

from __future__ import annotations

import copy
import sys
import threading
import time
import traceback
from collections import deque
from collections.abc import Callable
from typing import Any

import numpy as np

from ...digits.blas_threads import blas_threads
from ...digits.data import PIXEL_SCALE, Dataset
from ...digits.fast import FastMLP
from ...digits.loop import Diverged, Hooks, Loop, Stop
from ...digits.train import TrainConfig
from ...optim import SGD
from . import training_views as views
from .training_report import confusion_and_mistakes, give_back_memory, lean_copy, model_meta
from .training_watch import PageWatch
from .views_runs import RunViews

__all__ = ["TrainingJob", "RUNNING", "FINISHED"]

RUNNING = ("starting", "running", "paused")
FINISHED = ("done", "stopped", "diverged", "failed")
TICK = 0.25  # seconds of training between two looks at the live quantities
VIEWS_SHARE = 0.03  # at most this share of the training time goes to the live views while running
PACED_VIEWS_SHARE = 0.5  # with a pace the loop mostly waits: the views may take half of its time
PATH_POINTS = 40
PATH_BYTES = 32 * 2**20  # the recent path's weight vectors, all together: fewer points for a large model


class TrainingJob:
    """A training run of ``config`` on ``data``; ``start()`` runs it in a daemon thread.

    Args:
        config: the checked TrainConfig (engine "fast").
        data: the data set, images uint8 (n, 28, 28).
        data_info: where the data came from ({"source", "sha256"?}), saved in the model file.
        live_views: compute the cost surface and the gradient comparison while training.
        on_model: called with (model, meta) when the job ends with weights worth keeping.
    """

    kind = "mnist"
    number = 0  # set by the server: the how-manieth job this is

    def __init__(
        self,
        config: TrainConfig,
        data: Dataset,
        data_info: dict[str, Any],
        *,
        live_views: bool = True,
        on_model: Callable[[FastMLP, dict[str, Any]], str | None] | None = None,
    ) -> None:
        self.config, self.data_info, self.live_views, self.on_model = config, data_info, live_views, on_model
        self.loop = Loop(config, data)
        self.pixels, self.labels = self.loop.pixels, self.loop.labels
        self.test_pixels, self.test_labels = self.loop.test_pixels, self.loop.test_labels
        assert isinstance(self.loop.model, FastMLP)
        self.model: FastMLP = self.loop.model
        self.sizes = views.view_sizes(self.model)  # the views' subsets: fixed, bounded by the model's size
        subset = np.random.default_rng(0).permutation(len(self.pixels))[: self.sizes["gradient_images"]]
        self.subset = (np.take(self.pixels, subset, axis=0), np.take(self.labels, subset))
        self.probe: FastMLP | None = copy.deepcopy(self.model)
        self.watchers: list[Hooks] = []  # more views: called after the job's own hooks
        self.page_watch = PageWatch(self)  # the mini-batch being learned from, what went wrong (issue 24)
        self.watchers.append(self.page_watch)
        self.views = RunViews(self.model, self.pixels, self.labels, config.loss, lambda: self.active_seconds)
        self.watchers.append(self.views)  # replay snapshots and lambda_max (issue 25's views)
        self.status, self.message = "starting", ""
        self.samples_total = config.epochs * len(self.pixels)
        self.costs: list[float] = []
        self.lr_changes: list[dict[str, float]] = [{"step": 1, "lr": config.lr}]
        self.batch_changes: list[dict[str, int]] = [{"step": 1, "batch_size": config.batch_size}]
        self.surface: dict[str, Any] | None = None
        self.gradient: dict[str, float] | None = None
        self.gradients: list[dict[str, float]] = []
        self.final: dict[str, Any] | None = None
        self.result: FastMLP | None = None
        self.meta: dict[str, Any] | None = None
        self.started = time.time()
        self.pace: float | None = None  # steps per second; None: full speed
        points = max(3, min(PATH_POINTS, PATH_BYTES // max(1, self.model.num_parameters() * self.model.dtype.itemsize)))
        self._path: deque[np.ndarray] = deque(maxlen=points)
        self._path_every = max(1, round(len(self.pixels) / config.batch_size / 30))
        self._last_good = (0, self.model.flat_parameters()[0].data.copy())
        self._lock = threading.Lock()
        self._pending: dict[str, float | None] = {}
        self._pause = self._stop = False
        self._steps_allowed = -1  # while paused: batches to run before pausing again
        self._wake = threading.Event()
        self._t_run = 0.0  # when the loop started (perf_counter)
        self._t_end: float | None = None
        self._waited = 0.0  # seconds spent paused
        self._next_step_at = 0.0  # with a pace: when the next step may start
        self._next_tick = 0.0
        self._views_spent = 0.0
        self._views_cost = 0.05  # seconds the last views took (a guess before the first)
        self._weights_at: tuple[int, dict[str, Any]] | None = None
        self._thread = threading.Thread(target=self._run, name="microgrid-training", daemon=True)

    # -- what the loop holds ---------------------------------------------------------------

    step = property(lambda self: self.loop.step, doc="steps taken")
    epoch = property(lambda self: self.loop.epoch, doc="the epoch running (1, 2, ...)")
    lr = property(lambda self: self.loop.lr, doc="the learning rate now")
    batch_size = property(lambda self: self.loop.batch_size, doc="the batch size now")
    samples_done = property(lambda self: self.loop.samples_done, doc="images trained on so far")
    history = property(lambda self: self.loop.history, doc="one row per epoch done")
    optimizer = property(lambda self: self.loop.optimizer, doc="the loop's optimizer")

    @property
    def _at(self) -> tuple[np.ndarray, int]:
        """The epoch's order and the position of the next batch in it."""
        return self.loop.order, self.loop.position

    @property
    def active_seconds(self) -> float:
        """Seconds of training so far, pauses left out."""
        if not self._t_run:
            return 0.0
        return (self._t_end or time.perf_counter()) - self._t_run - self._waited

    # -- control, from the server's thread -------------------------------------------------

    def start(self) -> None:
        self._thread.start()

    @property
    def running(self) -> bool:
        return self.status in RUNNING

    def _signal(self, **changes: Any) -> None:
        with self._lock:
            for name, value in changes.items():
                setattr(self, name, value)
            self.loop.interrupt = True
        self._wake.set()

    def pause(self) -> None:
        self._signal(_pause=True)

    def resume(self) -> None:
        self._signal(_pause=False, _steps_allowed=-1)

    def step_once(self) -> None:
        """Run one batch and pause again (pauses first if running)."""
        self._signal(_pause=True, _steps_allowed=1)

    def stop(self) -> None:
        self._signal(_stop=True)

    def change(self, settings: dict[str, float | None]) -> None:
        """New lr, batch_size and/or pace (steps per second, None: full speed), used from the next batch on."""
        with self._lock:
            self._pending.update(settings)
            self.loop.interrupt = True
        self._wake.set()

    def join(self, timeout: float | None = None) -> None:
        self._thread.join(timeout)

    # -- the loop's hooks, in the worker thread ----------------------------------------------

    def _run(self) -> None:
        try:
            self.status = "running"
            self._t_run = self._next_tick = time.perf_counter()
            self._next_tick += TICK
            try:
                self.loop.run(_PageHooks(self))
            except Diverged as err:
                return self._diverged(err)
            if self._stop:
                return self._finish("stopped", "stopped by the user")
            epochs = self.config.epochs
            self._finish("done", f"finished {epochs} epoch{'s' if epochs > 1 else ''}")
        except Exception as err:  # reported on the page in one line; the trace goes to the server's log
            traceback.print_exc(file=sys.stderr)
            self.status, self.message = "failed", f"training failed: {type(err).__name__}: {err}"
        finally:
            self._t_end = self._t_end or time.perf_counter()

    def _interrupted(self, loop: Loop) -> None:
        """Apply pending changes, wait while paused, keep the pace; Stop when the job should stop."""
        while True:
            with self._lock:
                loop.interrupt = self.pace is not None  # a pace looks at every batch
                pending, self._pending = self._pending, {}
                pause, stop, allowed = self._pause, self._stop, self._steps_allowed
                if pause and allowed > 0:
                    self._steps_allowed, loop.interrupt = allowed - 1, True
                self._wake.clear()
            if "lr" in pending and pending["lr"] is not None:
                loop.set_lr(pending["lr"])
                self.lr_changes.append({"step": loop.step + 1, "lr": loop.lr})
            if "batch_size" in pending and pending["batch_size"] is not None:
                loop.batch_size = int(pending["batch_size"])
                self.batch_changes.append({"step": loop.step + 1, "batch_size": loop.batch_size})
            if "pace" in pending:
                self.pace = pending["pace"]
                loop.interrupt = loop.interrupt or self.pace is not None
            if stop:
                raise Stop
            if not pause or allowed > 0:
                self.status = "running"
                self._keep_pace()
                return
            t_wait = time.perf_counter()
            if self.status != "paused":
                self.status = "paused"
                if self.live_views:  # time is free while paused
                    self._views(self._peek())
            self._wake.wait(0.5)
            self._waited += time.perf_counter() - t_wait

    def _keep_pace(self) -> None:
        """With a pace, wait until the next step is due (a control request wakes it at once)."""
        if self.pace is None:
            return
        now = time.perf_counter()
        if self._next_step_at > now and self._wake.wait(self._next_step_at - now):
            self.loop.interrupt = True  # woken by a control: look at it before this batch
        self._next_step_at = max(now, self._next_step_at) + 1.0 / self.pace

    def _gradient(self, loop: Loop, cost: float) -> None:
        flat = self.model.flat_parameters()[0]
        if loop.step % self._path_every == 0:
            self._path.append(flat.data.copy())
        if time.perf_counter() >= self._next_tick:
            self._last_good = (loop.step, flat.data.copy())
            budget = (VIEWS_SHARE if self.pace is None else PACED_VIEWS_SHARE) * self.active_seconds
            if self.live_views and self._views_spent + self._views_cost <= budget:
                self._views((flat.grad.copy(), cost))
            self._next_tick = time.perf_counter() + TICK
        for watcher in self.watchers:
            watcher.gradient(loop, cost)


    def _peek(self) -> tuple[np.ndarray, float] | None:
        """The gradient (P,) and cost of the batch that comes next, at the current weights
        (computed on the probe: the model and its grads stay as they are)."""
        order, position = self._at
        idx = order[position : position + self.batch_size]
        if not len(idx) or self.probe is None:
            return None
        self.probe.flat_parameters()[0].data[...] = self.model.flat_parameters()[0].data
        xb, yb = np.take(self.pixels, idx, axis=0), np.take(self.labels, idx)
        with np.errstate(over="ignore", invalid="ignore"):
            value = self.probe.loss_and_backward(xb, yb, self.config.loss, check=False, input_scale=PIXEL_SCALE)
        return self.probe.flat_parameters()[0].grad.copy(), value

    def _views(self, batch: tuple[np.ndarray, float] | None) -> None:
        """Recompute the cost surface, and, given the batch's (gradient, cost), the comparison."""
        t0 = time.perf_counter()
        model, (pixels, labels), few = self.model, self.subset, self.sizes["surface_images"]
        # one BLAS thread: the products are small, and spare threads would fight the training's
        with blas_threads(1), np.errstate(over="ignore", invalid="ignore"):
            self.surface = {
                "step": self.step,
                **views.cost_surface(
                    model, list(self._path), pixels[:few], labels[:few], self.config.loss, points=self.sizes["points"]
                ),
            }
            if batch is not None and self.probe is not None:
                weights = model.flat_parameters()[0].data.copy()
                compared = views.gradient_comparison(
                    self.probe, weights, batch[0], batch[1], pixels, labels, self.config.loss, self.sizes["chunk"]
                )
                self.gradient = {"step": self.step + 1, **compared}
                self.gradients.append({k: self.gradient[k] for k in ("step", "cosine", "batch_cost", "full_cost")})
        self._views_cost = time.perf_counter() - t0
        self._views_spent += self._views_cost

    def _diverged(self, err: Diverged) -> None:
        good_step, good = self._last_good
        self.model.flat_parameters()[0].data[...] = good
        self._finish("diverged", f"{err}; kept the weights of step {good_step}")

    def _finish(self, status: str, message: str) -> None:
        """Evaluate the final weights, hand the model over, set the final status, free the rest."""
        self._t_end = time.perf_counter()
        if self.live_views:  # the surface around the final weights
            self._views(None)
        model = lean_copy(self.model)
        report = confusion_and_mistakes(model, self.test_pixels, self.test_labels)
        note = f"the web page's training panel ({status} after {self.step} steps)"
        self.meta = model_meta(self.config, self.history, self.data_info, note)
        self.result = self.model = model
        self.probe = None  # what only training needed: the probe, the path, snapshots, the optimizer's state
        self._path.clear()
        self.loop.last_good = None
        if status != "diverged":  # (a diverged job's good weights stay, for its message and tests)
            self._last_good = (self._last_good[0], np.empty(0))
        self.loop.model = model
        self.loop.optimizer = SGD(model.flat_parameters(), lr=self.loop.lr)  # holds no state
        name = self.on_model(model, self.meta) if self.on_model else None
        self.final = {**report, "model": name, "steps": self.step}
        give_back_memory()  # before the status says the job is over
        self.message, self.status = message, status

    # -- what the page sees ----------------------------------------------------------------

    def snapshot(self, since: int = 0) -> dict[str, Any]:
        """The job's state as JSON-ready data; ``costs`` holds the per-batch costs from ``since`` on."""
        rate = self.samples_done / self.active_seconds if self.active_seconds > 0 else 0.0
        if self.status == "running" and self.samples_done and rate == 0.0:
            rate = self.samples_done / max(time.time() - self.started, 1e-9)
        left = (self.samples_total - self.samples_done) / rate if rate > 0 and self.running else 0.0
        costs = self.costs[since:]
        return {
            "kind": self.kind,
            "job": self.number,
            "status": self.status,
            "message": self.message,
            "config": {**self.config.__dict__},
            "step": self.step,
            "epoch": self.epoch,
            "epochs": self.config.epochs,
            "samples_done": self.samples_done,
            "samples_total": self.samples_total,
            "progress": self.samples_done / self.samples_total if self.samples_total else 1.0,
            "samples_per_second": rate,
            "seconds_left": left,
            "lr": self.lr,
            "batch_size": self.batch_size,
            "lr_changes": self.lr_changes,
            "batch_changes": self.batch_changes,
            "costs": {"start": since, "values": [round(c, 6) for c in costs]},
            "history": self.history,
            "weights": self._weights(),
            "surface": self.surface,
            "gradient": self.gradient,
            "gradients": self.gradients[-200:],
            "final": self.final,
            **self.page_watch.snapshot(),
        }

    def _weights(self) -> dict[str, Any]:
        """The first layer's pictures, made again only when the weights have moved."""
        step = self.step if self.running else -1 - self.step
        if self._weights_at is None or self._weights_at[0] != step:
            self._weights_at = (step, views.first_layer_images(self.model))
        return self._weights_at[1]


class _PageHooks(Hooks):
    """The loop's hooks for a TrainingJob, then for each of its watchers."""

    def __init__(self, job: TrainingJob) -> None:
        self.job = job

    def interrupted(self, loop: Loop) -> None:
        self.job._interrupted(loop)

    def gradient(self, loop: Loop, cost: float) -> None:
        self.job._gradient(loop, cost)

    def batch_end(self, loop: Loop, cost: float) -> None:
        self.job.costs.append(cost)
        for watcher in self.job.watchers:
            watcher.batch_end(loop, cost)

    def epoch_start(self, loop: Loop) -> None:
        for watcher in self.job.watchers:
            watcher.epoch_start(loop)

    def epoch_end(self, loop: Loop, row: dict[str, float]) -> None:
        self.job._last_good = (loop.step, self.job.model.flat_parameters()[0].data.copy())
        for watcher in self.job.watchers:
            watcher.epoch_end(loop, row)
