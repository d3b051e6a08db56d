"""The web app's speed on localhost: medians of what a learner waits for.

    python benchmarks/web.py [--repeats 30] [--no-browser]

Starts ``python -m microgrid serve`` on a free loopback port and times, over one
keep-alive HTTP connection as a browser holds it:

* predict round trip: a 140x140 drawing (the pad's size) to /api/predict on the bundled
  98% model, answer parsed; as the page sends it (bytes in base64) and as a list of numbers;
* chain recompute: /api/chain, the one-neuron chain by Value (one slider move);
* nudges: /api/nudges on the notes' network for one training image (scalar engine);
* first page load over HTTP: the page, its CSS and JavaScript modules, and the API calls
  the page makes when it opens (models, network, chain), fetched one after another;
* first page load in Chromium (when Playwright and /usr/bin/chromium are there): a fresh
  tab until the page says it is ready (every panel built, network drawn);
* the page's frame rate while nudges flow back over the network (Chromium, headless): the
  frames requestAnimationFrame runs from the flow's start to its end, per second (at least 30).
* the views of issue 25 (``_web_views.py``): opening a matrix cell's scalar graph, one step of
  input-gradient ascent, a replay scrub, and the curvature estimate's share of training time
  (``--no-views`` skips them).
"""

from __future__ import annotations

import argparse
import base64
import http.client
import json
import re
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path

import numpy as np
from _common import table
from _web_views import rows as views_rows
from _web_views import time_views

ROOT = Path(__file__).resolve().parents[1]
BUDGETS_MS = {
    "predict round trip": 20,
    "predict round trip, pixels as a JSON list": 20,
    "chain recompute": 20,
    "nudges (notes, one example)": 150,
}
STATIC = [
    "style.css", "app.js", "api.js", "paint.js", "explain.js", "story.js", "netpic.js", "draw.js", "network.js",
    "neuron.js", "cost.js", "descent.js", "nudges.js", "chain.js",
]  # fmt: skip
MIN_FRAMES_PER_SECOND = 30


def start_server() -> tuple[subprocess.Popen[str], str, int]:
    proc = subprocess.Popen(
        [sys.executable, "-m", "microgrid", "serve", "--port", "0"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=ROOT,
    )
    line: list[str] = []
    reader = threading.Thread(target=lambda: line.append(proc.stdout.readline()), daemon=True)  # type: ignore[union-attr]
    reader.start()
    reader.join(60)
    found = re.search(r"http://(127\.0\.0\.1):(\d+)/", line[0] if line else "")
    if not found:
        proc.kill()
        raise SystemExit(f"the server did not start: {line}")
    return proc, found.group(1), int(found.group(2))


def drawing_of_a_seven(side: int = 140) -> np.ndarray:
    pad = np.zeros((side, side))
    for t in np.linspace(0, 1, 200):
        for (x0, y0), (x1, y1) in (((30, 28), (110, 28)), ((110, 28), (60, 120))):
            x, y = int(x0 + (x1 - x0) * t), int(y0 + (y1 - y0) * t)
            pad[max(0, y - 5) : y + 5, max(0, x - 5) : x + 5] = 255
    return pad.astype(np.uint8)


def timed(conn: http.client.HTTPConnection, method: str, path: str, body: bytes | None = None) -> float:
    headers = {"Content-Type": "application/json"} if body is not None else {}
    t0 = time.perf_counter()
    conn.request(method, path, body=body, headers=headers)
    response = conn.getresponse()
    data = response.read()
    if response.status != 200:
        raise SystemExit(f"{path}: {response.status} {data[:200]!r}")
    if path.startswith("/api/"):
        json.loads(data)
    return time.perf_counter() - t0


def median_ms(fn, repeats: int) -> float:  # type: ignore[no-untyped-def]
    fn()  # warm-up: caches, the scalar copy of the model, the first connection
    return 1000 * statistics.median(fn() for _ in range(repeats))


def browser_load_ms(url: str, repeats: int) -> float | None:
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        return None
    if not Path("/usr/bin/chromium").exists():
        return None
    times = []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=["--no-sandbox"])
        for _ in range(repeats + 1):
            context = browser.new_context()  # a fresh tab with an empty cache each time
            page = context.new_page()
            t0 = time.perf_counter()
            page.goto(url)
            page.wait_for_selector("body[data-ready=true]")
            page.wait_for_selector('#network-svg [data-layer="1"]')
            times.append(time.perf_counter() - t0)
            context.close()
        browser.close()
    return 1000 * statistics.median(times[1:])


FLOW_FRAMES = """() => new Promise(done => {
  const flow = document.querySelector('#nudges .netpic');
  let frames = 0, t0 = null;
  const tick = (now) => {
    if (flow.dataset.flowing === 'back') { if (t0 === null) t0 = now; frames += 1; }
    if (t0 !== null && flow.dataset.flowing === 'done') { done(1000 * frames / (now - t0)); return; }
    requestAnimationFrame(tick);
  };
  requestAnimationFrame(tick);
})"""


