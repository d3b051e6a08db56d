"""The one MNIST training loop: shuffled mini-batches, one learning-rate schedule, an evaluation per epoch.

``python -m microgrid train`` (:func:`microgrid.digits.train.train`) and the web page's
training panel (``microgrid.app.web.training_job``) both drive a :class:`Loop`; what each
adds around it (a progress bar and a log line; pause, pace, live views) is a
:class:`Hooks` object. From the same config and seed both give the same weights.

Each step takes the next ``batch_size`` images of the epoch's shuffled order, computes the
batch's average cost and every grad (``FastMLP.loss_and_backward``, or the scalar engine's
graph for ``nn.MLP``), adds L2 weight decay, and lets the optimizer of :mod:`microgrid.optim`
step. The learning rate of epoch e (counted from 1) is ``learning_rate(base, decay, e)`` =
base * decay ** (e - 1); a new rate set while training (``Loop.set_lr``) becomes the rate of
the current epoch, and the decay goes on from it.

Hooks, all optional (``Hooks``'s methods do nothing)::

    epoch_start(loop)          before the first batch of loop.epoch
    gradient(loop, cost)       after a batch's backward pass, before the step: grads are readable
    batch_end(loop, cost)      after the step (loop.step counts the steps taken)
    interrupted(loop)          before the next batch, only while loop.interrupt is True: it may
                               wait (pause), pace, change loop.batch_size or set_lr, or raise Stop.
                               Another thread sets loop.interrupt; the loop tests it once a batch.
    epoch_end(loop, row)       after an epoch, with its row {epoch, loss, train_accuracy, ...}
"""

from __future__ import annotations

import copy
import math
import time
from collections.abc import Callable
from typing import Any

import numpy as np

from ..engine import Value
from ..losses import cross_entropy, mse
from ..nn import MLP
from ..optim import SGD, Adam, Optimizer
from .blas_threads import blas_threads, threads_for
from .config import TrainConfig
from .data import PIXEL_SCALE, Dataset, to_inputs
from .fast import FastMLP

__all__ = [
    "Loop",
    "Hooks",
    "Stop",
    "Diverged",
    "learning_rate",
    "make_optimizer",
    "add_weight_decay",
    "batch_order",
    "shift_images",
    "accuracy",
    "scalar_batch_loss",
    "batch_loss",
]

BatchLoss = Callable[[Any, np.ndarray, np.ndarray, str, tuple[int, ...]], float]


class Stop(Exception):
    """Raised by a hook to end the run before its last epoch (the page's Stop button)."""


class Diverged(RuntimeError):
    """The loss became NaN or infinite.

    ``last_good`` holds the weights after the last good epoch (None if there is none) and
    ``history`` the rows of the epochs this run completed before it diverged.
    """

    def __init__(self, message: str, last_good: FastMLP | None, history: list[dict[str, float]]) -> None:
        super().__init__(message)
        self.last_good = last_good
        self.history = history


def learning_rate(base: float, decay: float, epoch: int) -> float:
    """The schedule: the learning rate of epoch ``epoch`` (1, 2, ...) is base * decay ** (epoch - 1)."""
    return base * decay ** (epoch - 1)


def make_optimizer(config: TrainConfig, params: list[Any]) -> Optimizer:
    """The optimizer the config names, over ``params`` (Values or Params).

    For a FastMLP pass ``model.flat_parameters()``: the same update in one array
    operation per formula.
    """
    if config.optimizer == "adam":
        return Adam(params, lr=config.lr)
    return SGD(params, lr=config.lr, momentum=config.momentum)


def add_weight_decay(params: list[Any], weight_decay: float) -> None:
    """L2 weight decay: add weight_decay * data to every parameter's grad (in place for arrays).

    The gradient of the cost plus (weight_decay / 2) * (sum of every squared weight and
    bias), as ``torch.optim.SGD(weight_decay=...)`` and ``torch.optim.Adam(weight_decay=...)``
    add it before their update: with plain SGD a step is data -= lr * (grad + weight_decay * data).
    """
    for p in params:
        if hasattr(p.grad, "shape"):
            grad = p.grad
            grad += weight_decay * p.data
        else:
            p.grad += weight_decay * p.data


def batch_order(seed: int, epoch: int, n: int) -> np.ndarray:
    """The shuffled order of n training examples for one epoch (the same for both engines)."""
    return np.random.default_rng([seed, epoch]).permutation(n)


def shift_images(x: np.ndarray, max_shift: int, rng: np.random.Generator) -> np.ndarray:
    """Each 28x28 image of x (n, 784) moved by a random whole number of pixels in [-s, s] each way.

    Data augmentation: the network sees every digit a little off-centre, as hand-drawn
    digits are, which makes it read real pictures more reliably. The images that share a
    shift are copied together, one slice per shift ((2s + 1)^2 of them), which costs a
    sixth of gathering every pixel by a computed index.
    """
    n, side = len(x), 2 * max_shift + 1
    dy = rng.integers(0, side, n)
    dx = rng.integers(0, side, n)
    padded = np.zeros((n, 28 + 2 * max_shift, 28 + 2 * max_shift), x.dtype)
    padded[:, max_shift : max_shift + 28, max_shift : max_shift + 28] = x.reshape(n, 28, 28)
    out = np.empty((n, 28, 28), x.dtype)
    shift = dy * side + dx
    order = np.argsort(shift, kind="stable")
    start = 0
    for code, count in enumerate(np.bincount(shift, minlength=side * side).tolist()):
        if count:
            rows = order[start : start + count]
            top, left = divmod(code, side)
            out[rows] = padded[rows, top : top + 28, left : left + 28]
            start += count
    return out.reshape(n, 784)


