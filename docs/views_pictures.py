"""Screenshots of the views of issue 25 (docs/images/live-views-*.png), taken by docs/live_pictures.py.

``views_pictures(page, out)`` drives the page as a learner would, after live_pictures has
drawn a 3 on the notes' network: opens the largest cell of the page's digit's dC0/dW(1),
climbs the gradient to a 3 and feeds noise, trains the notes' recipe with lambda_max on and
pauses it in epoch 4 (the Hessian slice there, and the replay scrubbed to the middle of the
run so far), then sets the learning rate to 1.3 x 2/lambda_max and lets it run two more
estimates, and presses the learning-rate mistake. Returns the names written.
"""

from __future__ import annotations

import time
from pathlib import Path

from playwright.sync_api import Page

NAMES = ("matrix", "ascent", "curvature", "replay", "mistakes")


def wait_for_api(page: Page, path: str, condition: str, timeout: float = 300.0) -> dict:
    """Poll GET ``path`` from the page until the JavaScript ``condition`` on its answer ``r`` holds."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        answer = page.evaluate(f"fetch('{path}').then(r => r.json())")
        if page.evaluate(f"r => Boolean({condition})", answer):
            return answer
        page.wait_for_timeout(300)
    raise TimeoutError(f"{path} never satisfied {condition}")


def _shot(page: Page, selector: str, out: Path, name: str) -> None:
    page.locator(selector).scroll_into_view_if_needed()
    hide = "visible => { const bar = document.getElementById('contents'); if (bar) bar.style.visibility = visible; }"
    page.evaluate(hide, "hidden")  # the sticky contents bar would cover the part's top
    page.wait_for_timeout(200)
    page.locator(selector).screenshot(path=str(out / f"live-views-{name}.png"))
    page.evaluate(hide, "")


def views_pictures(page: Page, out: Path) -> list[str]:
    """The five screenshots, on the page's notes' network with a drawn digit in state.image."""
    page.click("#matrix-drawing")
    page.wait_for_selector("#matrix-canvas[data-layer='1']")
    box = page.locator("#matrix-canvas").bounding_box()
    assert box is not None
    # the cell of largest size: its neuron's picture, its pixel
    j = int(page.get_attribute("#matrix-canvas", "data-strongest-j") or 0)
    k = int(page.get_attribute("#matrix-canvas", "data-strongest-k") or 0)
    scale = box["width"] / (4 * 84 + 3 * 6)
    x, y = (j % 4) * 90 + (k % 28 + 0.5) * 3, (j // 4) * 90 + (k // 28 + 0.5) * 3
    page.mouse.click(box["x"] + x * scale, box["y"] + y * scale)
    page.wait_for_selector("#cell-product")
    _shot(page, "#matrix", out, "matrix")

    page.select_option("#ascent-digit", "3")
    page.click("#ascent-run")
    page.wait_for_function("Number(document.querySelector('#ascent-status').dataset.steps) >= 150", timeout=60_000)
    page.click("#noise-run")
    page.wait_for_selector("#noise-status[data-digit]")
    _shot(page, "#ascent", out, "ascent")

    # a healthy run of the notes' recipe with lambda_max estimates, paused in epoch 4
    page.check("#curvature-on")
    post = "([path, body]) => fetch(path, {method: 'POST', headers: {'Content-Type': 'application/json'}, body})"
    page.evaluate(post, ["/api/train/start", '{"preset": "notes", "epochs": 8}'])
    wait_for_api(page, "/api/views/curvature", "r.rows.length >= 4 && r.step > 1800")
    page.evaluate(post, ["/api/train/pause", "{}"])
    wait_for_api(page, "/api/train/status", "r.status === 'paused'")
    page.click("#surface-hessian")  # the slice at the healthy weights
    page.wait_for_selector("#surface-canvas[data-along=hessian]", timeout=60_000)
    page.click("#replay-load")  # replay the healthy run up to here, scrubbed to the middle
    page.wait_for_selector("#replay-where[data-step]")
    middle = int(page.get_attribute("#replay-slider", "max") or 0) // 2
    page.locator("#replay-slider").evaluate(f"e => {{ e.value = '{middle}'; e.dispatchEvent(new Event('input')); }}")
    page.wait_for_function(f"document.querySelector('#replay-where').textContent.startsWith('snapshot {middle + 1} ')")
    _shot(page, "#replay", out, "replay")
    # then a learning rate 1.3 times the limit the last estimate gave: the cost climbs
    rows = wait_for_api(page, "/api/views/curvature", "r.rows.length >= 4")["rows"]
    page.evaluate(post, ["/api/train/control", f'{{"lr": {min(1.3 * rows[-1]["limit"], 90):.2f}}}'])
    page.evaluate(post, ["/api/train/resume", "{}"])
    wait_for_api(page, "/api/views/curvature", f"r.rows.length >= {len(rows) + 2}")
    page.evaluate(post, ["/api/train/stop", "{}"])
    wait_for_api(page, "/api/train/status", "r.status === 'stopped'")
    page.wait_for_timeout(1500)  # the plot's next poll
    _shot(page, "#curvature", out, "curvature")

    page.click("#mistakes button[data-lesson=lr]")
    page.wait_for_selector("#mistakes[data-lesson=lr]", timeout=60_000)
    _shot(page, "#mistakes", out, "mistakes")
    return [f"live-views-{n}.png" for n in NAMES]
