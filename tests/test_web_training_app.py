"""The training panel inside the web app of ``python -m microgrid serve``: same page, shared models.

These need the app's server (``microgrid/app/web/server.py``, with its ``WebPart`` list);
on a branch without it they skip, saying so.
"""

from __future__ import annotations

import time
from pathlib import Path

import pytest

pytest.importorskip("starlette", reason="the web app needs the web extra: pip install -e '.[web]'")
server = pytest.importorskip("microgrid.app.web.server", reason="the web app (server.py) is not on this branch")

from starlette.testclient import TestClient  # noqa: E402

from microgrid.app.web.training import learn_routes  # noqa: E402

load_state = pytest.importorskip("microgrid.app.web.state").load_state

PART = server.WebPart("learn", learn_routes, scripts=("learn.js",), styles=("learn.css",))


def app_with_the_panel():
    parts = server.PARTS if any(p.routes is learn_routes for p in server.PARTS) else [*server.PARTS, PART]
    state = load_state()
    return server.create_app(state, parts), state


def test_a_trained_model_is_at_once_one_of_the_apps_models():
    app, state = app_with_the_panel()
    with TestClient(app, base_url="http://127.0.0.1") as client:
        page = client.get("/").text
        assert "/static/learn.js" in page and "/static/learn.css" in page
        started = client.post("/api/train/start", json={"preset": "notes", "limit": 2000, "epochs": 1})
        assert started.status_code == 200, started.text
        deadline = time.monotonic() + 60
        while (snap := client.get("/api/train/status").json())["status"] in ("starting", "running"):
            assert time.monotonic() < deadline
            time.sleep(0.05)
        name = snap["final"]["model"]
        assert name in [m["name"] for m in client.get("/api/models").json()["models"]]
        model, _ = state.model(name)
        assert model is state.training.models[name][0]
        digit = [0] * 784
        for row in range(4, 24):
            digit[row * 28 + 14] = 255  # a vertical stroke
        reading = client.post("/api/predict", json={"model": name, "width": 28, "height": 28, "pixels": digit})
        assert reading.status_code == 200, reading.text


CHROMIUM = Path("/usr/bin/chromium")


@pytest.mark.skipif(not CHROMIUM.exists(), reason="browser tests need Debian's Chromium at /usr/bin/chromium")
def test_train_in_the_page_then_read_a_drawn_digit_with_the_new_model():
    sync_api = pytest.importorskip("playwright.sync_api", reason="browser tests need the playwright package")
    from learn_server import serving

    app, state = app_with_the_panel()
    app.state.training = state.training
    with serving(app) as url, sync_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=["--no-sandbox"])
        page = browser.new_page(viewport={"width": 1280, "height": 1400})
        errors: list[str] = []
        page.on("pageerror", lambda e: errors.append(str(e)))
        page.goto(url + "/")
        page.wait_for_selector('body[data-ready="true"]')
        page.wait_for_selector('#panels > #learn[data-ready="1"]')  # the panel is part of the app's page
        page.select_option("#learn-preset", "notes")
        page.fill("#learn-batch_size", "10")
        page.fill("#learn-epochs", "1")
        page.select_option("#learn-pace", "full")  # as fast as the CLI (the page's default pace is one to watch)
        page.click("#learn-start")
        page.wait_for_function("document.getElementById('learn').dataset.status === 'done'", timeout=120_000)
        name = page.evaluate("fetch('/api/train/status').then(r => r.json())")["final"]["model"]
        page.wait_for_selector(f'#model option[value="{name}"]', state="attached")  # the model menu knows it
        page.select_option("#model", name)
        page.locator("#pad").scroll_into_view_if_needed()
        box = page.locator("#pad").bounding_box()
        x, top = box["x"] + box["width"] * 0.5, box["y"] + box["height"] * 0.15
        page.mouse.move(x, top)
        page.mouse.down()
        for k in range(1, 21):
            page.mouse.move(x, top + box["height"] * 0.7 * k / 20)
        page.mouse.up()
        page.wait_for_function("document.getElementById('prediction').textContent === '1'", timeout=10_000)
        browser.close()
        assert not errors
