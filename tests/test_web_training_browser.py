"""The training panel in a real browser: Playwright driving Debian's Chromium.

Skipped, with the reason, where /usr/bin/chromium or the playwright package is absent
(``.ci/run`` installs both). Never ``playwright install``: it downloads a browser.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

CHROMIUM = Path("/usr/bin/chromium")
if not CHROMIUM.exists():
    pytest.skip("browser tests need Debian's Chromium at /usr/bin/chromium (apt-get install chromium)",
                allow_module_level=True)  # fmt: skip
sync_api = pytest.importorskip("playwright.sync_api", reason="browser tests need the playwright package")
pytest.importorskip("uvicorn", reason="the web app needs the web extra: pip install -e '.[web]'")

from learn_server import serving  # noqa: E402
from web_server import launched_chromium, open_tab  # noqa: E402

from microgrid.app.web.learn_app import create_app  # noqa: E402
from microgrid.app.web.training import TrainingState  # noqa: E402
from microgrid.digits.data import load_mnist  # noqa: E402
from microgrid.digits.model_file import load_model  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
FINISHED = "['done', 'stopped', 'diverged', 'failed'].includes(document.getElementById('learn').dataset.status)"


@pytest.fixture(scope="module")
def server():
    added = {}
    state = TrainingState(add_model=lambda name, model, meta: added.__setitem__(name, model))
    with serving(create_app(state)) as url:
        yield url, state, added


@pytest.fixture(scope="module")
def browser():
    yield from launched_chromium(sync_api)


@pytest.fixture
def page(browser, server):
    context, tab = open_tab(browser, server[0] + "/learn", '#learn[data-ready="1"]', 1280, 1400, accept_downloads=True)
    yield tab
    context.close()
    assert not tab.errors, f"the page logged errors: {tab.errors}"


def status(page) -> dict:
    return page.evaluate("fetch('/api/train/status').then(r => r.json())")


def start(page, button="#learn-start") -> str:
    """Click a start button (an MNIST job at full speed, as the CLI trains); returns a JS test that
    is true once the page shows that job."""
    if button == "#learn-start":
        page.select_option("#learn-pace", "full")
    with page.expect_response(lambda r: r.url.endswith(("/api/train/start", "/api/train/toy"))) as answer:
        page.click(button)
    job = answer.value.json()["job"]
    shown = f"document.getElementById('learn').dataset.job === '{job}'"
    page.wait_for_function(shown)
    return shown


def test_notes_network_one_epoch_learns(page):
    """The notes' 784-16-16-10 sigmoid/MSE net, SGD lr 3, mini-batches of 10: one epoch."""
    page.select_option("#learn-preset", "notes")
    page.fill("#learn-batch_size", "10")
    page.fill("#learn-epochs", "1")
    shown = start(page)
    page.wait_for_function(f"{shown} && {FINISHED}", timeout=120_000)
    assert page.text_content("#learn-status") == "done"
    chart = page.locator("#learn-cost-chart")
    assert int(chart.get_attribute("data-points")) == 6000
    first, last = float(chart.get_attribute("data-first")), float(chart.get_attribute("data-last"))
    assert last < first / 3, f"the cost curve did not fall: first batches {first}, last {last}"
    accuracy = float(page.get_attribute("#learn-test-accuracy", "data-value"))
    assert accuracy > 0.85
    assert page.text_content("#learn-test-accuracy") == f"{100 * accuracy:.2f}%"
    assert page.locator("#learn-weights canvas").count() == 16
    assert page.locator("#learn-confusion td").count() == 100
    assert page.locator("#learn-mistakes figure").count() == 32


