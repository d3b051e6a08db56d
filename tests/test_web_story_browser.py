"""The guided path in a real browser (Playwright driving Debian's Chromium), issue 24.

Each of the issue's ten problems has a test here or in test_web_story_learn_browser.py (named
``test_problem_N_...``) that fails on the page before the issue (9d0f6e7) and passes now; the
numbers on the page are checked against an independent computation (NumPy by hand, or Value).
"""

from __future__ import annotations

import re
import shutil
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

from web_server import draw, open_tab  # noqa: E402

from microgrid.app.web.state import NOTES_MODEL  # noqa: E402
from microgrid.digits.data import load_mnist, to_inputs  # noqa: E402
from microgrid.digits.model_file import load_model  # noqa: E402

ONE = [[(0.5, 0.14), (0.5, 0.86)]]
PARTS = ["see", "light", "neuron", "cost", "descent1", "descent2", "nudges", "chain", "learn",
         "matrix", "ascent", "curvature", "replay", "mistakes"]  # the last five: issue 25's views


def open_page(browser, url, width=1440, height=900, **options):
    return open_tab(browser, url, "body[data-ready=true]", width, height, **options)


@pytest.fixture
def page(browser, server):
    context, tab = open_page(browser, server)
    yield tab
    context.close()
    assert tab.errors == [], f"the console shows errors: {tab.errors}"


def notes_by_hand(image, label, model=None):
    """The notes' network in NumPy: activations per layer, C0, and dC0/dW of the output layer."""
    model = model or load_model(NOTES_MODEL)[0]
    a = [np.asarray(image, dtype=float)]
    for w, b in zip(model.weights, model.biases):
        a.append(1 / (1 + np.exp(-(np.asarray(w.data, dtype=float) @ a[-1] + b.data))))
    y = np.eye(10)[label]
    cost = float(((a[-1] - y) ** 2).sum())
    dz = 2 * (a[-1] - y) * a[-1] * (1 - a[-1])
    return a, cost, np.outer(dz, a[-2])


def first_training_image():
    data = load_mnist()
    return to_inputs(data.train_images[:1])[0], int(data.train_labels[0])


def test_problem_1_the_digit_it_should_be_stays_the_learner_s(page):
    draw(page, ONE)
    page.wait_for_function("document.querySelector('#prediction').textContent !== ''")
    page.select_option("#target", "3")
    page.dispatch_event("#target", "change")
    draw(page, [[(0.4, 0.3), (0.6, 0.3)]])  # a new stroke: a new reading
    page.wait_for_timeout(800)
    assert page.text_content("#prediction") != "3"  # the network does not read a 3 ...
    assert page.input_value("#target") == "3"  # ... and the target is still the learner's 3
    page.click("#run-nudges")
    page.wait_for_function("(document.querySelector('#cost') || {textContent: ''}).textContent.includes('digit 3,')")
    assert page.get_attribute('#target-buttons [data-digit="3"]', "aria-checked") == "true"


def test_problem_2_the_page_opens_on_the_notes_network(page):
    assert page.input_value("#model") == "notes"
    page.wait_for_selector('#network-svg [data-layer="3"]')
    assert page.locator('#network-svg [data-layer="1"]').count() == 16
    assert page.locator('#network-svg [data-layer="3"]').count() == 10
    assert "784-16-16-10" in page.text_content("#network-note")


def test_problem_4_a_phone_has_no_sideways_scroll_and_every_control_is_reachable(browser, server):
    context, page = open_page(browser, server, 390, 844, has_touch=True, is_mobile=True)
    page.wait_for_selector('#network-svg [data-layer="1"]')
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    page.click("#example-button")
    page.wait_for_selector("#output-nudges")
    page.wait_for_timeout(500)
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    controls = page.locator("main button, main select, main input").evaluate_all(
        "es => es.filter(e => e.offsetParent !== null).map(e => { const r = e.getBoundingClientRect();"
        " return [e.id || e.textContent.trim().slice(0, 20), r.left, r.right, r.height]; })"
    )
    assert len(controls) > 30
    for name, left, right, height in controls:
        assert left >= 0 and right <= 390, f"{name} is off screen: {left:.0f}-{right:.0f} px"
        assert height >= 24, f"{name} is {height:.0f} px tall: too small for a finger"
    for slider in ("#slider-b", "#slider-y"):
        box = page.locator(slider).bounding_box()
        assert box["x"] >= 0 and box["x"] + box["width"] <= 390
    # the network readable: fewer edges drawn, neurons at least 14 px across on the screen
    edges = page.locator('#network-svg line[data-edge^="1,"]').count()
    assert 0 < edges <= 40
    radius = page.locator('#network-svg circle[data-layer="3"]').first.bounding_box()["width"]
    assert radius >= 14
    context.close()
    assert page.errors == []


