"""The web app's JSON API, checked against the engines themselves and hand-derived formulas."""

import base64
import json
import math
import time
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest

pytest.importorskip("starlette", reason="the web app needs the web extra: pip install 'microgrid[web]'")
pytest.importorskip("httpx", reason="Starlette's TestClient needs httpx (the test extra)")

from starlette.responses import JSONResponse  # noqa: E402
from starlette.routing import Route  # noqa: E402
from starlette.testclient import TestClient  # noqa: E402

from microgrid.app.web.server import MAX_BODY_BYTES, WebPart, create_app  # noqa: E402
from microgrid.app.web.state import load_state  # noqa: E402
from microgrid.digits.data import load_mnist, to_inputs  # noqa: E402
from microgrid.digits.fast import FastMLP  # noqa: E402
from microgrid.digits.predict import default_model, load_image, prepare, read_digit  # noqa: E402
from microgrid.support.chain import one_neuron_chain  # noqa: E402


@pytest.fixture(scope="module")
def state():
    return load_state()


@pytest.fixture(scope="module")
def client(state):
    return TestClient(create_app(state), base_url="http://127.0.0.1")


@pytest.fixture(scope="module")
def mnist():
    return load_mnist()


def one_stroke(width=120, height=100):
    canvas = np.zeros((height, width))
    canvas[10:90, 55:65] = 255.0
    return canvas


def body(canvas, **extra):
    h, w = canvas.shape
    return {"width": w, "height": h, "pixels": canvas.ravel().tolist(), **extra}


def sigmoid(z):
    return 1.0 / (1.0 + np.exp(-z))


def test_predict_prepares_the_drawing_as_predict_does(client):
    canvas = one_stroke()
    assert client.get("/api/models").json()["default"] == "notes"  # the notes' network first (issue 24)
    r = client.post("/api/predict", json=body(canvas, model="digits"))  # the bundled reader, as predict uses it
    assert r.status_code == 200, r.text[:300]
    got = r.json()
    expected_image = prepare(load_image(canvas), "the drawing").ravel()
    assert np.array_equal(np.array(got["image"]), expected_image)
    reading = read_digit(canvas)
    assert got["digit"] == reading.digit == 1
    assert np.allclose(got["layers"][-1], reading.activations, rtol=1e-6, atol=1e-6)
    assert np.allclose(got["probabilities"], reading.probabilities, atol=1e-6)
    model, _ = default_model()
    hidden = model.forward_all(expected_image[None])[1][0]
    assert np.allclose(got["layers"][0], hidden, rtol=1e-6, atol=1e-6)


def test_the_page_s_base64_bytes_read_as_the_list_of_numbers(client):
    canvas = one_stroke().astype(np.uint8)
    encoded = base64.b64encode(canvas.tobytes()).decode()
    as_bytes = client.post("/api/predict", json={"width": 120, "height": 100, "pixels_base64": encoded}).json()
    assert as_bytes == client.post("/api/predict", json=body(canvas.astype(float))).json()


def test_notes_model_reads_sigmoid_activations_without_probabilities(client, mnist):
    r = client.get("/api/example", params={"index": 0, "model": "notes"}).json()
    assert r["label"] == int(mnist.train_labels[0])
    assert np.allclose(r["image"], to_inputs(mnist.train_images[:1])[0])
    assert r["reading"]["probabilities"] is None
    assert all(0.0 < a < 1.0 for a in r["reading"]["layers"][-1])


def test_neuron_is_its_weights_times_the_image(client, state, mnist):
    image = to_inputs(mnist.train_images[1:2])[0]
    model, _ = state.model("notes")
    r = client.post("/api/neuron", json={"model": "notes", "layer": 1, "index": 5, "image": image.tolist()}).json()
    w = model.weights[0].data[5].astype(float)
    b = float(model.biases[0].data[5])
    assert np.allclose(r["weights"], w) and r["bias"] == pytest.approx(b)
    assert np.allclose(r["weighted_inputs"], w * image)
    assert r["weighted_sum"] == pytest.approx(float(w @ image))
    assert r["z"] == pytest.approx(float(w @ image) + b)
    assert r["a"] == pytest.approx(float(sigmoid(float(w @ image) + b)), rel=1e-5)
    second = client.post("/api/neuron", json={"model": "notes", "layer": 2, "index": 0, "image": image.tolist()}).json()
    assert len(second["weights"]) == 16
    a1 = sigmoid(model.weights[0].data.astype(float) @ image + model.biases[0].data)
    assert np.allclose(second["inputs"], a1, rtol=1e-5)


