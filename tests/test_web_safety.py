"""The local server tried as an attacker would (issue 22): other sites, other Host names, hostile
input and costly requests each get a 4xx with one line, and nothing grows without bound."""

from __future__ import annotations

import gc
import http.client
import json
import weakref
from urllib.parse import urlsplit

import numpy as np
import pytest

pytest.importorskip("starlette", reason="the web app needs the web extra: pip install -e '.[web]'")
pytest.importorskip("httpx", reason="Starlette's TestClient needs httpx (the test extra)")

from starlette.testclient import TestClient  # noqa: E402
from web_server import running_server  # noqa: E402

from microgrid.app.web.api import SCALAR_WORK  # noqa: E402
from microgrid.app.web.gate import MAX_BODY_BYTES  # noqa: E402
from microgrid.app.web.server import create_app  # noqa: E402
from microgrid.app.web.state import load_state  # noqa: E402
from microgrid.app.web.training import KEEP_MODELS  # noqa: E402
from microgrid.digits.fast import FastMLP  # noqa: E402

IMAGE = [0.25] * 784


@pytest.fixture(scope="module")
def state():
    return load_state()


@pytest.fixture(scope="module")
def client(state):
    with TestClient(create_app(state, hosts=["mybox.lan"]), base_url="http://127.0.0.1") as client:
        yield client


def one_line(response, status, words=""):
    assert response.status_code == status, response.text[:300]
    message = response.json()["error"]
    assert words in message and "\n" not in message and "Traceback" not in message
    return message


# -- other Host names (DNS rebinding) ------------------------------------------------------


@pytest.mark.parametrize("path", ["/api/models", "/api/network", "/api/train/model.npz", "/", "/static/api.js"])
def test_a_host_name_the_server_does_not_serve_gets_421(client, path):
    one_line(client.get(path, headers={"Host": "attacker.example:8000"}), 421, "not 'attacker.example:8000'")


@pytest.mark.parametrize("host", ["localhost:8000", "127.0.0.1:8000", "[::1]:8000", "LOCALHOST", "mybox.lan:8000"])
def test_the_names_served_are_answered(client, host):
    assert client.get("/api/models", headers={"Host": host}).status_code == 200


# -- requests from other sites (CSRF) ---------------------------------------------------------


@pytest.mark.parametrize(
    "path", ["/api/train/start", "/api/train/stop", "/api/step", "/api/train/toy", "/api/predict"]
)
@pytest.mark.parametrize(
    "headers, status, words",
    [
        ({"Content-Type": "text/plain"}, 415, "must send Content-Type: application/json, got text/plain"),
        ({"Content-Type": "application/x-www-form-urlencoded"}, 415, "application/json"),
        ({}, 415, "got none"),
        ({"Content-Type": "application/json", "Origin": "https://evil.example"}, 403, "another origin"),
        ({"Content-Type": "application/json", "Origin": "null"}, 403, "another origin"),
        ({"Content-Type": "application/json", "Sec-Fetch-Site": "cross-site"}, 403, "another site"),
        ({"Content-Type": "application/json", "Sec-Fetch-Site": "same-site"}, 403, "another site"),
    ],
)
def test_a_write_from_another_site_is_refused_and_changes_nothing(client, state, path, headers, status, words):
    models = dict(state.models)
    one_line(client.post(path, content=b"", headers=headers), status, words)
    assert client.get("/api/train/status").json() == {"status": "idle"} and state.models == models


def test_the_pages_own_writes_are_served(client):
    same = {"Origin": "http://127.0.0.1", "Sec-Fetch-Site": "same-origin"}
    r = client.post("/api/chain", json={"w": 1, "b": 0, "a_prev": 0.5, "y": 1}, headers=same)
    assert r.status_code == 200
    assert client.post("/api/train/stop", json={}, headers=same).status_code == 409  # no job: refused on its merits


# -- hostile input --------------------------------------------------------------------------


@pytest.mark.parametrize(
    "query, words",
    [("index=%C2%B2", "whole number"), ("index=" + "9" * 5000, "whole number"), ("index=-1", "whole number"),
     ("index=60000", "must be in [0, 59999]")],
)  # fmt: skip
def test_example_indexes_that_are_not_plain_numbers(client, query, words):
    one_line(client.get("/api/example?" + query), 400 if "whole" in words else 422, words)


