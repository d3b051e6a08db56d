"""The page in a real browser (Playwright driving Debian's Chromium) against a running server.

Drawn digits must be read, a clicked neuron shows its weights, the chain's sliders and the
nudges view show the engine's own numbers, and the console stays free of errors.
"""

import math
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
from microgrid.losses import mse  # noqa: E402
from microgrid.support.chain import one_neuron_chain  # noqa: E402

STROKES = {
    7: [[(0.22, 0.2), (0.78, 0.2), (0.42, 0.86)]],
    1: [[(0.5, 0.14), (0.5, 0.86)]],
    0: [[(0.5 + 0.2 * math.sin(t / 24 * 2 * math.pi), 0.5 - 0.32 * math.cos(t / 24 * 2 * math.pi)) for t in range(25)]],
}


@pytest.fixture
def page(browser, server):
    context, tab = open_tab(browser, server, "body[data-ready=true]", width=1200)
    yield tab
    context.close()
    assert tab.errors == [], f"the console shows errors: {tab.errors}"


def use_digits(page):
    """Pick the bundled 98% reader (784-256-10) in the network menu; the page opens on the notes' network."""
    page.select_option("#model", "digits")
    page.wait_for_function("document.querySelectorAll('#network-svg [data-layer=\"1\"]').length === 256")


def wait_for_number(page, selector, expected, tol=1e-12):
    page.wait_for_function(
        "([sel, want, tol]) => { const e = document.querySelector(sel);"
        " return e && Math.abs(Number(e.dataset.value) - want) <= tol * Math.max(1, Math.abs(want)); }",
        arg=[selector, expected, tol],
    )


@pytest.mark.parametrize("digit", [7, 1, 0])
def test_drawn_digits_are_read(page, digit):
    use_digits(page)
    draw(page, STROKES[digit])
    page.wait_for_function(f"document.querySelector('#prediction').textContent === '{digit}'", timeout=5000)
    assert page.text_content("#prediction") == str(digit)
    # the network lit up with the same reading: the output neuron of that digit is the brightest
    outputs = page.locator('#network-svg [data-layer="2"]')
    values = [float(outputs.nth(i).get_attribute("data-activation")) for i in range(10)]
    assert int(np.argmax(values)) == digit


def test_clear_empties_the_answer(page):
    use_digits(page)
    draw(page, STROKES[1])
    page.wait_for_function("document.querySelector('#prediction').textContent === '1'")
    page.click("#clear")
    assert page.text_content("#prediction") == ""
    # a reading still in flight when Clear was clicked must not bring the answer back
    page.wait_for_timeout(600)
    assert page.text_content("#prediction") == ""
    outputs = page.locator('#network-svg [data-layer="2"]').evaluate_all("es => es.map(e => e.dataset.activation)")
    assert outputs == ["0"] * 10


def rgb(css):
    """(r, g, b) of a CSS colour as the browser writes it: 'rgb(178, 24, 43)' or 'rgb(178,24,43)'."""
    return tuple(int(v) for v in re.findall(r"\d+", css)[:3])


BACKGROUNDS = "es => es.map(e => getComputedStyle(e).backgroundColor)"


def red_for_positive(value, colour):
    """The microgrid convention (matplotlib's RdBu_r): red positive, blue negative."""
    r, _, b = colour
    return r > b if value > 0 else b > r


