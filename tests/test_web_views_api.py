"""The /api/views routes (issue 25) against second computations, and their refusals.

A matrix cell against the scalar engine's chain and Value.grad; ascent's gradient against
central differences of the model's own outputs; curvature and replay of a short MNIST run
against a dense eigen-solve and the model saved at the replayed step.
"""

from __future__ import annotations

import time

import numpy as np
import pytest

pytest.importorskip("starlette", reason="the web app needs the web extra: pip install 'microgrid[web]'")
pytest.importorskip("httpx", reason="Starlette's TestClient needs httpx (the test extra)")

from starlette.testclient import TestClient  # noqa: E402

from microgrid.app.web.server import create_app  # noqa: E402
from microgrid.app.web.state import load_state  # noqa: E402
from microgrid.digits.data import PIXEL_SCALE, load_mnist  # noqa: E402
from microgrid.digits.example_gradient import example_gradients  # noqa: E402
from microgrid.digits.fast import FastMLP  # noqa: E402
from microgrid.digits.model_file import load_model, save_model  # noqa: E402
from microgrid.losses import mse  # noqa: E402


@pytest.fixture(scope="module")
def state():
    return load_state()


@pytest.fixture(scope="module")
def client(state):
    with TestClient(create_app(state), base_url="http://127.0.0.1") as c:
        yield c


@pytest.fixture(scope="module")
def example():
    data = load_mnist()
    return (data.train_images[7].reshape(784) * PIXEL_SCALE).tolist(), int(data.train_labels[7])


def test_a_matrix_cell_is_the_scalar_chains_product_and_the_weights_grad(client, state, example):
    image, label = example
    r = client.post("/api/views/matrix", json={"model": "notes", "image": image, "label": label, "layer": 1})
    assert r.status_code == 200, r.text
    matrix = np.array(r.json()["grad"])
    assert matrix.shape == (16, 784)
    model, _ = state.model("notes")
    _, grads, _ = example_gradients(model, np.array(image), label)
    assert np.allclose(matrix, grads[0], rtol=1e-12, atol=0)
    j, k = np.unravel_index(np.abs(matrix).argmax(), matrix.shape)
    cell = client.post(
        "/api/views/cell", json={"model": "notes", "image": image, "label": label, "layer": 1, "j": int(j), "k": int(k)}
    ).json()
    assert cell["matrix"] == matrix[j, k]
    assert cell["product"] == pytest.approx(cell["matrix"], rel=1e-9)
    assert cell["engine"] == pytest.approx(cell["matrix"], rel=1e-9)
    # an independent scalar graph: the weight's grad after backward() on a fresh copy
    mlp = model.to_scalar()
    cost = mse(mlp(image), label)
    cost.backward()
    assert mlp.layers[0].neurons[j].w[k].grad == pytest.approx(cell["matrix"], rel=1e-9)
    assert [e["to"] for e in cell["edges"]] == [f"z_{j}(1)", f"a_{j}(1)"]
    assert len(cell["fan"]["terms"]) == 16
    # the output layer: a chain all the way to C0
    out = client.post(
        "/api/views/cell", json={"model": "notes", "image": image, "label": label, "layer": 3, "j": label, "k": 0}
    ).json()
    assert out["fan"] is None and out["nodes"][-1]["name"] == "C0"
    assert out["product"] == pytest.approx(out["matrix"], rel=1e-9)


def test_cell_refuses_a_weight_outside_the_layer(client, example):
    image, label = example
    bad = {"model": "notes", "image": image, "label": label, "layer": 2, "j": 0, "k": 16}
    r = client.post("/api/views/cell", json=bad)
    assert r.status_code == 422 and "'k' must be in [0, 15]" in r.json()["error"]
    r = client.post("/api/views/matrix", json={"model": "notes", "image": image[:5], "label": 0})
    assert r.status_code == 400 and "784" in r.json()["error"]