def test_network_edges_are_the_strongest_weights(client, state):
    model, _ = state.model("notes")
    net = client.get("/api/network", params={"model": "notes"}).json()
    assert net["sizes"] == [784, 16, 16, 10]
    for w, edges in zip(model.weights, net["edges"]):
        shown = {(j, k) for k, j, _ in edges}
        weakest_shown = min(abs(v) for *_, v in edges)
        strongest_left = max(abs(float(w.data[j, k])) for j in range(w.data.shape[0]) for k in range(w.data.shape[1])
                             if (j, k) not in shown) if len(shown) < w.data.size else 0.0
        assert weakest_shown >= strongest_left
        assert all(v == pytest.approx(float(w.data[j, k])) for k, j, v in edges)


def hand_backprop(model, x, target):
    """The notes' backpropagation equations in NumPy: dC0/da per layer and dC0/dW."""
    acts = [x]
    for w, b in zip(model.weights, model.biases):
        acts.append(sigmoid(w.data.astype(float) @ acts[-1] + b.data.astype(float)))
    y = np.eye(10)[target]
    grad_a = [None] * len(acts)
    grad_a[-1] = 2.0 * (acts[-1] - y)
    grad_w = [None] * len(model.weights)
    for n in range(len(model.weights), 0, -1):
        delta = grad_a[n] * acts[n] * (1 - acts[n])
        grad_w[n - 1] = np.outer(delta, acts[n - 1])
        grad_a[n - 1] = model.weights[n - 1].data.astype(float).T @ delta
    return acts, grad_a, grad_w


def test_nudges_match_the_notes_backpropagation_and_explain(client, state, mnist):
    x = to_inputs(mnist.train_images[2:3])[0]
    r = client.post("/api/nudges", json={"model": "notes", "image": x.tolist(), "target": 3}).json()
    model, _ = state.model("notes")
    acts, grad_a, grad_w = hand_backprop(model, x, 3)
    assert r["cost"] == pytest.approx(float(((acts[-1] - np.eye(10)[3]) ** 2).sum()), rel=1e-9)
    for n, layer in enumerate(r["layers"], start=1):
        assert np.allclose(layer["a"], acts[n], rtol=1e-9, atol=1e-12)
        assert np.allclose(layer["grad_a"], grad_a[n], rtol=1e-7, atol=1e-12)
        assert np.allclose(layer["nudge_a"], -grad_a[n], rtol=1e-7, atol=1e-12)
        if layer["grad_w"] is not None:
            assert np.allclose(layer["grad_w"], grad_w[n - 1], rtol=1e-7, atol=1e-12)
    ways = r["three_ways"]
    assert np.allclose(ways["weight_nudges"], -grad_w[2][3], rtol=1e-7, atol=1e-12)
    delta = grad_a[3][3] * acts[3][3] * (1 - acts[3][3])
    assert ways["bias_nudge"] == pytest.approx(-delta, rel=1e-7)
    assert np.allclose(ways["activation_nudges"], -model.weights[2].data[3].astype(float) * delta, rtol=1e-6)
    # the explain lines name the same grads the table shows
    line = next(s for s in r["explain"] if s.startswith("a_3(3)"))
    assert f"grad {r['layers'][2]['grad_a'][3]:.6g}" in line


def test_batch_average_matches_the_fast_path_and_step_lowers_the_cost(client, state, mnist):
    x = to_inputs(mnist.train_images[:1])[0]
    r = client.post("/api/batch", json={"model": "notes", "image": x.tolist(), "target": 5, "start": 0, "count": 20})
    assert r.status_code == 200, r.text[:300]
    got = r.json()
    model, _ = state.model("notes")
    fast = FastMLP.from_scalar(model.to_scalar())
    xs, labels = to_inputs(mnist.train_images[:20]), mnist.train_labels[:20]
    cost = fast.loss_and_backward(xs, labels, "mse")
    assert got["batch"]["cost"] == pytest.approx(cost, rel=1e-9)
    for layer, w in zip(got["batch"]["layers"], fast.weights):
        if layer["grad_w"] is not None:
            assert np.allclose(layer["grad_w"], w.grad, rtol=1e-6, atol=1e-12)
    hand = [hand_backprop(model, xi, int(t))[1] for xi, t in zip(xs, labels)]
    assert np.allclose(got["batch"]["layers"][-1]["grad_a"], sum(h[-1] for h in hand) / 20, rtol=1e-7, atol=1e-12)
    step = client.post("/api/step", json={"model": "notes", "start": 0, "count": 20, "lr": 3.0}).json()
    assert step["cost_before"] == pytest.approx(cost, rel=1e-5)
    assert step["cost_after"] < step["cost_before"]
    stepped, meta = state.model(step["model"])
    assert meta["steps"] == 1 and step["model"] == "notes (stepped)"
    for before, after, grad in zip(model.parameters(), stepped.parameters(), fast.parameters()):
        assert np.allclose(after.data, before.data.astype(float) - 3.0 * grad.grad, rtol=1e-4, atol=1e-5)
    again = client.post("/api/step", json={"model": step["model"], "start": 0, "count": 20}).json()
    assert again["steps"] == 2 and again["cost_before"] == pytest.approx(step["cost_after"], rel=1e-5)