def test_a_clicked_neuron_shows_its_weights_as_red_and_blue(page):
    use_digits(page)
    draw(page, STROKES[7])
    page.wait_for_function("document.querySelector('#prediction').textContent === '7'")
    page.click('#network-svg circle[data-layer="1"][data-index="3"]')
    page.wait_for_selector("#neuron-activation")
    from microgrid.digits.predict import default_model

    model, _ = default_model()
    w = model.weights[0].data[3]
    for k in (int(np.argmax(w)), int(np.argmin(w))):
        x, y = (k % 28) * 6 + 3, (k // 28) * 6 + 3  # the 168-pixel canvas shows each weight as 6x6
        r, g, b, _ = page.evaluate(
            f"Array.from(document.querySelector('#weights-image').getContext('2d').getImageData({x}, {y}, 1, 1).data)"
        )
        assert (r > b + 80) if w[k] > 0 else (b > r + 80), (k, w[k], (r, g, b))
    assert "Neuron 3 of layer 1" in page.text_content("#neuron-title")
    legend = page.text_content("#neuron-legend")
    assert "red: positive" in legend and "blue: negative" in legend


def test_network_edges_are_red_for_positive_weights_and_blue_for_negative(page):
    from microgrid.digits.predict import default_model

    model, _ = default_model()
    use_digits(page)
    page.wait_for_selector("#network-svg line[data-edge]")
    edges = page.locator("#network-svg line[data-edge]").evaluate_all(
        "es => es.map(e => [e.dataset.edge, e.getAttribute('stroke')])"
    )
    assert len(edges) == 160 * len(model.weights)
    signs = set()
    for edge, stroke in edges:
        layer, j, k = (int(v) for v in edge.split(","))
        w = float(model.weights[layer - 1].data[j, k])
        signs.add(w > 0)
        assert red_for_positive(w, rgb(stroke)), (edge, w, stroke)
    assert signs == {True, False}  # both colours were checked
    swatches = page.locator("#network-legend .swatch").evaluate_all(
        "es => es.map(e => [e.dataset.sign, e.style.background])"
    )
    assert [(sign, red_for_positive(1 if sign == "positive" else -1, rgb(c))) for sign, c in swatches] == [
        ("positive", True),
        ("negative", True),
    ]
    assert "red: a positive weight" in page.text_content("#network-legend")


def test_a_chain_slider_recomputes_dC0_dw_with_the_engine(page):
    page.wait_for_selector("#dC0-dw")
    page.locator("#slider-w").evaluate("e => { e.value = '2.5'; e.dispatchEvent(new Event('input')); }")
    page.locator("#slider-y").evaluate("e => { e.value = '0.3'; e.dispatchEvent(new Event('input')); }")
    expected = one_neuron_chain(a_prev=0.6, w=2.5, b=-0.4, y=0.3).highlight.grad
    wait_for_number(page, "#dC0-dw", expected)
    wait_for_number(page, "#chain-factors", expected, tol=1e-9)
    assert page.text_content("#dC0-dw") == f"{expected:.6f}"


def scalar_nudges(image, label):
    """The notes' network on the scalar engine: the outputs' nudges -dC0/da(L) after backward()."""
    model, _ = load_model(NOTES_MODEL)
    mlp = model.to_scalar()
    outputs = mlp(image.tolist())
    cost = mse(outputs, label)
    cost.backward()
    return cost.data, [-a.grad for a in outputs], mlp


def hidden_nudges(image, label):
    """-dC0/da(L-1) of the notes' network by hand in NumPy (sigmoid layers, C0 = sum (a - y)^2)."""
    model, _ = load_model(NOTES_MODEL)
    a = [np.asarray(image, dtype=float)]
    for w, b in zip(model.weights, model.biases):
        a.append(1 / (1 + np.exp(-(np.asarray(w.data, dtype=float) @ a[-1] + b.data))))
    y = np.eye(10)[label]
    dz = 2 * (a[-1] - y) * a[-1] * (1 - a[-1])
    return -(np.asarray(model.weights[-1].data, dtype=float).T @ dz)


def test_the_nudges_view_shows_backward(page):
    data = load_mnist()
    image, label = to_inputs(data.train_images[:1])[0], int(data.train_labels[0])
    cost, nudges, mlp = scalar_nudges(image, label)
    page.click("#example-button")
    wait_for_number(page, "#cost", cost)
    cells = page.locator("#output-nudges td.nudge").evaluate_all("es => es.map(e => e.dataset.value)")
    shown = [float(v) for v in cells]
    assert shown == pytest.approx(nudges, rel=1e-12, abs=1e-15)
    bias = mlp.layers[-1].neurons[label].b.grad
    wait_for_number(page, "#bias-nudge", -bias)
    # the output table's bars, the hidden layers' bars and the weight-nudge edges: red up, blue down
    colours = page.locator("#output-nudges .hbar").evaluate_all(BACKGROUNDS)
    assert [red_for_positive(v, rgb(c)) for v, c in zip(nudges, colours)] == [True] * 10
    hidden = hidden_nudges(image, label)
    colours = page.locator("#nudges-layer-2 .fill").evaluate_all(BACKGROUNDS)
    assert [red_for_positive(v, rgb(c)) for v, c in zip(hidden, colours)] == [True] * 16
    lines = page.locator("#nudge-edges line").evaluate_all(
        "es => es.map(e => [+e.dataset.j, +e.dataset.k, +e.dataset.nudge, e.getAttribute('stroke')])"
    )
    assert len(lines) == 10 * 16
    top = max(abs(n.w[k].grad) for n in mlp.layers[-1].neurons for k in range(16))
    for j, k, shown, stroke in lines:
        nudge = -mlp.layers[-1].neurons[j].w[k].grad
        assert shown == pytest.approx(nudge, rel=1e-12, abs=1e-15)
        r, _, b = rgb(stroke)
        if abs(nudge) > 0.01 * top:  # a smaller one is drawn (almost) white
            assert red_for_positive(nudge, (r, 0, b)), (j, k, nudge, stroke)
        assert (r >= b) if nudge > 0 else (b >= r), (j, k, nudge, stroke)
    legend = page.text_content("#nudge-edges-legend")
    assert "red: increase w_jk (nudge > 0)" in legend and "blue: decrease w_jk (nudge < 0)" in legend
    assert "red: this activation should go up" in page.text_content("#activation-nudges-legend")
    # the mini-batch view: the average nudges of the output layer over a random mini-batch of 100
    page.click("#run-batch")
    page.wait_for_selector("#batch-layer-3", timeout=30_000)
    start = int(page.get_attribute("#batch-cost", "data-start"))
    batch_mlp = load_model(NOTES_MODEL)[0].to_scalar()
    outs = [batch_mlp(x.tolist()) for x in to_inputs(data.train_images[start : start + 100])]
    mse(outs, [int(y) for y in data.train_labels[start : start + 100]]).backward()
    average = [-sum(o[j].grad for o in outs) for j in range(10)]
    cells = page.locator("#batch-layer-3 tr td:nth-child(3)").evaluate_all("es => es.map(e => e.dataset.value)")
    assert [float(v) for v in cells] == pytest.approx(average, rel=1e-9, abs=1e-15)
    page.click("#step")
    page.wait_for_selector("#step-costs")
    assert "before" in page.text_content("#step-costs") and page.input_value("#model") == "notes (stepped)"


def test_two_tabs_at_once(browser, server):
    context = browser.new_context()
    tabs = [context.new_page() for _ in range(2)]
    for tab in tabs:
        tab.goto(server)
        tab.wait_for_selector("body[data-ready=true]")
        use_digits(tab)
    for tab, digit in zip(tabs, (1, 0)):
        draw(tab, STROKES[digit])
    for tab, digit in zip(tabs, (1, 0)):
        tab.wait_for_function(f"document.querySelector('#prediction').textContent === '{digit}'")
    context.close()


def touch_draw(page, cdp, strokes):
    """Draw with a finger: real touch input through Chromium's input pipeline (CDP), which the page
    receives as pointer events with pointerType "touch" (and which scroll the page unless the pad
    says touch-action: none)."""
    box = page.locator("#pad").bounding_box()

    def at(x, y):
        return [{"x": box["x"] + x * box["width"], "y": box["y"] + y * box["height"], "id": 1}]

    for stroke in strokes:
        cdp.send("Input.dispatchTouchEvent", {"type": "touchStart", "touchPoints": at(*stroke[0])})
        for (x0, y0), (x1, y1) in zip(stroke, stroke[1:]):
            for t in range(1, 9):
                point = at(x0 + (x1 - x0) * t / 8, y0 + (y1 - y0) * t / 8)
                cdp.send("Input.dispatchTouchEvent", {"type": "touchMove", "touchPoints": point})
        cdp.send("Input.dispatchTouchEvent", {"type": "touchEnd", "touchPoints": []})


@pytest.mark.parametrize("digit", [1, 7])
def test_a_finger_draws_a_digit_without_scrolling_the_page(browser, server, digit):
    # a phone-sized window: the page is taller than it, so a finger moving on an ordinary element scrolls
    context = browser.new_context(viewport={"width": 420, "height": 760}, has_touch=True, is_mobile=True)
    page = context.new_page()
    errors = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.goto(server)
    page.wait_for_selector("body[data-ready=true]")
    use_digits(page)
    page.locator("#pad").scroll_into_view_if_needed()
    page.evaluate(
        "window.seen = []; document.querySelector('#pad').addEventListener('pointermove', "
        "e => window.seen.push(e.pointerType))"
    )
    scrolled = page.evaluate("window.scrollY")
    assert page.evaluate("document.documentElement.scrollHeight") > 2 * 760
    touch_draw(page, context.new_cdp_session(page), STROKES[digit])
    page.wait_for_function(f"document.querySelector('#prediction').textContent === '{digit}'", timeout=5000)
    assert set(page.evaluate("window.seen")) == {"touch"}
    assert page.evaluate("window.scrollY") == scrolled  # the strokes drew; they did not scroll the page
    context.close()
    assert errors == []
