"""/api/step, /api/nudges and /api/batch against the fast path: the model's own cost, optim's
step, a refused overflow, nudges of the weights as they are now, the batch's average activation."""

from __future__ import annotations

import numpy as np
import pytest

pytest.importorskip("starlette", reason="the web app needs the web extra: pip install -e '.[web]'")
pytest.importorskip("httpx", reason="Starlette's TestClient needs httpx (the test extra)")

from starlette.testclient import TestClient  # noqa: E402

from microgrid.app.web.server import create_app  # noqa: E402
from microgrid.app.web.state import load_state  # noqa: E402
from microgrid.digits.data import load_mnist, to_inputs  # noqa: E402
from microgrid.digits.fast import FastMLP  # noqa: E402


@pytest.fixture
def state():
    return load_state()


@pytest.fixture
def client(state):
    return TestClient(create_app(state), base_url="http://127.0.0.1")


@pytest.fixture(scope="module")
def mnist():
    return load_mnist()


def fast_grad(model, xs, labels, loss):
    """The batch's cost and the flat gradient (P,), on a float64 copy of the model."""
    fast = FastMLP.from_scalar(model.to_scalar())
    cost = fast.loss_and_backward(xs, labels, loss)
    return cost, fast.flat_parameters()[0].grad.copy()


@pytest.mark.parametrize("name, loss", [("digits", "cross_entropy"), ("notes", "mse")])
def test_a_step_follows_the_models_own_cost_with_the_lr_asked_for(client, state, mnist, name, loss):
    model, meta = state.model(name)
    assert meta["config"]["loss"] == loss
    xs, labels = to_inputs(mnist.train_images[10:30]), mnist.train_labels[10:30]
    cost, grad = fast_grad(model, xs, labels, loss)
    lr = 0.37  # not the default 3.0: a step that read another field would use 3.0
    step = client.post("/api/step", json={"model": name, "start": 10, "count": 20, "lr": lr})
    assert step.status_code == 200, step.text
    got = step.json()
    assert got["loss"] == loss and got["lr"] == lr
    assert got["cost_before"] == pytest.approx(cost, rel=1e-5)
    stepped, _ = state.model(got["model"])
    expected = model.flat_parameters()[0].data.astype(float) - lr * grad
    np.testing.assert_allclose(stepped.flat_parameters()[0].data, expected, rtol=1e-5, atol=1e-6)
    after, _ = fast_grad(stepped, xs, labels, loss)
    assert got["cost_after"] == pytest.approx(after, rel=1e-5) and got["cost_after"] < got["cost_before"]


def test_a_step_that_overflows_is_refused_and_changes_nothing(client, state):
    huge = FastMLP(784, [8, 10], "linear", dtype=np.float32, seed=3)
    huge.flat_parameters()[0].data *= np.float32(1e15)
    state.add_model("huge", huge, {"config": {"loss": "mse"}})
    weights = huge.flat_parameters()[0].data.copy()
    names = set(state.models)
    for _ in range(3):  # the old code answered 500 and kept the overflowed model for good
        r = client.post("/api/step", json={"model": "huge", "start": 0, "count": 10, "lr": 100.0})
        assert r.status_code == 422, r.text
        assert "not taken" in r.json()["error"] and "\n" not in r.json()["error"]
    assert set(state.models) == names
    assert np.array_equal(state.model("huge")[0].flat_parameters()[0].data, weights)


def test_nudges_after_a_second_step_are_of_the_weights_now(client, state, mnist):
    x = to_inputs(mnist.train_images[:1])[0]
    for _ in range(2):
        step = client.post("/api/step", json={"model": "notes (stepped)" if _ else "notes", "count": 20, "lr": 1.0})
        assert step.status_code == 200, step.text
        r = client.post("/api/nudges", json={"model": "notes (stepped)", "image": x.tolist(), "target": 5})
        assert r.status_code == 200, r.text
        now, _ = state.model("notes (stepped)")
        cost, grad = fast_grad(now, x[None], [5], "mse")
        assert r.json()["cost"] == pytest.approx(cost, rel=1e-9)
        fast = FastMLP.from_scalar(now.to_scalar())
        fast.loss_and_backward(x[None], [5], "mse")
        np.testing.assert_allclose(r.json()["layers"][-1]["grad_b"], fast.biases[-1].grad, rtol=1e-7, atol=1e-12)


def test_the_batch_view_averages_each_activation_over_the_examples(client, state, mnist):
    x = to_inputs(mnist.train_images[:1])[0]
    r = client.post("/api/batch", json={"model": "notes", "image": x.tolist(), "target": 5, "start": 40, "count": 7})
    assert r.status_code == 200, r.text
    model, _ = state.model("notes")
    layers = FastMLP.from_scalar(model.to_scalar()).forward_all(to_inputs(mnist.train_images[40:47]))[1:]
    for got, acts in zip(r.json()["batch"]["layers"], layers):
        np.testing.assert_allclose(got["a"], acts.mean(axis=0), rtol=1e-9)
