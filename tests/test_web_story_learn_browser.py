"""The guided path's last part, learning, in a real browser (issue 24's problems 3, 6, 8, 9, 10).

The app of ``python -m microgrid serve`` (the training panel is its part "learn"), driven by
Playwright and Debian's Chromium. Each ``test_problem_N_...`` fails on the page before the
issue (9d0f6e7): no pace, a form that forgets a running job, no word on a failed run, raw
numbers, controls that look alive when nothing runs.
"""

from __future__ import annotations

import re
import shutil
import urllib.request
from pathlib import Path

import numpy as np
import pytest

CHROMIUM = Path("/usr/bin/chromium")
sync_api = pytest.importorskip("playwright.sync_api", reason="browser tests need playwright (the test extra)")
pytest.importorskip("starlette", reason="the web app needs the web extra: pip install 'microgrid[web]'")
if not CHROMIUM.exists():
    pytest.skip(
        f"browser tests need Chromium at {CHROMIUM} (apt-get install -y chromium); found: {shutil.which('chromium')}",
        allow_module_level=True,
    )

from web_server import open_tab  # noqa: E402

from microgrid.digits.data import load_mnist, to_inputs  # noqa: E402
from microgrid.digits.model_file import load_model  # noqa: E402

STATUS = "document.getElementById('learn').dataset.status"
FINISHED = f"['done', 'stopped', 'diverged', 'failed'].includes({STATUS})"
STEP = "Number((document.querySelector('#learn-progress-text').textContent.match(/step (\\d+)/) || [0, -1])[1])"


@pytest.fixture
def page(browser, server):
    context, tab = open_tab(browser, server, '#learn[data-ready="1"]', height=1000)
    yield tab
    if tab.evaluate(f"!{FINISHED} && {STATUS} !== 'idle'"):
        tab.click("#learn-stop")
        tab.wait_for_function(FINISHED)
    context.close()
    assert tab.errors == [], f"the console shows errors: {tab.errors}"


def start(page):
    """Click Start and wait until the page shows the new job (not the last one's status)."""
    job = "String(document.getElementById('learn').dataset.job)"
    before = page.evaluate(job)
    page.click("#learn-start")
    page.wait_for_function(f"{job} !== '{before}'")


def full_speed(page):
    """Pick full speed where the page has a pace (a page without one runs at full speed)."""
    if page.locator("#learn-pace").count():
        page.select_option("#learn-pace", "full")


def stop(page):
    page.click("#learn-stop")
    page.wait_for_function(FINISHED, timeout=30_000)


def test_problem_3_a_pace_a_person_can_watch(page):
    assert page.input_value("#learn-preset") == "notes"  # the notes' network, by default here too
    start(page)
    page.wait_for_function(f"{STATUS} === 'running'")
    page.wait_for_timeout(3000)
    steps = page.evaluate(STEP)
    assert page.evaluate(STATUS) == "running" and 10 <= steps <= 60, steps  # 10 steps a second, not 600
    page.wait_for_selector("#learn-batch-images figure")
    assert page.locator("#learn-batch-images figure").count() == 100  # the mini-batch's images
    assert page.locator("#learn-cost-after").count() == 1  # and what the step did to its cost
    page.select_option("#learn-pace", "batch")  # one mini-batch at a time
    page.wait_for_function(f"{STATUS} === 'paused'")
    page.wait_for_timeout(500)
    before = page.evaluate(STEP)
    page.click("#learn-step")
    page.wait_for_function(f"{STEP} === {before + 1}")
    page.wait_for_function(f"document.querySelector('#learn-batch-card').dataset.step === '{before + 1}'")
    page.wait_for_timeout(800)
    assert page.evaluate(STEP) == before + 1 and page.evaluate(STATUS) == "paused"
    stop(page)


def test_problem_6_the_form_tells_what_start_does_and_keeps_a_running_job_s_settings(page):
    page.select_option("#learn-preset", "notes")
    expect = page.text_content("#learn-expect")
    assert "1 epoch" in expect and "60 epochs" in expect  # not "96%" for a 1-epoch run
    page.fill("#learn-epochs", "3")
    page.dispatch_event("#learn-epochs", "change")
    assert "3 epochs" in page.text_content("#learn-expect")
    start(page)
    page.wait_for_function(f"{STATUS} === 'running'")
    page.reload()
    page.wait_for_selector('#learn[data-ready="1"]')
    page.wait_for_function(f"{STATUS} === 'running'")
    page.wait_for_function("document.querySelector('#learn-epochs').value === '3'")
    assert page.input_value("#learn-preset") == "notes"
    stop(page)


