"""The views of issue 25 in a real browser (Playwright + Debian's Chromium), each number the
page shows checked against a second computation made here.

1. a matrix cell: the chain's product, the Value.grad and the fast path's cell, against a
   fresh scalar MLP backpropagated in this process;
2. ascent and noise: the score shown against the notes' network run here on the image the
   server climbed, and the answer to noise against a forward pass here;
3. curvature: lambda_max of the Hessian slice against power iteration on finite differences
   of fast-path gradients, a different method;
4. replay: the accuracy shown at the last step against the model file the run saved;
5. mistakes: the final costs and lambda_max against ``run_lesson`` run here.
"""

from __future__ import annotations

import json
import shutil
import sys
from pathlib import Path

import numpy as np
import pytest

CHROMIUM = Path("/usr/bin/chromium")
sync_api = pytest.importorskip("playwright.sync_api", reason="browser tests need playwright (the test extra)")
pytest.importorskip("starlette", reason="the web app needs the web extra: pip install 'microgrid[web]'")
if not CHROMIUM.exists():
    pytest.skip(f"browser tests need Chromium at {CHROMIUM}; found: {shutil.which('chromium')}",
                allow_module_level=True)  # fmt: skip

from web_server import open_tab  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "docs"))
from views_pictures import wait_for_api  # noqa: E402

from microgrid.app.web.state import NOTES_MODEL  # noqa: E402
from microgrid.digits.data import PIXEL_SCALE, load_mnist  # noqa: E402
from microgrid.digits.fast import FastMLP  # noqa: E402
from microgrid.digits.model_file import load_model  # noqa: E402
from microgrid.losses import mse  # noqa: E402
from microgrid.support.mistakes import run_lesson  # noqa: E402


@pytest.fixture
def page(browser, server):
    context, tab = open_tab(browser, server, "body[data-ready=true]")
    tab.select_option("#model", "notes")
    yield tab
    context.close()
    assert tab.errors == [], f"the console shows errors: {tab.errors}"


def number(page, selector: str) -> float:
    return float(page.get_attribute(selector, "data-value"))


def post(page, path: str, body: dict) -> dict:
    return page.evaluate(
        "async ([path, body]) => (await fetch(path, {method: 'POST', headers: {'Content-Type': 'application/json'},"
        " body: JSON.stringify(body)})).json()",
        [path, body],
    )