@pytest.mark.parametrize("model", ["notes", "digits"])
def test_ascent_climbs_the_outputs_gradient_by_central_differences(client, state, model):
    start = np.full(784, 0.5)  # mid-grey: no pixel is held at a bound in the first step
    r = client.post("/api/views/ascent", json={"model": model, "digit": 3, "image": start.tolist(), "steps": 1,
                                               "rate": 0.01})  # fmt: skip
    assert r.status_code == 200, r.text
    step = r.json()
    stored, _ = state.model(model)
    net = FastMLP.__new__(FastMLP)  # the same weights in float64, for differences to many digits
    net.__setstate__({**stored.__getstate__(), "dtype": np.dtype(np.float64)})

    def score(x: np.ndarray) -> float:
        out = net.forward_all(x[None])[-1][0]
        if step["score"] == "output":
            return float(out[3])
        return float(out[3] - out.max() - np.log(np.exp(out - out.max()).sum()))

    def central(pixel: int, h: float = 1e-4) -> float:
        up, down = start.copy(), start.copy()
        up[pixel] += h
        down[pixel] -= h
        return (score(up) - score(down)) / (2 * h)

    # one step moves pixel i by rate * g_i / max|g|: the moves are the gradient, scaled
    moved = np.array(step["image"]) - start
    top = int(np.abs(moved).argmax())
    assert abs(moved[top]) == pytest.approx(0.01, rel=1e-3)  # rounded to 5 places on the way
    for pixel in (top, 100, 300, 500, 650):
        assert moved[pixel] == pytest.approx(0.01 * central(pixel) / abs(central(top)), rel=2e-2, abs=2e-5)
    assert step["scores"][1] > step["scores"][0]


def test_noise_is_answered_with_the_networks_own_outputs(client, state):
    r = client.post("/api/views/noise", json={"model": "notes", "seed": 4}).json()
    net, _ = state.model("notes")
    out = net(np.array(r["image"])[None])[0]
    assert r["digit"] == int(out.argmax())
    assert r["confidence"] == pytest.approx(float(out.max()), abs=1e-3)


def test_mistake_runs_both_and_an_unknown_one_is_refused(client):
    r = client.post("/api/views/mistake", json={"name": "dead_relu"}).json()
    assert r["dead_share"] == 1.0 and len(r["runs"]) == 2 and r["fix"]
    bad = client.post("/api/views/mistake", json={"name": "nope"})
    assert bad.status_code == 422 and "zero_grad" in bad.json()["error"]


def test_views_of_a_run_before_any_run_say_so(client):
    assert client.get("/api/views/curvature").json() == {"kind": None, "on": False, "rows": [], "status": "idle"}
    for path in ("/api/views/replay", "/api/views/surface"):
        r = client.get(path)
        assert r.status_code == 409 and "no training run yet" in r.json()["error"]


def test_curvature_and_replay_of_an_mnist_run(client, state, tmp_path):
    assert client.post("/api/views/curvature", json={"on": True}).json()["on"] is True  # before the run: kept
    r = client.post("/api/train/start", json={"preset": "notes-plain", "epochs": 2, "limit": 30000})
    assert r.status_code == 200, r.text
    assert client.get("/api/views/curvature").json()["on"] is True  # applied to the run
    deadline = time.time() + 120
    while client.get("/api/train/status").json()["status"] in ("starting", "running") and time.time() < deadline:
        time.sleep(0.2)
    job = state.training.job
    assert job.status == "done"
    curvature = client.get("/api/views/curvature").json()
    assert curvature["rows"], "no lambda_max estimate in a run with curvature on"
    assert curvature["seconds_spent"] <= 0.1 * job.active_seconds + 0.2
    row = curvature["rows"][-1]
    assert row["limit"] == pytest.approx(2 / row["lambda_max"])
    listing = client.get("/api/views/replay").json()
    assert listing["steps"][0] == 0 and listing["steps"][-1] == job.step and len(listing["steps"]) <= 200
    # a replayed step against the model saved at that step: the job's final model, saved and loaded
    path = tmp_path / "final.npz"
    save_model(path, job.result, job.meta)
    saved, _ = load_model(path)
    last = len(listing["steps"]) - 1
    replayed = client.post("/api/views/replay", json={"position": last, "image": [0.0] * 784}).json()
    x, y = job.test_pixels[:2000], job.test_labels[:2000]
    assert replayed["accuracy"] == float(np.mean(saved.predict(x, input_scale=PIXEL_SCALE) == y))
    assert replayed["step"] == job.step and replayed["reading"]["digit"] == int(saved(np.zeros((1, 784)))[0].argmax())
    first = client.post("/api/views/replay", json={"position": 0}).json()
    assert first["step"] == 0 and first["accuracy"] < replayed["accuracy"]
    surface = client.get("/api/views/surface?along=hessian").json()
    assert len(surface["cost"]) == 15 and surface["lambdas"][0] >= abs(surface["lambdas"][1])
    assert client.get("/api/views/surface?along=path").json()["along"] == "path"
    assert client.get("/api/views/surface?along=up").status_code == 400


