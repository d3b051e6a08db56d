"""Screenshots of ``python -m microgrid serve`` for the docs (docs/images/live-*.png): each panel,
and the guided path (docs/live_story_pictures.py: desktop and phone width, nudges mid-flow, an
explanation on hover, gradient descent, a slow run mid-batch).

    python docs/live_pictures.py [-o docs/images]

Serves the app on a free loopback port, drives Chromium (/usr/bin/chromium) with
Playwright the way a learner would (draws a digit with the mouse, clicks a neuron, takes
a training image, averages a mini-batch, takes a step, moves a slider) and writes one
picture per panel; then the views of issue 25 (docs/views_pictures.py).
"""

from __future__ import annotations

import argparse
import socket
import sys
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # this checkout's microgrid, not an installed one

import uvicorn  # noqa: E402
from live_story_pictures import draw, story_pictures  # noqa: E402
from playwright.sync_api import sync_playwright  # noqa: E402
from views_pictures import views_pictures  # noqa: E402

from microgrid.app.web.server import create_app  # noqa: E402
from microgrid.app.web.state import load_state  # noqa: E402

THREE = [
    [(0.3, 0.22), (0.42, 0.15), (0.58, 0.15), (0.68, 0.24), (0.66, 0.36), (0.5, 0.46)],
    [(0.5, 0.46), (0.66, 0.54), (0.7, 0.68), (0.6, 0.82), (0.44, 0.86), (0.3, 0.78)],
]


def serve() -> tuple[uvicorn.Server, str]:
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    server = uvicorn.Server(uvicorn.Config(create_app(load_state()), log_level="warning"))
    threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True).start()
    while not server.started:
        time.sleep(0.05)
    return server, f"http://127.0.0.1:{sock.getsockname()[1]}/"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("-o", "--out", type=Path, default=Path("docs/images"))
    args = parser.parse_args()
    server, url = serve()
    errors: list[str] = []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=["--no-sandbox"])
        page = browser.new_page(viewport={"width": 1150, "height": 1000}, device_scale_factor=1)
        page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
        page.goto(url)
        page.wait_for_selector("body[data-ready=true]")
        page.select_option("#model", "notes")  # the notes' 784-16-16-10 network
        page.wait_for_selector('#network-svg [data-layer="3"]')
        draw(page, THREE)
        page.wait_for_function("document.querySelector('#prediction').textContent !== ''")
        page.wait_for_timeout(400)
        print("the drawn 3 is read as", page.text_content("#prediction"))
        shots = {"draw": "#draw", "network": "#network"}
        for name, selector in shots.items():
            page.locator(selector).screenshot(path=str(args.out / f"live-{name}.png"))
        # the first-layer neuron the drawing lights up most
        brightest = page.eval_on_selector_all(
            '#network-svg [data-layer="1"]',
            "es => es.reduce((b, e) => (Number(e.dataset.activation) > Number(b.dataset.activation) ? e : b))"
            ".dataset.index",
        )
        page.click(f'#network-svg circle[data-layer="1"][data-index="{brightest}"]')
        page.wait_for_selector("#neuron-activation")
        page.wait_for_timeout(300)
        page.locator("#neuron-panel").screenshot(path=str(args.out / "live-neuron.png"))
        page.click("#example-button")
        page.wait_for_selector("#output-nudges")
        page.click("#run-batch")
        page.wait_for_selector("#batch-layer-3", timeout=60_000)
        page.click("#step")
        page.wait_for_selector("#step-costs")
        page.wait_for_function("document.querySelector('#cost').textContent.includes('(stepped)')")
        page.locator("#nudges").screenshot(path=str(args.out / "live-nudges.png"))
        for key, value in (("w", 2.1), ("b", -1.3), ("a_prev", 0.8), ("y", 0.0)):
            slide = f"e => {{ e.value = '{value}'; e.dispatchEvent(new Event('input')); }}"
            page.locator(f"#slider-{key}").evaluate(slide)
        page.wait_for_function("document.querySelector('.chain-node[data-node=\"w(L)\"]').textContent.includes('2.1000')")
        page.locator("#chain").screenshot(path=str(args.out / "live-chain.png"))
        written = views_pictures(page, args.out)  # the views of issue 25
        written += story_pictures(browser, url, args.out, errors)  # the guided path of issue 24
        browser.close()
    server.should_exit = True
    if errors:
        raise SystemExit(f"the console showed errors: {errors}")
    names = [f"live-{n}.png" for n in ("draw", "network", "neuron", "nudges", "chain")] + written
    print("wrote", ", ".join(names), "in", args.out)


if __name__ == "__main__":
    main()
