"""The guided path's screenshots (docs/images/live-path-*.png, ...), taken by docs/live_pictures.py.

Each picture is taken the way a learner gets there: the path at desktop (1440x900) and phone
(390x844) width, nudges flowing back over the network, an explanation shown on hover, gradient
descent from five starts, and a slow training run in the middle of a mini-batch.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from playwright.sync_api import Page

THREE = [
    [(0.3, 0.22), (0.42, 0.15), (0.58, 0.15), (0.68, 0.24), (0.66, 0.36), (0.5, 0.46)],
    [(0.5, 0.46), (0.66, 0.54), (0.7, 0.68), (0.6, 0.82), (0.44, 0.86), (0.3, 0.78)],
]
FLOWING = "document.querySelector('#nudges .netpic').dataset"


def draw(page: Page, strokes: list[list[tuple[float, float]]]) -> None:
    box = page.locator("#pad").bounding_box()
    assert box is not None
    for stroke in strokes:
        page.mouse.move(box["x"] + stroke[0][0] * box["width"], box["y"] + stroke[0][1] * box["height"])
        page.mouse.down()
        for (x0, y0), (x1, y1) in zip(stroke, stroke[1:]):
            for t in range(1, 9):
                x, y = x0 + (x1 - x0) * t / 8, y0 + (y1 - y0) * t / 8
                page.mouse.move(box["x"] + x * box["width"], box["y"] + y * box["height"])
        page.mouse.up()


def _open(browser: Any, url: str, width: int, height: int, errors: list[str], **options: Any) -> Page:
    page: Page = browser.new_page(viewport={"width": width, "height": height}, device_scale_factor=1, **options)
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.goto(url)
    page.wait_for_selector("body[data-ready=true]")
    page.wait_for_selector('#network-svg [data-layer="3"]')
    return page


def _a_three_read(page: Page) -> None:
    draw(page, THREE)
    page.wait_for_function("document.querySelector('#prediction').textContent !== ''")
    page.click('#target-buttons button[data-digit="3"]')
    page.wait_for_selector("#cost-c0")
    page.wait_for_timeout(400)


def story_pictures(browser: Any, url: str, out: Path, errors: list[str]) -> list[str]:
    """Take the guided path's pictures into ``out``; returns their file names."""
    written = []
    page = _open(browser, url, 1440, 900, errors)
    _a_three_read(page)
    page.evaluate("window.scrollTo(0, 0)")
    page.screenshot(path=str(out / "live-path-desktop.png"))
    written.append("live-path-desktop.png")
    # an explanation: hover the cost C0 of the drawn 3
    page.locator("#cost-part").scroll_into_view_if_needed()
    page.hover("#cost-c0")
    page.wait_for_selector("#explain-box:not([hidden])")
    page.wait_for_timeout(200)
    page.screenshot(path=str(out / "live-hover.png"))
    written.append("live-hover.png")
    # gradient descent on one input from five starts
    page.mouse.move(5, 5)
    page.locator("#descent-one").scroll_into_view_if_needed()
    page.click("#descent-one-five")
    page.wait_for_selector("#descent-one-ends")
    page.locator("#descent-one").screenshot(path=str(out / "live-descent.png"))
    written.append("live-descent.png")
    # nudges flowing back: the output layer's nudges are there, the dots travel to layer 2
    page.locator("#nudges-svg").scroll_into_view_if_needed()
    page.click("#run-nudges")
    page.wait_for_function(f"{FLOWING}.flowing === 'back' && {FLOWING}.flowOrder === '3'")
    page.wait_for_timeout(350)
    page.locator("#nudges .netpic").screenshot(path=str(out / "live-nudges-flow.png"))
    written.append("live-nudges-flow.png")
    page.wait_for_function(f"{FLOWING}.flowing === 'done'")
    # a slow run: one mini-batch at a time, a few steps in
    page.locator("#learn").scroll_into_view_if_needed()
    page.select_option("#learn-pace", "batch")
    page.click("#learn-start")
    page.wait_for_function("document.getElementById('learn').dataset.status === 'paused'")
    for _ in range(3):
        step = page.get_attribute("#learn-batch-card", "data-step") or "0"
        page.click("#learn-step")
        page.wait_for_function(f"document.querySelector('#learn-batch-card').dataset.step !== '{step}'")
        page.wait_for_timeout(300)
    page.locator("#learn-batch-card").scroll_into_view_if_needed()
    page.evaluate("window.scrollBy(0, -330)")
    page.screenshot(path=str(out / "live-learn-slow.png"))
    written.append("live-learn-slow.png")
    page.click("#learn-stop")
    page.wait_for_function("document.getElementById('learn').dataset.status === 'stopped'")
    page.close()
    # a phone: the top of the path, and the network part
    phone = _open(browser, url, 390, 844, errors, has_touch=True, is_mobile=True)
    _a_three_read(phone)
    phone.evaluate("window.scrollTo(0, 0)")
    phone.screenshot(path=str(out / "live-path-phone.png"))
    phone.locator("#network").scroll_into_view_if_needed()
    phone.evaluate("window.scrollBy(0, -60)")
    phone.screenshot(path=str(out / "live-path-phone-network.png"))
    written += ["live-path-phone.png", "live-path-phone-network.png"]
    phone.close()
    return written
