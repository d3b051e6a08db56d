"""The training panel's API (/api/train): jobs steered while they run, checked against the
training loop of ``python -m microgrid train`` and hand-computed SGD steps."""

from __future__ import annotations

import copy
import io
import json
import time

import numpy as np
import pytest

pytest.importorskip("starlette", reason="the web app needs the web extra: pip install -e '.[web]'")
pytest.importorskip("httpx", reason="Starlette's TestClient needs httpx")

from starlette.testclient import TestClient  # noqa: E402

from microgrid.app.web.learn_app import create_app  # noqa: E402
from microgrid.app.web.training import TrainingState  # noqa: E402
from microgrid.digits.data import PIXEL_SCALE, load_mnist  # noqa: E402
from microgrid.digits.model_file import load_model  # noqa: E402
from microgrid.digits.train import TrainConfig, batch_order, train  # noqa: E402

JSON = {"Content-Type": "application/json"}
SMALL = {"preset": "notes", "limit": 3000, "epochs": 2, "views": False}


@pytest.fixture(scope="module")
def state():
    state = TrainingState()
    state.dataset()  # load MNIST once for the module
    return state


@pytest.fixture
def client(state):
    with TestClient(create_app(state), base_url="http://127.0.0.1") as client:
        yield client
    state.shutdown()