def test_problem_5_a_step_changes_the_answer_the_lit_network_and_the_nudges(page):
    page.click("#example-button")
    page.wait_for_selector("#output-nudges")
    lit = "[...document.querySelectorAll('#network-svg [data-layer=\"3\"]')].map(e => e.dataset.activation)"
    before_lit, before_cost = page.evaluate(lit), page.get_attribute("#cost", "data-value")
    before_bars = page.locator("#bars .bar").evaluate_all("es => es.map(e => e.dataset.value)")
    page.click("#step")
    page.wait_for_selector("#step-costs")
    page.wait_for_function("document.querySelector('#model').value === 'notes (stepped)'")
    page.wait_for_function(f"document.querySelector('#cost').dataset.value !== '{before_cost}'")
    page.wait_for_function(f"JSON.stringify({lit}) !== '{__import__('json').dumps(before_lit)}'")
    assert page.locator("#bars .bar").evaluate_all("es => es.map(e => e.dataset.value)") != before_bars
    assert '"notes (stepped)"' in page.text_content("#cost")
    first = page.get_attribute("#step-costs", "data-start")
    page.click("#step")
    page.wait_for_function("document.querySelector('#step-costs').textContent.includes('step 2')")
    assert page.get_attribute("#step-costs", "data-start") != first  # a new random mini-batch