@pytest.mark.parametrize(
    "path, body, status, words",
    [
        ("/api/chain", b'{"w": ' + b"9" * 5000 + b', "b": 0, "a_prev": 0, "y": 0}', 400, "cannot be read"),
        ("/api/predict", b"[" * 100_000, 400, "nests lists or objects more than 64 deep"),
        ("/api/predict", b'{"a": ' + b"[" * 5000 + b"]" * 5000 + b"}", 400, "more than 64 deep"),
        ("/api/train/start", b'{"preset": []}', 422, "preset must be one of"),
        ("/api/train/start", b'{"preset": {"a": 1}}', 422, "preset must be one of"),
        ("/api/train/toy", b'{"dataset": []}', 422, "dataset must be"),
        ("/api/train/control", b'{"lr": ' + b"1" * 5000 + b"}", 400, "cannot be read"),
    ],
)
def test_hostile_bodies_get_one_line_not_a_500(client, path, body, status, words):
    one_line(client.post(path, content=body, headers={"Content-Type": "application/json"}), status, words)
    assert client.post("/api/chain", json={"w": 1, "b": 0, "a_prev": 0.5, "y": 1}).status_code == 200


def test_a_body_over_the_limit_gets_a_readable_413_on_a_real_connection():
    """With a Content-Length, the body was refused unread and the client saw a TCP reset."""
    with running_server() as (url, _):
        parts = urlsplit(url)
        conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=30)
        for size in (2_000_000, MAX_BODY_BYTES + 1):
            conn.request("POST", "/api/predict", body=b" " * size, headers={"Content-Type": "application/json"})
            answer = conn.getresponse()
            assert answer.status == 413 and "over the limit" in json.loads(answer.read())["error"]
            conn.close()
        conn.request("GET", "/api/example?index=%C2%B2")  # a refusal keeps the connection open
        answer = conn.getresponse()
        assert answer.status == 400 and answer.getheader("connection") != "close"
        answer.read()
        conn.request("GET", "/api/models")
        assert conn.getresponse().status == 200


# -- bounded cost -----------------------------------------------------------------------------


def test_nudges_and_batches_of_a_model_too_large_for_the_scalar_engine_are_refused_before_work(client, state):
    wide = FastMLP(784, [1024, 1024, 1024, 1024, 10], "relu", dtype=np.float32, seed=1)
    state.add_model("wide", wide, {})
    for path in ("/api/nudges", "/api/batch"):
        r = client.post(path, json={"model": "wide", "image": IMAGE, "target": 3})
        one_line(r, 422, "too large for the scalar engine's nudges: at most 64 neurons a layer")
    state.remove_model("wide")


def test_a_batch_holds_at_most_100_images_and_about_a_second_of_scalar_work(client, state):
    one_line(client.post("/api/batch", json={"model": "notes", "image": IMAGE, "target": 3, "count": 1000}), 422,
             "'count' must be in [1, 100]")  # fmt: skip
    state.add_model("w64", FastMLP(784, [64, 10], "sigmoid", seed=2), {})
    r = client.post("/api/batch", json={"model": "w64", "image": IMAGE, "target": 3, "count": 100})
    assert r.status_code == 200, r.text[:200]
    assert r.json()["batch"]["count"] == SCALAR_WORK // (785 * 64 + 65 * 10) == 49
    state.remove_model("w64")
    r = client.post("/api/batch", json={"model": "notes", "image": IMAGE, "target": 3, "count": 100})
    assert r.json()["batch"]["count"] == 100  # the notes' network: the page's whole mini-batch


def test_only_the_last_trained_models_are_kept_and_the_rest_are_freed(state):
    from microgrid.app.web.training import TrainingState

    training = TrainingState(add_model=state.add_model, remove_model=state.remove_model)
    bundled = set(state.models)
    alive = []
    for k in range(KEEP_MODELS + 3):
        model = FastMLP(784, [8, 10], seed=k)
        alive.append(weakref.ref(model))
        assert training.keep_model(model, {}) == f"trained-{k + 1}"
    del model
    gc.collect()
    kept = [f"trained-{k + 1}" for k in range(3, KEEP_MODELS + 3)]
    assert list(training.models) == kept and set(state.models) == bundled | set(kept)
    assert [ref() is None for ref in alive] == [True] * 3 + [False] * KEEP_MODELS
    assert training.last_model == kept[-1]
    for name in kept:
        state.remove_model(name)
    assert set(state.models) == bundled
    state.remove_model("notes")  # the bundled models stay
    assert "notes" in state.models