def test_chain_matches_the_hand_derivation_and_central_differences(client):
    w, b, a_prev, y = 2.5, -0.7, 0.3, 0.9
    r = client.post("/api/chain", json={"w": w, "b": b, "a_prev": a_prev, "y": y}).json()
    z = w * a_prev + b
    a = 1 / (1 + math.exp(-z))
    hand = a_prev * a * (1 - a) * 2 * (a - y)
    assert r["values"]["z(L)"] == pytest.approx(z) and r["values"]["C0"] == pytest.approx((a - y) ** 2)
    assert r["factors"] == pytest.approx([a_prev, 1.0, a * (1 - a), 1.0, 2 * (a - y)])
    assert r["product"] == pytest.approx(hand, rel=1e-12) and r["dC0_dw"] == pytest.approx(hand, rel=1e-12)

    def cost(wv):
        return (1 / (1 + math.exp(-(wv * a_prev + b))) - y) ** 2

    h = 1e-6
    assert r["dC0_dw"] == pytest.approx((cost(w + h) - cost(w - h)) / (2 * h), rel=1e-6)
    assert r["dC0_dw"] == one_neuron_chain(a_prev=a_prev, w=w, b=b, y=y).highlight.grad


@pytest.mark.parametrize(
    "path, content, status, words",
    [
        ("/api/predict", b"{not json", 400, "malformed JSON"),
        ("/api/predict", b"[1, 2]", 400, "expected a JSON object"),
        ("/api/predict", b"", 400, "no body"),
        ("/api/predict", json.dumps({"width": 10, "height": 10, "pixels": [0] * 99}).encode(), 400, "got 99"),
        ("/api/predict", b'{"width": 10, "height": 10, "pixels": [NaN]}', 400, "NaN"),
        ("/api/predict", json.dumps({"width": 10, "height": 10, "pixels": [1] * 99 + [True]}).encode(), 400, "true"),
        ("/api/predict", b'{"width": 10, "height": 10, "pixels_base64": "AAAA"}', 400, "100 bytes (10x10), got 3"),
        ("/api/predict", b'{"width": 10, "height": 10, "pixels_base64": "%%%"}', 400, "not base64"),
        ("/api/predict", b'{"width": 10, "height": 10}', 400, "either 'pixels'"),
        ("/api/predict", b'{"width": 10, "height": 10, "pixels": [' + b"0," * 99 + b"1e999]}", 400, "non-finite"),
        ("/api/predict", json.dumps({"width": 10, "height": 10, "pixels": [0] * 100}).encode(), 422, "all one colour"),
        ("/api/predict", json.dumps({"width": 10, "height": 10, "pixels": [300] * 100}).encode(), 422, "[0, 255]"),
        ("/api/chain", b'{"w": Infinity, "b": 0, "a_prev": 0, "y": 0}', 400, "Infinity"),
        ("/api/chain", b'{"w": "big", "b": 0, "a_prev": 0, "y": 0}', 400, "'w' must be a number"),
        ("/api/chain", b'{"b": 0, "a_prev": 0, "y": 0}', 400, "'w' is missing"),
        ("/api/nudges", json.dumps({"image": [0.5] * 784, "target": 12}).encode(), 422, "'target' must be in [0, 9]"),
        ("/api/nudges", json.dumps({"model": "nope", "image": [0.5] * 784, "target": 1}).encode(), 404, "no model"),
        ("/api/neuron", json.dumps({"layer": 1, "index": 300, "image": [0] * 784}).encode(), 422, "'index' must be"),
        ("/api/predict", b"x" * (MAX_BODY_BYTES + 1), 413, "over the limit"),
    ],
    ids=lambda v: v if isinstance(v, str) and not v.startswith("/") else None,
)
def test_bad_requests_get_one_line_and_the_server_keeps_serving(client, path, content, status, words):
    r = client.post(path, content=content, headers={"Content-Type": "application/json"})
    assert r.status_code == status, r.text[:300]
    message = r.json()["error"]
    assert words in message and "\n" not in message and "Traceback" not in message
    assert client.post("/api/chain", json={"w": 1, "b": 0, "a_prev": 0.5, "y": 1}).status_code == 200