def test_pause_resume_change_lr_stop_and_download(page, server, tmp_path):
    url, state, added = server
    page.select_option("#learn-preset", "notes-plain")  # a constant learning rate, so the new lr shows as set
    page.fill("#learn-epochs", "100")
    shown = start(page)
    page.wait_for_function(f"{shown} && document.getElementById('learn-cost-chart').dataset.points > 50")
    page.click("#learn-pause")
    page.wait_for_function("document.getElementById('learn').dataset.status === 'paused'")
    paused = status(page)
    page.wait_for_timeout(600)
    assert status(page)["step"] == paused["step"]
    page.fill("#learn-live-lr", "0.5")
    page.click("#learn-apply")
    page.wait_for_function("document.getElementById('learn-message').textContent.includes('next batch')")
    page.click("#learn-resume")
    page.wait_for_function(f"document.getElementById('learn-cost-chart').dataset.points > {paused['step'] + 20}")
    running = status(page)
    assert running["lr_changes"][-1] == {"step": paused["step"] + 1, "lr": 0.5}
    assert "lr 0.5" in page.text_content("#learn-lr-now")
    page.click("#learn-stop")
    page.wait_for_function(FINISHED)
    assert page.text_content("#learn-status") == "stopped"
    page.wait_for_selector("#learn-final:not([hidden])")
    name = status(page)["final"]["model"]
    assert name in added and name in page.text_content("#learn-final-summary")  # handed to the draw panel
    with page.expect_download() as download:
        page.click("#learn-download")
    path = tmp_path / "from-the-page.npz"
    download.value.save_as(path)
    model, meta = load_model(path)
    np.testing.assert_array_equal(model.flat_parameters()[0].data, added[name].flat_parameters()[0].data)
    digit = load_mnist().test_images[0]  # a 7
    np.save(tmp_path / "seven.npy", digit)
    done = subprocess.run(
        [sys.executable, "-m", "microgrid", "predict", "--json", "--model", str(path), str(tmp_path / "seven.npy")],
        capture_output=True, text=True, cwd=ROOT, timeout=120,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    reading = json.loads(done.stdout)
    assert reading["digit"] == int(model.predict(digit.reshape(1, 784) / 255.0)[0])


def test_the_moons_toy_reaches_every_point(page):
    page.click("#learn-mode-toy")
    shown = start(page, "#learn-toy-start")
    page.wait_for_function(f"{shown} && {FINISHED}", timeout=180_000)
    assert page.text_content("#learn-toy-accuracy") == "100%"
    assert float(page.get_attribute("#learn-toy-accuracy", "data-value")) == 1.0
    assert int(page.text_content("#learn-toy-step")) == 150


def test_a_bad_value_is_named_on_the_page(page):
    page.select_option("#learn-preset", "")
    page.fill("#learn-lr", "500")
    page.click("#learn-start")
    page.wait_for_function("document.getElementById('learn-message').textContent.includes('lr must be')")
    assert page.text_content("#learn-message") == "lr must be above 0 and at most 100, got 500"
    page.errors.remove("Failed to load resource: the server responded with a status of 422 (Unprocessable Entity)")


def test_a_refusal_shows_under_the_buttons_that_asked(page):
    """A start refused while a toy job is the server's last job still shows in the MNIST panel."""
    page.click("#learn-mode-toy")
    page.fill("#learn-toy-steps", "5000")
    page.click("#learn-toy-start")
    page.wait_for_function("document.getElementById('learn-toy-message').textContent.includes('steps must be')")
    page.click("#learn-mode-mnist")
    page.select_option("#learn-preset", "")
    page.fill("#learn-epochs", "0")
    page.click("#learn-start")
    page.wait_for_function("document.getElementById('learn-message').textContent.includes('epochs must be')")
    assert "steps must be a whole number from 1 to 2000, got 5000" in page.text_content("#learn-toy-message")
    for _ in range(2):
        page.errors.remove("Failed to load resource: the server responded with a status of 422 (Unprocessable Entity)")


def test_the_recipe_menu_lists_the_servers_presets_and_their_figures(page):
    options = page.evaluate("fetch('/api/train/options').then(r => r.json())")
    shown = page.eval_on_selector_all("#learn-preset option", "os => os.map(o => [o.value, o.textContent])")
    assert shown[0][0] == "" and len(shown) == 1 + len(options["presets"])
    for (value, text), name in zip(shown[1:], options["presets"]):
        assert value == name and text == f"{name}: {options['preset_summaries'][name]}"
    assert page.input_value("#learn-preset") == "notes"


def test_apply_sends_the_lr_box_as_lr_and_the_batch_box_as_batch_size(page):
    assert page.is_disabled("#learn-apply")  # nothing runs: nothing to apply to
    page.select_option("#learn-preset", "notes-plain")
    page.select_option("#learn-pace", "1")  # a step a second: it runs while the test applies
    page.click("#learn-start")
    page.wait_for_function("document.getElementById('learn').dataset.status === 'running'")
    page.fill("#learn-live-lr", "0.5")
    page.fill("#learn-live-batch", "37")
    with page.expect_request("**/api/train/control") as sent:
        page.click("#learn-apply")
    assert sent.value.post_data_json == {"lr": 0.5, "batch_size": 37}
    assert sent.value.headers["content-type"] == "application/json"
    page.wait_for_function("document.getElementById('learn-message').textContent.includes('next batch')")
    page.click("#learn-stop")
    page.wait_for_function(FINISHED)


def test_learn_js_is_a_module_on_api_js_and_paint_js():
    source = (ROOT / "microgrid/app/web/static/learn.js").read_text()
    assert 'from "./api.js"' in source and 'from "./paint.js"' in source
    assert "fetch(" not in source and "querySelector('script" not in source and 'script[src' not in source