def accuracy(model: FastMLP, inputs: np.ndarray, labels: np.ndarray, *, input_scale: float = 1.0) -> float:
    """Fraction of rows of inputs (n, 784) whose most active output is the label.

    The model sees inputs * input_scale (uint8 pixels with 1/255, as in training).
    """
    if not len(labels):
        return float("nan")
    return float(np.mean(model.predict(inputs, input_scale=input_scale) == labels))


def scalar_batch_loss(mlp: MLP, xb: np.ndarray, yb: np.ndarray, loss: str) -> float:
    """The batch's average cost on the scalar engine, backpropagated (grads accumulate).

    xb: inputs (n, nin); yb: labels (n,); loss: "mse" or "cross_entropy".
    """
    outputs = [mlp(row) for row in xb.tolist()]
    labels = [int(y) for y in yb]
    cost: Value = mse(outputs, labels) if loss == "mse" else cross_entropy(outputs, labels)
    cost.backward()
    return cost.data


def batch_loss(
    model: FastMLP | MLP, pixels: np.ndarray, labels: np.ndarray, loss: str, image_shape: tuple[int, ...]
) -> float:
    """The average cost of one batch of uint8 pixel rows (n, nin) and labels (n,), with
    every parameter's grad set for it, on either engine."""
    if isinstance(model, MLP):
        model.zero_grad()
        return scalar_batch_loss(model, to_inputs(pixels.reshape(-1, *image_shape)), labels, loss)
    return model.loss_and_backward(pixels, labels, loss, check=False, input_scale=PIXEL_SCALE)


class Hooks:
    """What a driver adds around the loop (see the module's docstring); every method is optional."""

    def epoch_start(self, loop: Loop) -> None:
        """Before the first batch of ``loop.epoch``."""

    def gradient(self, loop: Loop, cost: float) -> None:
        """After a batch's backward pass, before its step: the model's grads are the batch's."""

    def batch_end(self, loop: Loop, cost: float) -> None:
        """After the step of a batch of ``cost`` (``loop.step`` steps taken so far)."""

    def interrupted(self, loop: Loop) -> None:
        """Before the next batch, while ``loop.interrupt`` is set; may wait, change settings, raise Stop."""

    def epoch_end(self, loop: Loop, row: dict[str, float]) -> None:
        """After an epoch, with its history row."""


