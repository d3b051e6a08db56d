"""The training loop checked against independent truths: the pixel scale, what augmentation
feeds the network, the learning rate each epoch, and the model kept when a run diverges."""

import importlib

import numpy as np
import pytest

from microgrid.app.cli import main
from microgrid.digits.data import PIXEL_SCALE, Dataset, load_mnist, to_inputs
from microgrid.digits.fast import FastMLP
from microgrid.digits.model_file import load_model
from microgrid.digits.train import Diverged, TrainConfig, train

training = importlib.import_module("microgrid.digits.train")  # the module (microgrid.digits.train is also a function)


@pytest.fixture(scope="module")
def mnist():
    return load_mnist()


@pytest.fixture(scope="module")
def small(mnist):
    return Dataset(mnist.train_images[:3000], mnist.train_labels[:3000], mnist.test_images[:1000],
                   mnist.test_labels[:1000])  # fmt: skip


def quiet(config, data, **kwargs):
    return train(config, data, progress=False, log=lambda s: None, **kwargs)


def record_batches(monkeypatch):
    """Patch the loop's batch step to record (pixels, labels) of every batch it is given."""
    seen = []
    original = training._batch_loss

    def recording(model, pixels, labels, loss, shape):
        seen.append((pixels.copy(), labels.copy()))
        return original(model, pixels, labels, loss, shape)

    monkeypatch.setattr(training, "_batch_loss", recording)
    return seen


# -- the pixel scale --------------------------------------------------------------------


def test_pixel_255_is_input_one_exactly():
    """The independent truth: a uint8 pixel p is the input p / 255, so 255 is 1.0 and 51 is 0.2."""
    assert np.float64(255) * PIXEL_SCALE == 1.0
    pixels = np.array([[0, 51, 102, 255]], dtype=np.uint8)
    net = FastMLP(4, [4], "linear", seed=0)
    net.weights[0].data = np.eye(4)
    net.biases[0].data = 0.0
    for dtype in (np.float64, np.float32):
        seen = FastMLP.from_scalar(net.to_scalar(), dtype=dtype)(pixels.astype(dtype) * dtype(PIXEL_SCALE))
        assert seen[0].tolist() == pytest.approx([0.0, 0.2, 0.4, 1.0], abs=1e-7)
    inside = net.forward_all(pixels, input_scale=PIXEL_SCALE)[-1]
    assert inside[0, -1] == 1.0 and inside[0, 1] == pytest.approx(0.2, rel=1e-15)
    assert to_inputs(np.full((1, 2, 2), 255, np.uint8)).max() == 1.0


def test_training_reads_pixels_with_the_pixel_scale(mnist, monkeypatch):
    """One SGD step of train() equals the step computed by hand from inputs p / 255."""
    config = TrainConfig(sizes=[784, 8, 10], lr=0.5, batch_size=50, epochs=1, limit=50, dtype="float64")
    trained, _ = quiet(config, mnist)
    by_hand = FastMLP(784, [8, 10], seed=0, init="normal")
    order = training.batch_order(0, 1, 50)
    x = mnist.train_images[:50][order].reshape(50, 784) / 255.0
    by_hand.loss_and_backward(x, mnist.train_labels[:50][order], "mse")
    for p in by_hand.parameters():
        p.data = p.data - 0.5 * p.grad
    for a, b in zip(trained.parameters(), by_hand.parameters()):
        assert np.allclose(a.data, b.data, rtol=1e-12, atol=1e-14), a.name


# -- augmentation -----------------------------------------------------------------------


def shifted(image, dy, dx):
    """image (28, 28) moved dy rows down and dx columns right, zeros coming in."""
    out = np.zeros_like(image)
    rows, cols = image.shape
    out[max(dy, 0) : rows + min(dy, 0), max(dx, 0) : cols + min(dx, 0)] = image[
        max(-dy, 0) : rows + min(-dy, 0), max(-dx, 0) : cols + min(-dx, 0)
    ]
    return out