def test_problem_8_a_failed_run_is_explained(page, server, tmp_path):
    page.select_option("#learn-preset", "notes-plain")
    page.fill("#learn-lr", "100")  # the notes' network at lr 100: the sigmoids saturate, the cost stays flat
    page.dispatch_event("#learn-lr", "input")
    full_speed(page)
    start(page)
    page.wait_for_function(FINISHED, timeout=120_000)
    box = page.locator("#learn-diagnosis")
    box.wait_for(state="visible")
    page.wait_for_selector('#learn-diagnosis [data-name="it guesses at chance"]')  # after the epoch's test accuracy
    names = page.locator("#learn-diagnosis .learn-problem").evaluate_all("es => es.map(e => e.dataset.name)")
    assert "saturated sigmoids" in names and "it guesses at chance" in names, names
    assert "Try: a smaller learning rate than 100" in box.text_content()
    # the truth: the trained model's hidden sigmoids, measured here, are mostly near 0 or 1
    with urllib.request.urlopen(server + "api/train/model.npz") as answer:
        (tmp_path / "model.npz").write_bytes(answer.read())
    model, _ = load_model(tmp_path / "model.npz")
    x = to_inputs(load_mnist().train_images[:500])
    acts = np.concatenate([a.ravel() for a in model.forward_all(x)[1:]])
    assert ((acts < 0.01) | (acts > 0.99)).mean() > 0.5


def test_problem_8_a_good_run_says_nothing_went_wrong(page):
    full_speed(page)
    start(page)  # the notes preset, 1 epoch
    page.wait_for_function(FINISHED, timeout=120_000)
    page.wait_for_timeout(500)
    assert page.is_hidden("#learn-diagnosis"), page.text_content("#learn-diagnosis")


def test_problem_9_learning_numbers_read_well(page):
    page.select_option("#learn-preset", "notes-best")  # Adam with a decaying learning rate
    page.fill("#learn-epochs", "2")
    full_speed(page)
    start(page)
    page.wait_for_function(FINISHED, timeout=120_000)
    lr = re.search(r"lr ([\d.e-]+)", page.text_content("#learn-lr-now")).group(1)
    assert len(lr.replace(".", "").lstrip("0")) <= 4, lr  # 0.00279, not 0.0027899999999999999
    widths = page.locator("#learn-weights canvas").evaluate_all("es => es.map(e => e.getBoundingClientRect().width)")
    assert widths and min(widths) >= 56, widths
    cut = page.evaluate(
        """() => [...document.querySelectorAll('#learn select')].filter(s => s.offsetParent !== null).map(s => {
          const c = document.createElement('canvas').getContext('2d'); c.font = getComputedStyle(s).font;
          const text = s.options[s.selectedIndex] ? s.options[s.selectedIndex].text : '';
          return [s.id, text, c.measureText(text).width + 24 - s.clientWidth]; }).filter(([, , over]) => over > 0)"""
    )
    assert cut == [], f"menus whose chosen text is cut off: {cut}"


def test_problem_10_controls_are_alive_only_while_a_job_runs(page):
    for action in ("pause", "resume", "step", "stop", "apply"):
        assert page.is_disabled(f"#learn-{action}"), (action, page.evaluate(STATUS))
    page.click("#learn-pause", force=True)  # a click on a dead control: no request, no error
    start(page)
    page.wait_for_function(f"{STATUS} === 'running'")
    assert page.is_enabled("#learn-pause") and page.is_enabled("#learn-stop") and page.is_disabled("#learn-resume")
    points = "Number(document.querySelector('#learn-gradient-chart').dataset.points)"
    page.wait_for_function(f"{points} >= 5", timeout=20_000)  # the gradient comparison, often at a pace
    stop(page)
    for action in ("pause", "resume", "step", "stop", "apply"):
        assert page.is_disabled(f"#learn-{action}"), (action, "after", page.evaluate(STATUS))
