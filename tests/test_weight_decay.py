"""L2 weight decay in the training loop, against a hand-computed SGD step and PyTorch."""

import numpy as np
import pytest

from microgrid.app.cli import main
from microgrid.digits.data import PIXEL_SCALE, load_mnist
from microgrid.digits.fast import FastMLP
from microgrid.digits.model_file import load_model
from microgrid.digits.train import PRESETS, TrainConfig, add_weight_decay, batch_order, train


@pytest.fixture(scope="module")
def mnist():
    return load_mnist()


def _quiet(config, data):
    return train(config, data, progress=False, log=lambda line: None)


def test_one_step_is_data_minus_lr_times_grad_plus_decay(mnist):
    """One batch of plain SGD with weight decay: w1 = w0 - lr * (dC/dw(w0) + wd * w0), by hand."""
    cfg = TrainConfig(sizes=[784, 8, 10], limit=20, batch_size=20, epochs=1, dtype="float64", lr=0.5,
                      weight_decay=0.1, seed=3)  # fmt: skip
    trained, _ = _quiet(cfg, mnist)
    start = FastMLP(784, [8, 10], "sigmoid", init="normal", seed=3)
    idx = batch_order(3, 1, 20)
    pixels = mnist.train_images[:20].reshape(20, 784)[idx]
    start.loss_and_backward(pixels, mnist.train_labels[:20][idx], "mse", input_scale=PIXEL_SCALE)
    for before, after in zip(start.parameters(), trained.parameters()):
        expected = before.data - 0.5 * (before.grad + 0.1 * before.data)
        np.testing.assert_allclose(after.data, expected, rtol=1e-12, atol=1e-14)


def test_weight_decay_on_scalar_values_and_arrays_is_the_same_formula():
    from microgrid import Value
    from microgrid.digits.fast import Param

    v = Value(2.0)
    v.grad = 0.5
    p = Param(np.array([2.0, -4.0]), "p", np.array([0.5, 1.0]))
    add_weight_decay([v, p], 0.25)
    assert v.grad == 0.5 + 0.25 * 2.0
    np.testing.assert_array_equal(p.grad, [0.5 + 0.5, 1.0 - 1.0])


@pytest.mark.parametrize("optimizer", ["sgd", "adam"])
def test_training_with_weight_decay_matches_torch(mnist, optimizer):
    torch = pytest.importorskip("torch", reason="PyTorch is the oracle here: pip install torch==2.13.0")
    lr, momentum, wd = (0.5, 0.9, 1e-2) if optimizer == "sgd" else (1e-2, 0.0, 1e-2)
    cfg = TrainConfig(sizes=[784, 8, 10], limit=100, batch_size=25, epochs=2, dtype="float64", lr=lr,
                      momentum=momentum, optimizer=optimizer, weight_decay=wd, lr_decay=0.5, seed=1)  # fmt: skip
    trained, _ = _quiet(cfg, mnist)

    start = FastMLP(784, [8, 10], "sigmoid", init="normal", seed=1)
    params = [torch.tensor(p.data.copy(), requires_grad=True) for p in start.parameters()]
    if optimizer == "sgd":
        opt = torch.optim.SGD(params, lr=lr, momentum=momentum, weight_decay=wd)
    else:
        opt = torch.optim.Adam(params, lr=lr, weight_decay=wd)
    x = torch.tensor(mnist.train_images[:100].reshape(100, 784) * PIXEL_SCALE, dtype=torch.float64)
    y = torch.nn.functional.one_hot(torch.tensor(mnist.train_labels[:100].astype(np.int64)), 10).double()
    for epoch in (1, 2):
        for group in opt.param_groups:
            group["lr"] = lr * 0.5 ** (epoch - 1)
        order = torch.from_numpy(batch_order(1, epoch, 100))
        for start_row in range(0, 100, 25):
            idx = order[start_row : start_row + 25]
            a = x[idx]
            for i in range(0, len(params), 2):
                a = torch.sigmoid(a @ params[i].T + params[i + 1])
            loss = ((a - y[idx]) ** 2).sum(dim=1).mean()
            opt.zero_grad()
            loss.backward()
            opt.step()
    for mine, theirs in zip(trained.parameters(), params):
        np.testing.assert_allclose(mine.data, theirs.detach().numpy(), rtol=1e-9, atol=1e-11)


def test_weight_decay_shrinks_the_weights(mnist):
    base = dict(sizes=[784, 16, 10], limit=2000, epochs=2, lr=1.0, init="default")
    plain, _ = _quiet(TrainConfig(**base), mnist)
    decayed, _ = _quiet(TrainConfig(**base, weight_decay=0.05), mnist)
    assert np.linalg.norm(decayed.flat_parameters()[0].data) < 0.8 * np.linalg.norm(plain.flat_parameters()[0].data)


@pytest.mark.parametrize("bad", [-0.1, 1.0, float("nan")])
def test_impossible_weight_decay_is_refused(bad):
    with pytest.raises(ValueError, match=r"weight_decay must be in \[0, 1\)"):
        TrainConfig(weight_decay=bad).check()


def test_cli_weight_decay_flag_reaches_the_model_file(tmp_path, capsys):
    out = tmp_path / "m.npz"
    code = main(["train", "--arch", "784,8,10", "--limit", "200", "--epochs", "1", "--weight-decay", "0.001",
                 "--no-progress", "-o", str(out)])  # fmt: skip
    assert code == 0
    _, meta = load_model(out)
    assert meta["config"]["weight_decay"] == 0.001 and "--weight-decay 0.001" in meta["command"]


def test_every_preset_is_a_valid_config():
    for name, recipe in PRESETS.items():
        TrainConfig(**recipe).check()
        assert recipe["sizes"][0] == 784 and recipe["sizes"][-1] == 10, name


def test_cli_offers_every_preset():
    from microgrid.app.commands.train import PRESET_NAMES

    assert PRESET_NAMES == list(PRESETS)