@pytest.mark.parametrize("augment", [0, 2])
def test_augmentation_shifts_the_images_and_keeps_the_labels(mnist, monkeypatch, augment):
    seen = record_batches(monkeypatch)
    config = TrainConfig(sizes=[784, 8, 10], batch_size=100, epochs=2, limit=300, augment=augment)
    quiet(config, mnist)
    assert len(seen) == 6
    moved = 0
    for b, (pixels, labels) in enumerate(seen):
        epoch, k = 1 + b // 3, b % 3
        idx = training.batch_order(0, epoch, 300)[k * 100 : (k + 1) * 100]
        assert np.array_equal(labels, mnist.train_labels[idx])  # the labels stay with their images
        for row, i in zip(pixels, idx):
            original, image = mnist.train_images[i], row.reshape(28, 28)
            shifts = [(dy, dx) for dy in range(-augment, augment + 1) for dx in range(-augment, augment + 1)
                      if np.array_equal(image, shifted(original, dy, dx))]  # fmt: skip
            assert shifts, f"batch {b}: image {i} is not its digit shifted by at most {augment} pixels"
            moved += not np.array_equal(image, original)
    if augment:
        assert moved > 0.7 * 600  # 24 of the 25 shifts move the digit (some blank edges hide a move)
    else:
        assert moved == 0


def test_training_with_augmentation_still_learns(small):
    config = TrainConfig(sizes=[784, 64, 10], activation="relu", output_activation="linear", loss="cross_entropy",
                         optimizer="adam", lr=3e-3, batch_size=64, epochs=2, init="default", augment=1)  # fmt: skip
    _, history = quiet(config, small)
    assert history[-1]["test_accuracy"] > 0.85


# -- the learning rate each epoch -------------------------------------------------------


@pytest.mark.parametrize("optimizer,start", [("sgd", 0), ("adam", 0), ("sgd", 2)])
def test_lr_after_k_epochs_is_lr_times_decay_to_the_k(mnist, monkeypatch, optimizer, start):
    """The lr the optimizer holds at each step of epoch e (counted from 1, resumes included)
    is lr * decay ** (e - 1)."""
    used = []
    original = training.make_optimizer

    def capturing(config, params):
        opt = original(config, params)
        step = opt.step

        def recorded_step():
            used.append(opt.lr)
            step()

        opt.step = recorded_step
        return opt

    monkeypatch.setattr(training, "make_optimizer", capturing)
    config = TrainConfig(sizes=[784, 8, 10], optimizer=optimizer, lr=0.2, lr_decay=0.5, batch_size=100, epochs=3,
                         limit=200)  # fmt: skip
    quiet(config, mnist, start_epoch=start)
    expected = [0.2 * 0.5 ** (start + k) for k in range(3) for _ in range(2)]
    assert used == pytest.approx(expected, rel=1e-15)


# -- the last good model ----------------------------------------------------------------


def diverge_at(monkeypatch, call):
    """Make the loop's ``call``-th batch (counted from 1) report a NaN loss, as a blow-up does."""
    calls = []
    original = training._batch_loss

    def failing(*args):
        calls.append(1)
        value = original(*args)
        return float("nan") if len(calls) == call else value

    monkeypatch.setattr(training, "_batch_loss", failing)


def test_a_fresh_run_that_diverges_keeps_the_last_completed_epoch(mnist, monkeypatch):
    config = TrainConfig(sizes=[784, 8, 10], batch_size=100, epochs=3, limit=200)
    one_epoch, _ = quiet(TrainConfig(sizes=[784, 8, 10], batch_size=100, epochs=1, limit=200), mnist)
    diverge_at(monkeypatch, 4)  # epoch 2, batch 2
    with pytest.raises(Diverged, match="epoch 2, batch 2") as caught:
        quiet(config, mnist)
    kept = caught.value.last_good
    assert kept is not None and [row["epoch"] for row in caught.value.history] == [1]
    for a, b in zip(kept.parameters(), one_epoch.parameters()):
        assert np.array_equal(a.data, b.data), a.name
    diverge_at(monkeypatch, 2)  # in the first epoch: nothing good to keep
    with pytest.raises(Diverged) as caught:
        quiet(config, mnist)
    assert caught.value.last_good is None


def test_cli_fresh_run_that_diverges_saves_the_last_good_model(tmp_path, monkeypatch, capsys):
    common = ["train", "--arch", "784,8,10", "--batch-size", "100", "--limit", "200", "--no-progress"]
    assert main([*common, "--epochs", "1", "-o", str(tmp_path / "one.npz")]) == 0
    diverge_at(monkeypatch, 4)
    assert main([*common, "--epochs", "3", "-o", str(tmp_path / "kept.npz")]) == 1
    assert "kept the last good model" in capsys.readouterr().err
    kept, meta = load_model(tmp_path / "kept.npz")
    one, _ = load_model(tmp_path / "one.npz")
    assert [row["epoch"] for row in meta["history"]] == [1]
    for a, b in zip(kept.parameters(), one.parameters()):
        assert np.array_equal(a.data, b.data), a.name