class Loop:
    """A training run of ``config`` on ``data``: ``run(hooks)`` trains its epochs.

    Args:
        config: the checked TrainConfig (``engine`` "fast": a FastMLP, "scalar": an nn.MLP).
        data: images uint8 (n, 28, 28) and labels; ``config.limit`` keeps the first N.
        model: a model to continue from; by default a new one from ``config.seed``.
        start_epoch: epochs already done (numbers the epochs, their shuffles and learning rates).
        optimizer: makes the optimizer from (config, the model's parameters); by default
            :func:`make_optimizer`.
        batch_loss: the cost and grads of one batch (by default :func:`batch_loss`).

    Live settings (read before each batch): ``batch_size``, ``lr`` (``set_lr``), ``interrupt``.
    """

    def __init__(
        self,
        config: TrainConfig,
        data: Dataset,
        model: FastMLP | MLP | None = None,
        *,
        start_epoch: int = 0,
        optimizer: Callable[[TrainConfig, list[Any]], Optimizer] | None = None,
        batch_loss: BatchLoss = batch_loss,
    ) -> None:
        self.config = config
        self.image_shape = tuple(data.train_images.shape[1:])
        train_x = data.train_images[: config.limit] if config.limit else data.train_images
        # The pixels stay uint8: each batch is gathered as bytes and the model reads them as
        # pixel / 255 (input_scale), with no float copy of the set.
        self.pixels = train_x.reshape(len(train_x), -1)
        self.labels = data.train_labels[: len(train_x)].astype(np.intp)
        self.test_pixels = data.test_images.reshape(len(data.test_images), -1)
        self.test_labels = data.test_labels.astype(np.intp)
        sizes, fast = config.sizes, config.engine != "scalar"
        if model is None:
            make = FastMLP if fast else MLP
            extra: dict[str, Any] = {"dtype": np.dtype(config.dtype).type} if fast else {}
            model = make(sizes[0], sizes[1:], config.activation, config.output_activation, init=config.init,
                         seed=config.seed, **extra)  # fmt: skip
        elif not fast and isinstance(model, FastMLP):
            model = model.to_scalar()
        elif fast and isinstance(model, MLP):
            model = FastMLP.from_scalar(model, dtype=np.dtype(config.dtype).type)
        self.model: FastMLP | MLP = model
        params = model.parameters() if isinstance(model, MLP) else model.flat_parameters()
        self.optimizer = (optimizer or make_optimizer)(config, params)
        self.batch_loss = batch_loss
        self.start_epoch = start_epoch
        self.epoch = start_epoch
        self.base_lr = config.lr
        self.lr = learning_rate(self.base_lr, config.lr_decay, start_epoch + 1)
        self.batch_size = config.batch_size
        self.step = 0  # steps taken by this run
        self.batch = 0  # batches of the current epoch done
        self.samples_done = 0
        self.order: np.ndarray = np.arange(len(self.pixels))
        self.position = 0  # the next image of ``order``
        self.interrupt = False
        self.history: list[dict[str, float]] = []
        # the weights after the last completed epoch (a resumed run's starting weights count)
        self.last_good: FastMLP | None = self.snapshot() if start_epoch else None

    def set_lr(self, lr: float) -> None:
        """A new learning rate from the next batch on: the current epoch's; later epochs decay from it."""
        self.base_lr = lr / self.config.lr_decay ** (max(self.epoch, 1) - 1)
        self.lr = self.optimizer.lr = lr

    def snapshot(self) -> FastMLP:
        """A FastMLP copy of the current weights (the settings and flat vectors, no random draws)."""
        if isinstance(self.model, MLP):
            return FastMLP.from_scalar(self.model, dtype=np.float64)
        return copy.deepcopy(self.model)

    def run(self, hooks: Hooks | None = None) -> list[dict[str, float]]:
        """Train ``config.epochs`` epochs; returns the history, one row per epoch.

        Raises:
            Diverged: the cost became NaN or inf (holds the weights of the last good epoch).
            Stop: never; a hook's Stop ends the run and ``run`` returns the history so far.
        """
        hooks = hooks or Hooks()
        try:
            for epoch in range(self.start_epoch + 1, self.start_epoch + self.config.epochs + 1):
                self._epoch(epoch, hooks)
        except Stop:
            pass
        return self.history

    def _epoch(self, epoch: int, hooks: Hooks) -> None:
        config, model, pixels, labels = self.config, self.model, self.pixels, self.labels
        fast = isinstance(model, FastMLP)
        t0 = time.perf_counter()
        waited = 0.0
        self.epoch, self.batch, self.position = epoch, 0, 0
        self.lr = self.optimizer.lr = learning_rate(self.base_lr, config.lr_decay, epoch)
        self.order = order = batch_order(config.seed, epoch, len(pixels))
        shift_rng = np.random.default_rng([config.seed, epoch, 1])
        hooks.epoch_start(self)
        n, total = len(pixels), 0.0
        while self.position < n:
            size = self.batch_size
            threads = threads_for(config.sizes, size) if fast else None
            # one BLAS thread for small products (see blas_threads.py); a blow-up is caught below
            with blas_threads(threads), np.errstate(over="ignore", invalid="ignore"):
                while self.position < n:
                    if self.interrupt:
                        t_wait = time.perf_counter()
                        hooks.interrupted(self)
                        waited += time.perf_counter() - t_wait  # an epoch's seconds leave out its pauses
                        if self.batch_size != size:
                            size = self.batch_size
                            if fast and threads_for(config.sizes, size) != threads:
                                break  # the new batch size wants another number of BLAS threads
                    idx = order[self.position : self.position + size]
                    xb, yb = np.take(pixels, idx, axis=0), np.take(labels, idx)
                    if config.augment:
                        xb = shift_images(xb, config.augment, shift_rng)
                    value = self.batch_loss(model, xb, yb, config.loss, self.image_shape)
                    if not math.isfinite(value):
                        raise self._diverged(value, -(-n // size))
                    hooks.gradient(self, value)
                    if config.weight_decay:
                        add_weight_decay(self.optimizer.params, config.weight_decay)
                    self.optimizer.step()
                    self.step += 1
                    self.batch += 1
                    self.position += len(idx)
                    self.samples_done += len(idx)
                    total += value * len(idx)
                    hooks.batch_end(self, value)
        seconds = time.perf_counter() - t0 - waited
        current = self.snapshot()
        row = {
            "epoch": epoch,
            "loss": total / n,
            "train_accuracy": accuracy(current, pixels, labels, input_scale=PIXEL_SCALE),
            "test_accuracy": accuracy(current, self.test_pixels, self.test_labels, input_scale=PIXEL_SCALE),
            "seconds": seconds,
        }
        self.history.append(row)
        self.last_good = current
        hooks.epoch_end(self, row)

    def _diverged(self, value: float, batches: int) -> Diverged:
        message = (
            f"training stopped: the loss became {value} at epoch {self.epoch}, batch {self.batch + 1} of {batches} "
            f"(step {self.step + 1}; try a smaller learning rate than {self.lr:g})"
        )
        return Diverged(message, self.last_good, list(self.history))
