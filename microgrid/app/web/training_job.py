"""One training run of the fast path in a background thread, steerable while it runs.

The loop is ``microgrid.digits.train.train``'s (the same shuffles, optimizer, cost and
per-epoch evaluation, from the same seed the same first epoch), with what a page needs
around it: pause, resume, one step at a time, stop, a new learning rate or batch size
that takes effect at the next batch, and the live quantities read by the server's event
stream. A control request only sets a flag; the loop reads it between two batches, so a
running step costs one attribute test more than ``train``'s.

Divergence (a NaN or infinite cost) ends the job with a message and puts back the last
good weights, taken at most a quarter of a second of training earlier.
"""

from __future__ import annotations

import copy
import math
import sys
import threading
import time
import traceback
from collections import deque
from collections.abc import Callable
from typing import Any

import numpy as np

from ...digits.blas_threads import blas_threads, threads_for
from ...digits.data import PIXEL_SCALE, Dataset
from ...digits.fast import FastMLP
from ...digits.train import TrainConfig, accuracy, add_weight_decay, batch_order, make_optimizer, shift_images
from . import training_views as views
from .training_report import confusion_and_mistakes, model_meta
from .views_runs import RunViews

__all__ = ["TrainingJob", "RUNNING", "FINISHED"]

RUNNING = ("starting", "running", "paused")
FINISHED = ("done", "stopped", "diverged", "failed")
TICK = 0.25  # seconds of training between two looks at the live quantities
VIEWS_SHARE = 0.03  # at most this share of the training time goes to the live views while running
SURFACE_IMAGES, GRADIENT_IMAGES = 200, 5_000  # fixed training subsets of the two views
PATH_POINTS = 40


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
        self.pixels = data.train_images[: config.limit or None].reshape(-1, int(np.prod(data.train_images.shape[1:])))
        self.labels = data.train_labels[: len(self.pixels)].astype(np.intp)
        self.test_pixels = data.test_images.reshape(len(data.test_images), -1)
        self.test_labels = data.test_labels.astype(np.intp)
        subset = np.random.default_rng(0).permutation(len(self.pixels))[:GRADIENT_IMAGES]
        self.subset = (np.take(self.pixels, subset, axis=0), np.take(self.labels, subset))
        dtype = np.dtype(config.dtype).type
        sizes = config.sizes
        self.model = FastMLP(
            sizes[0], sizes[1:], config.activation, config.output_activation, init=config.init, seed=config.seed,
            dtype=dtype,
        )  # fmt: skip
        self.probe = copy.deepcopy(self.model)
        self.optimizer = make_optimizer(config, self.model.flat_parameters())
        self.status, self.message = "starting", ""
        self.lr, self.batch_size = config.lr, config.batch_size
        self.step = self.epoch = self.samples_done = 0
        self.samples_total = config.epochs * len(self.pixels)
        self.costs: list[float] = []
        self.lr_changes: list[dict[str, float]] = [{"step": 1, "lr": self.lr}]
        self.batch_changes: list[dict[str, int]] = [{"step": 1, "batch_size": self.batch_size}]
        self.history: list[dict[str, float]] = []
        self.surface: dict[str, Any] | None = None
        self.gradient: dict[str, float] | None = None
        self.gradients: list[dict[str, float]] = []
        self.final: dict[str, Any] | None = None
        self.result: FastMLP | None = None
        self.meta: dict[str, Any] | None = None
        self.started = time.time()
        self.active_seconds = 0.0
        self._path: deque[np.ndarray] = deque(maxlen=PATH_POINTS)
        self._path_every = max(1, round(len(self.pixels) / config.batch_size / 30))
        self._last_good = (0, self.model.flat_parameters()[0].data.copy())
        self._lock = threading.Lock()
        self._pending: dict[str, float] = {}
        self._interrupt = False
        self._pause = self._stop = False
        self._steps_allowed = -1  # while paused: batches to run before pausing again
        self._wake = threading.Event()
        self._views_spent = 0.0
        self._at: tuple[np.ndarray, int] = (np.arange(len(self.pixels)), 0)  # the epoch's order, the next position
        self._views_cost = 0.05  # seconds the last views took (a guess before the first)
        self.views = RunViews(self.model, self.pixels, self.labels, config.loss)  # replay and curvature
        self.views.on_step(self.model, 0, math.nan, self.lr, 0.0)
        self._thread = threading.Thread(target=self._run, name="microgrid-training", daemon=True)

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
            self._interrupt = True
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

    def change(self, settings: dict[str, float]) -> None:
        """New lr and/or batch_size, used from the next batch on."""
        with self._lock:
            self._pending.update(settings)
            self._interrupt = True
        self._wake.set()

    def join(self, timeout: float | None = None) -> None:
        self._thread.join(timeout)

    # -- the loop, in the worker thread ----------------------------------------------------

    def _run(self) -> None:
        try:
            self.status = "running"
            self._train()
        except Exception as err:  # reported on the page in one line; the trace goes to the server's log
            traceback.print_exc(file=sys.stderr)
            self.status, self.message = "failed", f"training failed: {type(err).__name__}: {err}"

    def _controls(self) -> bool:
        """Apply pending changes and wait while paused; False when the job should stop."""
        while True:
            with self._lock:
                self._interrupt = False
                pending, self._pending = self._pending, {}
                pause, stop, allowed = self._pause, self._stop, self._steps_allowed
                if pause and allowed > 0:
                    self._steps_allowed, self._interrupt = allowed - 1, True
                self._wake.clear()
            if "lr" in pending:
                self.lr = self.optimizer.lr = pending["lr"]
                self.lr_changes.append({"step": self.step + 1, "lr": self.lr})
            if "batch_size" in pending:
                self.batch_size = int(pending["batch_size"])
                self.batch_changes.append({"step": self.step + 1, "batch_size": self.batch_size})
            if stop:
                return False
            if not pause or allowed > 0:
                self.status = "running"
                return True
            if self.status != "paused":
                self.views.keep_now(self.model, self.step, self.costs[-1] if self.costs else math.nan)
                self.status = "paused"
                if self.live_views:  # time is free while paused
                    self._views(self._peek())
            self._wake.wait(0.5)

    def _peek(self) -> tuple[np.ndarray, float] | None:
        """The gradient (P,) and cost of the batch that comes next, at the current weights
        (computed on the probe: the model and its grads stay as they are)."""
        order, position = self._at
        idx = order[position : position + self.batch_size]
        if not len(idx):
            return None
        self.probe.flat_parameters()[0].data[...] = self.model.flat_parameters()[0].data
        xb, yb = np.take(self.pixels, idx, axis=0), np.take(self.labels, idx)
        with np.errstate(over="ignore", invalid="ignore"):
            value = self.probe.loss_and_backward(xb, yb, self.config.loss, check=False, input_scale=PIXEL_SCALE)
        return self.probe.flat_parameters()[0].grad.copy(), value

    def _train(self) -> None:
        config, model, pixels, labels = self.config, self.model, self.pixels, self.labels
        n = len(pixels)
        flat = model.flat_parameters()[0]
        next_tick = time.perf_counter() + TICK
        t_active = time.perf_counter()
        for epoch in range(1, config.epochs + 1):
            self.epoch = epoch
            t_epoch = time.perf_counter()
            self.lr = self.optimizer.lr = self.lr * (config.lr_decay if epoch > 1 else 1.0)
            order = batch_order(config.seed, epoch, n)
            shift_rng = np.random.default_rng([config.seed, epoch, 1])
            total, position = 0.0, 0
            threads = threads_for(config.sizes, self.batch_size)
            while position < n:
                size = self.batch_size
                # one BLAS thread for small products, as train() does; a blow-up is caught below
                with blas_threads(threads), np.errstate(over="ignore", invalid="ignore"):
                    while position < n:
                        if self._interrupt:
                            self._at = (order, position)
                            t_pause = time.perf_counter()
                            self.active_seconds += t_pause - t_active
                            go_on = self._controls()
                            t_active = time.perf_counter()
                            t_epoch += t_active - t_pause  # an epoch's seconds leave out its pauses
                            if not go_on:
                                return self._finish("stopped", "stopped by the user")
                            size = self.batch_size  # a new batch size takes the next batch
                        idx = order[position : position + size]
                        xb, yb = np.take(pixels, idx, axis=0), np.take(labels, idx)
                        if config.augment:
                            xb = shift_images(xb, config.augment, shift_rng)
                        value = model.loss_and_backward(xb, yb, config.loss, check=False, input_scale=PIXEL_SCALE)
                        if not math.isfinite(value):
                            return self._diverged(value, epoch, -(-position // size) + 1)
                        if self.step % self._path_every == 0:
                            self._path.append(flat.data.copy())
                        if time.perf_counter() >= next_tick:
                            self._last_good = (self.step, flat.data.copy())
                            budget = VIEWS_SHARE * self._elapsed(t_active)
                            if self.live_views and self._views_spent + self._views_cost <= budget:
                                self._views((flat.grad.copy(), value))
                            next_tick = time.perf_counter() + TICK
                        if config.weight_decay:  # L2, as train adds it: grad += weight_decay * w
                            add_weight_decay(self.optimizer.params, config.weight_decay)
                        self.optimizer.step()
                        self.costs.append(value)
                        self.step += 1
                        self.views.on_step(model, self.step, value, self.lr, self._elapsed(t_active))
                        position += len(idx)
                        self.samples_done += len(idx)
                        total += value * len(idx)
                        if size != self.config.batch_size and threads_for(config.sizes, size) != threads:
                            break  # the new batch size wants another number of BLAS threads
                threads = threads_for(config.sizes, size)
            seconds = time.perf_counter() - t_epoch
            row = {
                "epoch": epoch,
                "loss": total / n,
                "train_accuracy": accuracy(model, pixels, labels, input_scale=PIXEL_SCALE),
                "test_accuracy": accuracy(model, self.test_pixels, self.test_labels, input_scale=PIXEL_SCALE),
                "seconds": seconds,
            }
            self.history.append(row)
            self._last_good = (self.step, flat.data.copy())
        self.active_seconds += time.perf_counter() - t_active
        return self._finish("done", f"finished {config.epochs} epoch{'s' if config.epochs > 1 else ''}")

    def _elapsed(self, t_active: float) -> float:
        return self.active_seconds + time.perf_counter() - t_active

    def _views(self, batch: tuple[np.ndarray, float] | None) -> None:
        """Recompute the cost surface, and, given the batch's (gradient, cost), the comparison."""
        t0 = time.perf_counter()
        model, (pixels, labels) = self.model, self.subset
        # one BLAS thread: the products are small, and spare threads would fight the training's
        with blas_threads(1), np.errstate(over="ignore", invalid="ignore"):
            self.surface = {
                "step": self.step,
                **views.cost_surface(
                    model, list(self._path), pixels[:SURFACE_IMAGES], labels[:SURFACE_IMAGES], self.config.loss
                ),
            }
            if batch is not None:
                weights = model.flat_parameters()[0].data.copy()
                compared = views.gradient_comparison(
                    self.probe, weights, batch[0], batch[1], pixels, labels, self.config.loss
                )
                self.gradient = {"step": self.step + 1, **compared}
                self.gradients.append({k: self.gradient[k] for k in ("step", "cosine", "batch_cost", "full_cost")})
        self._views_cost = time.perf_counter() - t0
        self._views_spent += self._views_cost

    def _diverged(self, value: float, epoch: int, batch: int) -> None:
        good_step, good = self._last_good
        self.model.flat_parameters()[0].data[...] = good
        message = (
            f"training stopped: the cost became {value} at epoch {epoch}, batch {batch} (step {self.step + 1}); "
            f"kept the weights of step {good_step} (try a smaller learning rate than {self.lr:g})"
        )
        self._finish("diverged", message)

    def _finish(self, status: str, message: str) -> None:
        """Evaluate the final weights, hand the model over, and set the final status."""
        self.views.keep_now(self.model, self.step, self.costs[-1] if self.costs else math.nan)
        if self.live_views:  # the surface around the final weights
            self._views(None)
        model = copy.deepcopy(self.model)
        report = confusion_and_mistakes(model, self.test_pixels, self.test_labels)
        note = f"the web page's training panel ({status} after {self.step} steps)"
        self.meta = model_meta(self.config, self.history, self.data_info, note)
        self.result = model
        name = self.on_model(model, self.meta) if self.on_model else None
        self.final = {**report, "model": name, "steps": self.step}
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
            "weights": views.first_layer_images(self.model),
            "surface": self.surface,
            "gradient": self.gradient,
            "gradients": self.gradients[-200:],
            "final": self.final,
        }