def test_problem_7_a_tap_on_the_pad_draws_a_dot_without_an_error(page):
    box = page.locator("#pad").bounding_box()
    page.mouse.click(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    inked = page.evaluate(
        "(() => { const d = document.querySelector('#pad').getContext('2d').getImageData(0, 0, 140, 140).data;"
        " let n = 0; for (let i = 3; i < d.length; i += 4) n += d[i] > 0; return n; })()"
    )
    assert inked > 20  # a visible dot
    page.wait_for_timeout(800)
    assert page.is_hidden("#draw-error"), page.text_content("#draw-error")


def test_problem_9_bar_labels_are_readable_and_a_nudge_is_named_as_one(page):
    page.click("#example-button")
    page.wait_for_selector("#nudges-layer-2 .bar")
    labels = page.locator(".bar .value").evaluate_all(
        "es => es.filter(e => e.offsetParent !== null)"
        ".map(e => [e.textContent, parseFloat(getComputedStyle(e).fontSize)])"
    )
    assert labels
    for text, size in labels:
        assert not re.search(r"\de[-+]?\d", text), f"a bar label in scientific notation: {text}"
        assert size >= 11, f"a bar label of {size} px"
    weights = page.text_content("#weight-nudges")
    assert re.search(r"nudge to w_\d+,\d+\(L\) ", weights) and not re.search(r"w_\d+,\d+: ", weights)


def test_problem_10_the_contents_bar_reaches_every_part(page):
    links = page.locator("#contents a").evaluate_all("es => es.map(e => e.dataset.part)")
    assert links == PARTS
    assert page.locator("main > section[data-part]").evaluate_all("es => es.map(e => e.dataset.part)") == PARTS
    page.click('#contents a[data-part="learn"]')
    page.wait_for_function("Math.abs(document.querySelector('#learn').getBoundingClientRect().top) < 120")
    page.click("#learn .part-prev")
    page.wait_for_function("Math.abs(document.querySelector('#chain').getBoundingClientRect().top) < 120")
    for section in page.locator("main > section[data-part]").all():
        assert len(section.locator(".notes-says, .learn-lede").first.text_content()) > 60  # the notes' reasoning


def test_every_number_explains_itself_on_hover(page):
    image, label = first_training_image()
    a, cost, _ = notes_by_hand(image, label)
    page.click("#example-button")
    page.wait_for_selector("#cost-c0")
    assert float(page.get_attribute("#cost-c0", "data-value")) == pytest.approx(cost, rel=1e-5)
    page.hover("#cost-c0")
    box = page.locator("#explain-box")
    box.wait_for(state="visible")
    text = box.text_content()
    assert "C0 = " in text and f"{cost:.4f}" in text and "computed by microgrid." in text
    numbers = page.locator(".num").evaluate_all("es => es.map(e => [e.dataset.what, e.dataset.value])")
    assert len(numbers) > 50 and all(what for what, _ in numbers)
    page.hover('#network-svg circle[data-layer="3"][data-index="5"]')
    assert f"{a[3][5]:.4f}"[:5] in box.text_content() and "FastMLP.forward_all" in box.text_content()


def test_a_phone_tap_shows_the_explanation(browser, server):
    context, page = open_page(browser, server, 390, 844, has_touch=True, is_mobile=True)
    page.click("#example-button")
    page.wait_for_selector("#cost-c0")
    page.tap("#cost-c0")
    box = page.locator("#explain-box")
    box.wait_for(state="visible")
    rect = box.bounding_box()
    assert rect["x"] >= 0 and rect["x"] + rect["width"] <= 390
    context.close()


def test_nudges_flow_back_output_layer_first(page):
    page.click("#example-button")
    page.wait_for_function("document.querySelector('#nudges .netpic').dataset.flowing === 'back'")
    times = page.evaluate(
        """() => new Promise(done => { const seen = {}; const t0 = performance.now();
          const look = () => { for (const l of [1, 2, 3]) if (!(l in seen)
            && document.querySelector(`#nudges-svg [data-layer="${l}"][data-nudge]`)) seen[l] = performance.now() - t0;
            if (Object.keys(seen).length === 3) done(seen); else requestAnimationFrame(look); }; look(); })"""
    )
    assert times["3"] < times["2"] < times["1"], times  # output layer first, then back layer by layer
    assert times["1"] - times["3"] > 800  # travelling, not all at once
    image, label = first_training_image()
    a, _, _ = notes_by_hand(image, label)
    shown = page.locator('#nudges-svg [data-layer="3"]').evaluate_all("es => es.map(e => Number(e.dataset.nudge))")
    assert shown == pytest.approx(-2 * (a[3] - np.eye(10)[label]), rel=1e-9)


def test_the_forward_pass_travels_layer_by_layer(page):
    page.click("#example-button")
    page.wait_for_selector("#output-nudges")
    page.click("#forward-pass")
    page.wait_for_function("document.querySelector('#network .netpic').dataset.flowing === 'forward'")
    page.wait_for_function("document.querySelector('#network .netpic').dataset.flowOrder === '1'")
    assert page.locator('#network-svg circle[data-layer="3"][fill="rgb(0,0,0)"]').count() == 10  # not lit yet
    page.wait_for_function("document.querySelector('#network .netpic').dataset.flowing === 'done'")
    assert page.locator('#network-svg circle[data-layer="3"][fill="rgb(0,0,0)"]').count() < 10


def test_the_cost_sensitivity_of_two_real_weights(page):
    image, label = first_training_image()
    _, cost, grad_w = notes_by_hand(image, label)
    page.click("#example-button")
    page.wait_for_selector("#sensitivity-ratio")
    text = page.text_content("#sensitivity-sentence")
    (j, k1), (j2, k2) = ((int(a), int(b)) for a, b in re.findall(r"dC0/dw_(\d+),(\d+)\(3\)", text)[:2])
    assert j == j2 == label and int(np.argmax(np.abs(grad_w[label]))) == k1
    ratio = abs(grad_w[label, k1]) / abs(grad_w[label, k2])
    assert float(page.get_attribute("#sensitivity-ratio", "data-value")) == pytest.approx(ratio, rel=1e-6)
    assert f"{ratio:.0f} times more sensitive" in text


def test_gradient_descent_on_one_input_steps_by_the_slope(page):
    def slope(w):  # the derivative of story.SURFACES["one"], by hand
        return 0.12 * w**3 - 0.9 * w + 0.15 + 5.4 * w * np.exp(-3 * w**2)

    plot = page.locator("#descent-one-plot")
    plot.scroll_into_view_if_needed()
    box = plot.bounding_box()
    page.mouse.click(box["x"] + box["width"] * (2.0 + 4) / 8, box["y"] + box["height"] / 2)  # near w = 2
    page.wait_for_function("Number(document.querySelector('#descent-one').dataset.done) >= 2")
    page.click("#descent-one-step")
    page.wait_for_function("Number(document.querySelector('#descent-one').dataset.done) >= 3")
    w = float(page.locator("#descent-one-readout .num").first.get_attribute("data-value"))
    step = float(page.get_attribute("#descent-one-step-size-0", "data-value"))
    assert step == pytest.approx(-0.1 * slope(w), rel=1e-9)  # proportional to the slope, against it
    page.click("#descent-one-five")
    page.wait_for_selector("#descent-one-ends")
    ends = [float(v) for v in page.locator("#descent-one-ends .num").evaluate_all("es => es.map(e => e.dataset.value)")]
    minima = {round(e, 1) for e in ends}
    assert len(minima) >= 3  # different starts, different local minima
    assert all(abs(slope(e)) < 1e-2 for e in ends)
