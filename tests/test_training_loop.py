"""The one training loop (microgrid.digits.loop.Loop) as the page drives it: hooks, one
learning-rate schedule that goes on from a rate set while training, Stop, a new batch size."""

from __future__ import annotations

import numpy as np
import pytest

from microgrid.digits.data import Dataset, load_mnist
from microgrid.digits.loop import Hooks, Loop, Stop, learning_rate
from microgrid.digits.train import TrainConfig, train


@pytest.fixture(scope="module")
def small():
    data = load_mnist()
    return Dataset(data.train_images[:600], data.train_labels[:600], data.test_images[:200], data.test_labels[:200])


class Recorder(Hooks):
    """Records the lr and batch size of every step; at step ``at`` asks for ``change``."""

    def __init__(self, at=-1, change=None, stop_at=-1):
        self.at, self.change, self.stop_at = at, change or {}, stop_at
        self.steps = []

    def gradient(self, loop, cost):
        self.steps.append((loop.epoch, loop.optimizer.lr, loop.batch_size))

    def batch_end(self, loop, cost):
        loop.interrupt = loop.step in (self.at, self.stop_at)

    def interrupted(self, loop):
        loop.interrupt = False
        if loop.step == self.stop_at:
            raise Stop
        if "lr" in self.change:
            loop.set_lr(self.change["lr"])
        loop.batch_size = self.change.get("batch_size", loop.batch_size)


def test_the_schedule_is_base_times_decay_to_the_epoch_and_goes_on_from_a_new_rate(small):
    config = TrainConfig(sizes=[784, 8, 10], lr=1.0, lr_decay=0.5, batch_size=100, epochs=3)
    hooks = Recorder(at=8, change={"lr": 0.3})  # step 9 is epoch 2's third batch (6 batches an epoch)
    Loop(config, small).run(hooks)
    lrs = [lr for _, lr, _ in hooks.steps]
    assert lrs[:6] == [learning_rate(1.0, 0.5, 1)] * 6 == [1.0] * 6
    assert lrs[6:8] == [0.5, 0.5] and lrs[8:12] == [0.3] * 4
    assert lrs[12:] == [pytest.approx(0.15)] * 6  # epoch 3 decays from the rate set in epoch 2


def test_a_new_batch_size_takes_the_next_batch_and_stop_ends_the_run(small):
    config = TrainConfig(sizes=[784, 8, 10], batch_size=100, epochs=2)
    hooks = Recorder(at=2, change={"batch_size": 250}, stop_at=5)
    loop = Loop(config, small)
    history = loop.run(hooks)
    assert [size for _, _, size in hooks.steps] == [100, 100, 250, 250, 250]
    assert loop.samples_done == 100 + 100 + 250 + 150 + 250 and history[0]["epoch"] == 1 and len(history) == 1


def test_the_loop_without_hooks_is_the_train_command(small):
    config = TrainConfig(sizes=[784, 8, 10], batch_size=50, epochs=2, augment=1, weight_decay=1e-3)
    loop = Loop(config, small)
    history = loop.run()
    model, theirs = train(config, small, progress=False, log=lambda line: None)
    assert np.array_equal(loop.model.flat_parameters()[0].data, model.flat_parameters()[0].data)
    assert [row["loss"] for row in history] == [row["loss"] for row in theirs]