def flow_frames_per_second(url: str, repeats: int) -> float | None:
    """Median frames per second that requestAnimationFrame runs while the nudges flow back."""
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        return None
    if not Path("/usr/bin/chromium").exists():
        return None
    rates = []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=["--no-sandbox"])
        page = browser.new_page(viewport={"width": 1440, "height": 900})
        page.goto(url)
        page.wait_for_selector("body[data-ready=true]")
        page.click("#example-button")
        page.wait_for_selector("#output-nudges")
        page.locator("#nudges-svg").scroll_into_view_if_needed()
        for _ in range(repeats):
            page.wait_for_function("document.querySelector('#nudges .netpic').dataset.flowing === 'done'")
            page.evaluate(f"window.counting = ({FLOW_FRAMES})(); undefined")  # counts from the flow's first frame
            page.click("#replay-flow")
            rates.append(float(page.evaluate("window.counting")))
        browser.close()
    return statistics.median(rates)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeats", type=int, default=30)
    parser.add_argument("--no-browser", action="store_true", help="skip the Chromium page load")
    parser.add_argument("--no-views", action="store_true", help="skip the views of issue 25")
    args = parser.parse_args()
    proc, host, port = start_server()
    fps: float | None = None
    try:
        conn = http.client.HTTPConnection(host, port)
        seven = drawing_of_a_seven()
        encoded = base64.b64encode(seven.tobytes()).decode()
        predict = json.dumps({"width": 140, "height": 140, "pixels_base64": encoded}).encode()
        predict_list = json.dumps({"width": 140, "height": 140, "pixels": seven.ravel().tolist()}).encode()
        chain = json.dumps({"w": 1.2, "b": -0.4, "a_prev": 0.6, "y": 1.0}).encode()
        conn.request("GET", "/api/example?index=0&model=notes")
        example = json.loads(conn.getresponse().read())
        nudges = json.dumps({"model": "notes", "image": example["image"], "target": example["label"]}).encode()
        descents = [  # the two descent parts' first drawing, as the page asks for them when it opens
            json.dumps({"surface": "one", "start": [3.2], "lr": 0.1, "steps": 0}).encode(),
            json.dumps({"surface": "two", "start": [1.7, 1.6], "lr": 0.3, "steps": 0}).encode(),
        ]

        def page_load() -> float:
            fresh = http.client.HTTPConnection(host, port)
            total = timed(fresh, "GET", "/")
            for name in STATIC:
                total += timed(fresh, "GET", f"/static/{name}")
            total += timed(fresh, "GET", "/api/models")
            total += timed(fresh, "GET", "/api/network?model=notes")
            total += timed(fresh, "POST", "/api/chain", chain)
            for descent in descents:
                total += timed(fresh, "POST", "/api/story/descent", descent)
            fresh.close()
            return total

        results = {
            "predict round trip": median_ms(lambda: timed(conn, "POST", "/api/predict", predict), args.repeats),
            "predict round trip, pixels as a JSON list": median_ms(
                lambda: timed(conn, "POST", "/api/predict", predict_list), args.repeats
            ),
            "chain recompute": median_ms(lambda: timed(conn, "POST", "/api/chain", chain), args.repeats),
            "nudges (notes, one example)": median_ms(lambda: timed(conn, "POST", "/api/nudges", nudges), args.repeats),
            "first page load, HTTP (page, modules, first API calls)": median_ms(page_load, args.repeats),
        }
        views = {} if args.no_views else time_views(conn, args.repeats)
        if not args.no_browser:
            loaded = browser_load_ms(f"http://{host}:{port}/", min(args.repeats, 10))
            if loaded is not None:
                results["first page load in Chromium (until ready)"] = loaded
            fps = flow_frames_per_second(f"http://{host}:{port}/", min(args.repeats, 5))
    finally:
        proc.terminate()
        proc.wait(15)
    budgets = {**BUDGETS_MS}
    rows = [
        [name, f"{ms:.1f}", budgets.get(name, 1000), "yes" if ms < budgets.get(name, 1000) else "NO"]
        for name, ms in results.items()
    ]
    if not args.no_views:
        rows += views_rows(views)
    print(f"medians of {args.repeats} runs on localhost (ms; the curvature rows: medians of 3 trainings)")
    print(table(["what", "median ms", "budget ms", "within"], rows))
    if not args.no_browser and fps is not None:
        ok = "yes" if fps >= MIN_FRAMES_PER_SECOND else "NO"
        print(f"\nframes per second while nudges flow back (Chromium, headless, requestAnimationFrame): {fps:.1f} "
              f"(at least {MIN_FRAMES_PER_SECOND}: {ok})")


if __name__ == "__main__":
    main()