def test_a_clicked_matrix_cell_opens_the_scalar_chain_with_the_same_number(page):
    page.click("#matrix-example")  # training image 11
    page.wait_for_selector("#matrix-canvas[data-layer='1']")
    box = page.locator("#matrix-canvas").bounding_box()
    # neuron 5 is the second picture of the second row; click a pixel inside the digit's stroke
    data = load_mnist()
    image = data.train_images[11].reshape(784) * PIXEL_SCALE
    label = int(data.train_labels[11])
    k = int(np.argmax(image))
    row, col = divmod(k, 28)
    side, gap, across = 84, 6, 4
    x = (5 % across) * (side + gap) + (col + 0.5) * 3
    y = (5 // across) * (side + gap) + (row + 0.5) * 3
    canvas_width = across * side + (across - 1) * gap
    scale = box["width"] / canvas_width
    page.mouse.click(box["x"] + x * scale, box["y"] + y * scale)
    page.wait_for_selector(f".chain-node[data-node='w_5,{k}(1)']")
    product, engine, cell = number(page, "#cell-product"), number(page, "#cell-engine"), number(page, "#cell-matrix")
    model, _ = load_model(NOTES_MODEL)
    mlp = model.to_scalar()
    cost = mse(mlp(image.tolist()), label)
    cost.backward()
    truth = mlp.layers[0].neurons[5].w[k].grad
    assert truth != 0.0
    for shown in (product, engine, cell):
        assert shown == pytest.approx(truth, rel=1e-9)


def test_ascent_and_noise_show_the_networks_own_numbers(page):
    page.select_option("#ascent-digit", "3")
    with page.expect_response(lambda r: r.url.endswith("/api/views/ascent")) as first:
        page.click("#ascent-run")
    answer = first.value.json()
    page.wait_for_function("Number(document.querySelector('#ascent-status').dataset.steps) >= 150", timeout=60_000)
    model, _ = load_model(NOTES_MODEL)
    out = model.forward_all(np.array(answer["image"])[None].astype(np.float64))[-1][0]
    assert answer["scores"][-1] == pytest.approx(float(out[3]), rel=1e-4)  # the image was rounded to 5 places
    shown = number(page, "#ascent-status")
    assert shown > 0.9 and "read as 3" in page.text_content("#ascent-status")
    with page.expect_response(lambda r: r.url.endswith("/api/views/noise")) as noise:
        page.click("#noise-run")
    read = noise.value.json()
    page.wait_for_selector("#noise-status[data-digit]")
    out = model.forward_all(np.array(read["image"])[None])[-1][0]
    assert int(page.get_attribute("#noise-status", "data-digit")) == int(out.argmax())


def test_curvature_replay_and_the_hessian_slice_of_a_run(page, tmp_path):
    tmp = tmp_path
    page.check("#curvature-on")
    page.wait_for_function("document.querySelector('#curvature-on').checked")
    started = post(page, "/api/train/start", {"preset": "notes-plain", "epochs": 2, "limit": 30000, "seed": 3})
    assert started["status"] == "started", started
    page.wait_for_function("Number(document.querySelector('#curvature-now').dataset.rows) >= 1", timeout=120_000)
    wait_for_api(page, "/api/train/status", "r.status === 'done'", timeout=120)
    rows = page.evaluate("fetch('/api/views/curvature').then(r => r.json())")["rows"]
    assert all(row["limit"] == pytest.approx(2 / row["lambda_max"]) for row in rows)
    # the slice along the top two Hessian directions, at the final weights: lambda_1 by another method
    with page.expect_response(lambda r: "/api/views/surface" in r.url) as answer:
        page.click("#surface-hessian")
    surface = answer.value.json()
    page.wait_for_selector("#surface-canvas[data-along=hessian]")
    raw = page.evaluate(
        "fetch('/api/train/model.npz').then(r => r.arrayBuffer()).then(b => Array.from(new Uint8Array(b)))"
    )
    path = tmp / "final.npz"
    path.write_bytes(bytes(raw))
    saved, _ = load_model(path)
    data = load_mnist()
    x, y = data.train_images[:500].reshape(500, 784), data.train_labels[:500].astype(np.intp)
    exact = FastMLP.__new__(FastMLP)
    exact.__setstate__({**saved.__getstate__(), "dtype": np.dtype(np.float64)})
    flat = exact.flat_parameters()[0]
    base = flat.data.copy()

    def fd_hvp(v: np.ndarray, h: float = 1e-4) -> np.ndarray:
        grads = []
        for sign in (1, -1):
            flat.data[...] = base + sign * h * v
            exact.loss_and_backward(x, y, "mse", input_scale=PIXEL_SCALE)
            grads.append(flat.grad.copy())
        flat.data[...] = base
        return (grads[0] - grads[1]) / (2 * h)

    v = np.random.default_rng(0).standard_normal(base.size)
    for _ in range(300):
        unit = v / np.linalg.norm(v)
        v = fd_hvp(unit)
        top = float(unit @ v)
    assert surface["lambdas"][0] == pytest.approx(top, rel=1e-3)
    assert f"{surface['lambdas'][0]:.4g}" in page.text_content("#surface-note")
    # replay: scrub to the end; the accuracy shown against the model file the run saved
    page.click("#replay-load")
    page.wait_for_selector("#replay-where[data-step]")
    listing = page.evaluate("fetch('/api/views/replay').then(r => r.json())")
    assert listing["steps"][0] == 0 and len(listing["steps"]) <= 200
    last = int(page.get_attribute("#replay-where", "data-step"))
    assert last == listing["steps"][-1]
    test_x, test_y = data.test_images[:2000].reshape(2000, 784), data.test_labels[:2000]
    expected = float(np.mean(saved.predict(test_x, input_scale=PIXEL_SCALE) == test_y))
    assert float(page.get_attribute("#replay-where", "data-accuracy")) == expected
    page.locator("#replay-slider").evaluate("e => { e.value = '0'; e.dispatchEvent(new Event('input')); }")
    page.wait_for_selector("#replay-where[data-step='0']")
    assert float(page.get_attribute("#replay-where", "data-accuracy")) < expected


@pytest.mark.parametrize("lesson", ["lr", "dead_relu"])
def test_a_mistake_button_shows_the_engines_runs(page, lesson):
    page.click(f"#mistakes button[data-lesson={lesson}]")
    page.wait_for_selector(f"#mistakes[data-lesson={lesson}]", timeout=60_000)
    here = run_lesson(lesson)
    shown = json.loads(page.get_attribute("#mistake-numbers", "data-final"))
    assert shown == [run["costs"][-1] for run in here["runs"]]
    if lesson == "lr":
        assert float(page.get_attribute("#mistake-numbers", "data-lambda")) == here["lambda_max"]
    assert page.text_content("#mistake-fix").startswith("the fix: ")
    assert page.locator("#mistake-costs polyline").count() == 2