def test_a_streamed_body_over_the_limit_is_refused(client):
    def chunks():
        for _ in range(MAX_BODY_BYTES // 100_000 + 2):
            yield b" " * 100_000

    r = client.post("/api/predict", content=chunks(), headers={"Content-Type": "application/json"})
    assert r.status_code == 413 and "over the limit" in r.json()["error"]


def test_unknown_paths_and_methods_answer_json(client):
    assert client.get("/api/nothing").json() == {"error": "/api/nothing: Not Found"}
    assert client.get("/api/chain").status_code == 405


def test_several_tabs_at_once(client):
    canvases = [one_stroke(), one_stroke(90, 140)]

    def ask(i):
        if i % 2:
            return client.post("/api/chain", json={"w": i / 10, "b": 0.1, "a_prev": 0.5, "y": 1}).json()["dC0_dw"]
        return client.post("/api/predict", json=body(canvases[i % 4 // 2])).json()["digit"]

    with ThreadPoolExecutor(8) as pool:
        answers = list(pool.map(ask, range(32)))
    for i, got in enumerate(answers):
        expected = one_neuron_chain(a_prev=0.5, w=i / 10, b=0.1, y=1).highlight.grad if i % 2 else 1
        assert got == pytest.approx(expected)


def test_a_slow_mini_batch_does_not_hold_up_another_tab(client, mnist):
    x = to_inputs(mnist.train_images[:1])[0].tolist()
    with ThreadPoolExecutor(2) as pool:
        slow = pool.submit(client.post, "/api/batch", json={"model": "notes", "image": x, "target": 5, "count": 100})
        time.sleep(0.2)  # the batch is under way: 100 examples on the scalar engine take seconds
        quick = client.post("/api/predict", json=body(one_stroke()))
        assert quick.status_code == 200 and not slow.done()
        assert slow.result().status_code == 200


def test_a_part_adds_routes_and_page_files(state):
    def routes(app_state):
        async def hello(request):
            return JSONResponse({"models": sorted(app_state.models)})

        return [Route("/api/extra/hello", hello)]

    app = create_app(state, [*__import__("microgrid.app.web.server", fromlist=["PARTS"]).PARTS,
                             WebPart("extra", routes, scripts=("extra.js",), styles=("extra.css",))])
    c = TestClient(app, base_url="http://127.0.0.1")
    page = c.get("/").text
    assert '<script type="module" src="/static/extra.js"></script>' in page
    assert '<link rel="stylesheet" href="/static/extra.css">' in page
    assert "digits" in c.get("/api/extra/hello").json()["models"]


def test_add_model_makes_it_available_and_refuses_wrong_shapes(state, client):
    state.add_model("tiny", FastMLP(784, [10], seed=1), {"note": "test"})
    assert "tiny" in [m["name"] for m in client.get("/api/models").json()["models"]]
    r = client.post("/api/predict", json=body(one_stroke(), model="tiny"))
    assert r.status_code == 200 and len(r.json()["layers"]) == 1
    with pytest.raises(ValueError, match="784 pixels to 10 digits"):
        state.add_model("wrong", FastMLP(784, [3]))


def test_the_page_and_its_modules_are_served(client):
    page = client.get("/")
    assert page.status_code == 200 and '<script type="module" src="/static/app.js">' in page.text
    names = ("app.js", "api.js", "draw.js", "network.js", "neuron.js", "nudges.js", "chain.js", "paint.js", "style.css")
    texts = [client.get(f"/static/{name}") for name in names]
    assert all(t.status_code == 200 for t in texts)
    # offline: nothing is fetched from another site (the SVG namespace is a name, not a download)
    assert "http" not in "".join(t.text for t in texts).replace("http://www.w3.org/2000/svg", "") + page.text