def wait_for(client, done, timeout=60.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        snap = client.get("/api/train/status").json()
        if done(snap):
            return snap
        time.sleep(0.02)
    raise AssertionError(f"timed out; last state {snap['status']} at step {snap.get('step')}")


def finished(snap):
    return snap["status"] in ("done", "stopped", "diverged", "failed")


def start_paused(client, settings):
    """Start a job and pause it before it gets far; returns the paused state."""
    assert client.post("/api/train/start", json=settings).status_code == 200
    client.post("/api/train/pause", json={})
    return wait_for(client, lambda s: s["status"] == "paused")


@pytest.mark.parametrize("extra", [{}, {"weight_decay": 1e-3}], ids=["plain", "weight-decay"])
def test_first_epochs_equal_the_train_command(client, state, extra):
    """Same configuration, same seed: the job's epochs are train()'s, number for number."""
    client.post("/api/train/start", json={**SMALL, **extra})
    snap = wait_for(client, finished)
    assert snap["status"] == "done", snap["message"]
    config = TrainConfig(**{**state.job.config.__dict__})
    model, history = train(config, state.dataset(), progress=False, log=lambda line: None)
    for ours, theirs in zip(snap["history"], history):
        assert ours["loss"] == pytest.approx(theirs["loss"], rel=1e-6)
        assert ours["test_accuracy"] == theirs["test_accuracy"]
    np.testing.assert_array_equal(state.job.result.flat_parameters()[0].data, model.flat_parameters()[0].data)
    assert snap["step"] == len(snap["costs"]["values"]) == 2 * 30  # 3000 images in batches of 100, twice
    confusion = np.array(snap["final"]["confusion"])
    assert confusion.sum() == 10_000 and np.trace(confusion) == 10_000 - snap["final"]["wrong"]
    assert np.trace(confusion) / 10_000 == pytest.approx(history[-1]["test_accuracy"])


def test_pause_resume_stop_and_the_model_file(client, state, tmp_path):
    paused = start_paused(client, {**SMALL, "epochs": 50})
    time.sleep(0.3)
    assert client.get("/api/train/status").json()["step"] == paused["step"]  # nothing moves while paused
    assert client.post("/api/train/resume", json={}).json()["action"] == "resume"
    wait_for(client, lambda s: s["step"] > paused["step"] + 5)
    assert client.post("/api/train/stop", json={}).status_code == 200
    snap = wait_for(client, finished)
    assert snap["status"] == "stopped" and snap["final"]["model"] in state.models
    response = client.get("/api/train/model.npz")
    assert response.status_code == 200 and "attachment" in response.headers["content-disposition"]
    path = tmp_path / "web.npz"
    path.write_bytes(response.content)
    model, meta = load_model(path)
    np.testing.assert_array_equal(model.flat_parameters()[0].data, state.job.result.flat_parameters()[0].data)
    assert meta["config"]["sizes"] == [784, 16, 16, 10] and meta["command"].startswith("python -m microgrid train")
    test = load_mnist().test_images.reshape(10_000, -1)
    accuracy = np.mean(model.predict(test, input_scale=PIXEL_SCALE) == load_mnist().test_labels)
    assert accuracy == pytest.approx(snap["final"]["accuracy"])


def test_a_new_learning_rate_is_used_from_the_next_batch(client, state):
    """Paused at step k: set lr, take one step; the weights move by exactly -lr * the batch's gradient."""
    # notes-plain: no shifted digits and no weight decay, so the step is exactly -lr * the gradient
    paused = start_paused(client, {**SMALL, "preset": "notes-plain", "epochs": 50, "lr": 3.0})
    job = state.job
    before = copy.deepcopy(job.model)
    order, position = job._at
    idx = order[position : position + job.batch_size]
    data = state.dataset()
    pixels = data.train_images[:3000].reshape(3000, -1)[idx]
    before.loss_and_backward(pixels, data.train_labels[idx].astype(np.intp), "mse", input_scale=PIXEL_SCALE)
    expected = before.flat_parameters()[0].data - 0.25 * before.flat_parameters()[0].grad
    assert np.array_equal(order, batch_order(0, paused["epoch"], 3000))  # the train command's shuffle

    assert client.post("/api/train/control", json={"lr": 0.25}).status_code == 200
    client.post("/api/train/step", json={})
    snap = wait_for(client, lambda s: s["step"] == paused["step"] + 1 and s["status"] == "paused")
    np.testing.assert_allclose(job.model.flat_parameters()[0].data, expected, rtol=1e-5, atol=1e-6)
    assert snap["lr_changes"][-1] == {"step": paused["step"] + 1, "lr": 0.25} and snap["lr"] == 0.25
    client.post("/api/train/stop", json={})
    wait_for(client, finished)


def test_a_new_batch_size_takes_the_next_batch(client, state):
    paused = start_paused(client, {**SMALL, "epochs": 50})
    client.post("/api/train/control", json={"batch_size": 37})
    client.post("/api/train/step", json={})
    snap = wait_for(client, lambda s: s["step"] == paused["step"] + 1 and s["status"] == "paused")
    assert snap["samples_done"] - paused["samples_done"] == 37
    assert snap["batch_changes"][-1] == {"step": paused["step"] + 1, "batch_size": 37}
    client.post("/api/train/stop", json={})
    wait_for(client, finished)


def test_a_second_start_is_refused_and_the_first_job_can_be_watched(client):
    start_paused(client, {**SMALL, "epochs": 50})
    second = client.post("/api/train/start", json=SMALL)
    assert second.status_code == 409
    assert "already running" in second.json()["error"] and "\n" not in second.json()["error"]
    assert client.post("/api/train/toy", json={}).status_code == 409
    assert client.get("/api/train/status").json()["status"] == "paused"  # another tab sees the job
    client.post("/api/train/stop", json={})
    wait_for(client, finished)
    assert client.post("/api/train/pause", json={}).status_code == 409  # nothing left to pause


def test_divergence_stops_with_a_message_and_keeps_good_weights(client, state):
    bad = {"sizes": [784, 32, 10], "activation": "relu", "output_activation": "linear", "loss": "mse",
           "init": "default", "lr": 90.0, "limit": 3000, "epochs": 5, "views": False}  # fmt: skip
    client.post("/api/train/start", json=bad)
    snap = wait_for(client, finished)
    assert snap["status"] == "diverged"
    assert "the loss became" in snap["message"] and "smaller learning rate than 90" in snap["message"]
    assert "kept the weights of step" in snap["message"]
    weights = state.job.result.flat_parameters()[0].data
    assert np.isfinite(weights).all()
    good_step, good = state.job._last_good
    np.testing.assert_array_equal(weights, good)
    assert np.isfinite(snap["final"]["accuracy"])


@pytest.mark.parametrize(
    "settings, named",
    [
        ({"lr": 0}, "lr must be above 0 and at most 100, got 0"),
        ({"lr": 1e9}, "lr must be above 0 and at most 100"),
        ({"lr": "fast"}, "lr must be a number, got 'fast'"),
        ({"batch_size": 0}, "batch_size must be at least 1 and at most 10000, got 0"),
        ({"batch_size": 2.5}, "batch_size must be a whole number, got 2.5"),
        ({"epochs": 1000}, "epochs must be at least 1 and at most 100, got 1000"),
        ({"momentum": 1.0}, "momentum must be at least 0 and below 1, got 1.0"),
        ({"sizes": [784, 2000, 10]}, "each hidden layer must have 1 to 1024 neurons, got 2000"),
        ({"sizes": [784, 8, 8, 8, 8, 8, 10]}, "at most 4 hidden layers, got 5"),
        ({"sizes": [700, 16, 10]}, "sizes must start with 784"),
        ({"activation": "swish"}, "activation must be one of sigmoid, relu, tanh, linear, got 'swish'"),
        ({"loss": "hinge"}, "loss must be one of mse, cross_entropy, got 'hinge'"),
        ({"optimizer": "lbfgs"}, "optimizer must be one of sgd, adam, got 'lbfgs'"),
        ({"preset": "fastest"}, "preset must be one of notes, notes-plain, notes-best, best, got 'fastest'"),
        ({"limit": 0}, "limit must be 1 to 60000 training images, got 0"),
        ({"colour": "red"}, "unknown setting 'colour'"),
    ],
)
def test_settings_out_of_range_get_one_line_naming_the_value(client, settings, named):
    response = client.post("/api/train/start", json=settings)
    assert response.status_code == 422
    error = response.json()["error"]
    assert named in error and "\n" not in error


def test_malformed_requests(client):
    assert client.post("/api/train/start", content=b"{not json", headers=JSON).status_code == 400
    huge = json.dumps({"sizes": [784] + [16] * 300_000 + [10]}).encode()
    assert client.post("/api/train/start", content=huge, headers=JSON).status_code == 413
    assert client.get("/api/train/status?since=x").status_code == 400
    listed = client.post("/api/train/start", json=[1, 2])
    assert listed.status_code == 400 and "expected a JSON object, got a JSON list" in listed.json()["error"]
    assert client.post("/api/train/control", json={"lr": 1}).status_code == 409  # no job running
    start_paused(client, SMALL)
    for body, named in (({"momentum": 0.5}, "only lr, batch_size and pace"), ({"lr": -1}, "lr must be above 0")):
        response = client.post("/api/train/control", json=body)
        assert response.status_code == 422 and named in response.json()["error"]
    client.post("/api/train/stop", json={})
    wait_for(client, finished)


def merged_events(client, path="/api/train/events?until=end"):
    """Every state event of the stream, each merged into the state before it, as a page merges them."""
    costs, states, state = [], [], {}
    with client.stream("GET", path) as stream:
        for line in stream.iter_lines():
            if line.startswith("data: "):
                event = json.loads(line[6:])
                if event.get("full"):
                    state = {}
                if "costs" in event:
                    assert event["costs"]["start"] == len(costs) and (event["costs"]["values"] or event.get("full"))
                    costs.extend(event["costs"]["values"])
                state = {**state, **event}
                states.append(state)
    return states, costs


def test_the_event_stream_carries_every_cost_once(client, state):
    client.post("/api/train/start", json={**SMALL, "views": True})
    events, costs = merged_events(client)
    assert events[-1]["status"] == "done" and len(events) >= 2
    np.testing.assert_allclose(costs, state.job.costs, rtol=1e-5)
    weights = events[-1]["weights"]
    assert weights["indices"] == list(range(16)) and weights["side"] == 28
    w = np.frombuffer(__import__("base64").b64decode(weights["data"]), np.int8).reshape(16, 784)
    first = state.job.model.weights[0].data
    np.testing.assert_allclose(w / 127 * np.array(weights["scale"])[:, None], first, atol=np.abs(first).max() / 120)
    assert events[-1]["surface"] is not None  # the surface around the final weights
    assert [row["epoch"] for row in events[-1]["history"]] == [1, 2]
    assert events[-1] == {**client.get("/api/train/status").json(), "full": True, "costs": events[-1]["costs"]}


def test_the_toy_learns_xor(client):
    response = client.post("/api/train/toy", json={"dataset": "xor", "hidden": [4], "activation": "tanh",
                                                   "loss": "mse", "lr": 0.5, "steps": 400})  # fmt: skip
    assert response.status_code == 200
    snap = wait_for(client, finished, timeout=120)
    assert snap["status"] == "done" and snap["final"]["accuracy"] == 1.0
    scores = np.array(snap["boundary"]["scores"])  # the grid runs from the top left corner
    x0, x1, y0, y1 = snap["extent"]
    side = snap["boundary"]["side"]
    for (x, y), label in zip(snap["points"], snap["labels"]):
        j, i = round((x - x0) / (x1 - x0) * (side - 1)), round((y1 - y) / (y1 - y0) * (side - 1))
        assert (scores[i, j] > 0) == (label > 0)


@pytest.mark.parametrize(
    "settings, named",
    [({"dataset": "spiral"}, "dataset must be moons or xor"), ({"hidden": [64]}, "1 to 32 neurons, got 64"),
     ({"steps": 0}, "steps must be a whole number from 1 to 2000, got 0"), ({"lr": 0}, "lr must be above 0")],
)  # fmt: skip
def test_toy_settings_out_of_range(client, settings, named):
    response = client.post("/api/train/toy", json=settings)
    assert response.status_code == 422 and named in response.json()["error"]


def test_options_and_no_model_yet():
    with TestClient(create_app(TrainingState()), base_url="http://127.0.0.1") as fresh:
        assert fresh.get("/api/train/model.npz").status_code == 404
        assert fresh.get("/api/train/status").json() == {"status": "idle"}
        options = fresh.get("/api/train/options").json()
        assert options["presets"]["notes"]["sizes"] == [784, 16, 16, 10]
        assert options["limits"]["layer_size"] == 1024
        page = fresh.get("/learn")
        assert page.status_code == 200 and "/static/learn.js" in page.text
        assert "LEARN_HTML" in fresh.get("/static/learn.js").text


def test_model_bytes_are_a_model_file(tmp_path):
    from microgrid.app.web.training_report import model_bytes
    from microgrid.digits.fast import FastMLP

    model = FastMLP(784, [5, 10], seed=3)
    blob = model_bytes(model, {"note": "x"})
    assert np.load(io.BytesIO(blob), allow_pickle=False)["W1"].shape == (5, 784)


def test_a_stream_sends_only_what_changed_and_nothing_while_idle_but_a_keep_alive(client, monkeypatch):
    """After a job ends, an open tab got its 56 kB state five times a second for good (issue 22)."""
    from microgrid.app.web import training

    client.post("/api/train/start", json={**SMALL, "views": True})
    wait_for(client, finished)
    monkeypatch.setattr(training, "STREAM_SECONDS", 2.0)
    monkeypatch.setattr(training, "KEEP_ALIVE_SECONDS", 0.5)
    with client.stream("GET", "/api/train/events") as stream:
        lines = [line for line in stream.iter_lines() if line]
    assert lines[0] == f"retry: {training.RECONNECT_MS}"
    data = [line for line in lines if line.startswith("data: ")]
    assert len(data) == 1 and json.loads(data[0][6:])["full"] and json.loads(data[0][6:])["status"] == "done"
    rest = lines[lines.index(data[0]) + 1 :]
    assert 2 <= len(rest) <= 4 and set(rest) == {": keep-alive"}  # one every 0.5 s, then closed


def test_the_toy_steps_one_at_a_time_and_takes_a_new_lr(client, state):
    client.post("/api/train/toy", json={"steps": 500})
    client.post("/api/train/pause", json={})
    paused = wait_for(client, lambda s: s["status"] == "paused")
    assert client.post("/api/train/control", json={"lr": 0.05}).status_code == 200
    refused = client.post("/api/train/control", json={"batch_size": 10})
    assert refused.status_code == 422 and "only lr can change" in refused.json()["error"]
    client.post("/api/train/step", json={})
    snap = wait_for(client, lambda s: s["step"] == paused["step"] + 1 and s["status"] == "paused")
    assert snap["lr"] == 0.05 and state.job.optimizer.lr == 0.05
    client.post("/api/train/stop", json={})
    assert wait_for(client, finished)["status"] == "stopped"


@pytest.mark.parametrize("preset", ["notes", "notes-plain", "notes-best", "best"])
def test_every_train_preset_starts_with_its_own_settings(client, state, preset):
    """A preset's every setting (shifts and weight decay included) is one the panel runs."""
    from microgrid.digits.train import PRESETS

    response = client.post("/api/train/start", json={"preset": preset, "limit": 600, "epochs": 1})
    assert response.status_code == 200, response.text
    snap = wait_for(client, finished)
    assert snap["status"] == "done", snap["message"]
    config = state.job.config
    for name, value in PRESETS[preset].items():
        if name != "epochs":
            assert getattr(config, name) == value, name


def test_a_pace_runs_that_many_steps_a_second_and_null_is_full_speed(client, state):
    paused = start_paused(client, {**SMALL, "epochs": 50})
    assert client.post("/api/train/control", json={"pace": 10}).status_code == 200
    client.post("/api/train/resume", json={})
    wait_for(client, lambda s: s["step"] >= paused["step"] + 2)
    first = client.get("/api/train/status").json()["step"]
    time.sleep(1.5)
    taken = client.get("/api/train/status").json()["step"] - first
    assert 8 <= taken <= 17, taken  # 15 at 10 a second, give or take a shared machine's hiccups
    for bad in (0, 5000, "fast"):  # asked while the job runs (at full speed it may soon be over: then 409)
        assert client.post("/api/train/control", json={"pace": bad}).status_code == 422
    assert client.post("/api/train/control", json={"pace": None}).status_code == 200
    time.sleep(1.0)
    assert client.get("/api/train/status").json()["step"] - first > 60  # 3000 images: 30 steps an epoch
    client.post("/api/train/stop", json={})
    wait_for(client, finished)