def test_curvature_of_a_toy_run_is_the_scalar_engines_hvp(client, state):
    from microgrid.support.toy_curvature import lambda_max

    assert client.post("/api/views/curvature", json={"on": True}).json()["on"] is True
    # tanh and MSE: a relu net with the hinge loss is piecewise linear, its Hessian 0 almost everywhere
    body = {"steps": 300, "hidden": [8], "points": 40, "activation": "tanh", "loss": "mse", "momentum": 0.0}
    r = client.post("/api/train/toy", json=body)
    assert r.status_code == 200, r.text
    deadline = time.time() + 120
    while client.get("/api/train/status").json()["status"] in ("starting", "running") and time.time() < deadline:
        time.sleep(0.2)
    job = state.training.job
    curvature = client.get("/api/views/curvature").json()
    assert curvature["kind"] == "toy" and curvature["rows"], curvature
    assert curvature["seconds_spent"] <= 0.1 * (job._trained() + curvature["seconds_spent"]) + 0.5
    for row in curvature["rows"]:
        assert row["limit"] == pytest.approx(2 / row["lambda_max"]) if row["lambda_max"] > 0 else row["limit"] is None
    # at the final weights, the same power iteration by hvp gives a positive top curvature
    scores = [job.net(p)[0] for p in job.xs]
    top, _, _ = lambda_max(job._cost(scores), job.net.parameters(), iterations=200, tol=1e-9)
    assert top > 0 and all(row["lambda_max"] > 0 for row in curvature["rows"])
    client.post("/api/views/curvature", json={"on": False})


def test_a_fast_run_with_curvature_on_has_an_estimate_by_its_first_epochs_end():
    """However fast a run trains, ticking the box gives at least one lambda_max by the end of its first
    epoch: the budget alone (8% of a fraction of a second) can allow none, as a quiet machine showed."""
    from types import SimpleNamespace

    from microgrid.app.web.views_runs import RunViews

    rng = np.random.default_rng(0)
    model = FastMLP(784, [16, 10], "sigmoid", seed=0)
    pixels, labels = rng.integers(0, 256, (50, 784), dtype=np.uint8), rng.integers(0, 10, 50)
    views = RunViews(model, pixels, labels, "mse", lambda: 0.0)  # no training time yet: no budget at all
    views.switch_curvature(True)
    loop = SimpleNamespace(model=model, step=5, lr=3.0)
    views.batch_end(loop, 0.5)
    assert views.curvature.history == []  # the budget allowed none
    views.epoch_end(loop, {"loss": 0.5})
    (row,) = views.curvature.history
    assert row["step"] == 5 and row["lambda_max"] > 0 and row["limit"] == pytest.approx(2 / row["lambda_max"])
    views.epoch_end(loop, {"loss": 0.4})  # once a run has an estimate, the budget decides again
    assert len(views.curvature.history) == 1
