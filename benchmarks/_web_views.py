"""The views of issue 25, timed for benchmarks/web.py (one section of its table).

* opening a matrix cell's scalar graph: POST /api/views/cell on the notes' network, for a new
  example each time (the graph of C0 built and backpropagated: the first click) and for
  another weight of the same example (the graph reused);
* one step of input-gradient ascent on the notes' network: POST /api/views/ascent, steps=1;
* replay scrubbing: POST /api/views/replay at a new position each time, after a one-epoch run
  of notes-plain started through the API;
* the curvature estimate's share of the training time: notes-plain trained in this process by
  the one training loop, with the page's RunViews watcher, lambda_max estimates off and on,
  side by side (medians of the runs).
"""

from __future__ import annotations

import http.client
import json
import statistics
import time
from collections.abc import Callable

import numpy as np

BUDGETS_MS = {
    "views: open a matrix cell (new example: graph built)": 200,
    "views: open a matrix cell (same example)": 200,
    "views: one input-ascent step (notes)": 50,
    "views: replay scrub, one position": 100,
}
CURVATURE_BUDGET = 0.10


def _post(conn: http.client.HTTPConnection, path: str, body: dict) -> tuple[float, dict]:
    t0 = time.perf_counter()
    conn.request("POST", path, body=json.dumps(body).encode(), headers={"Content-Type": "application/json"})
    response = conn.getresponse()
    data = json.loads(response.read())
    if response.status != 200:
        raise SystemExit(f"{path}: {response.status} {data}")
    return time.perf_counter() - t0, data


def _median_ms(times: list[float]) -> float:
    return 1000 * statistics.median(times)


def time_views(conn: http.client.HTTPConnection, repeats: int) -> dict[str, float]:
    """The round trips of the views' requests, median ms."""
    examples = []
    for index in range(repeats + 1):
        conn.request("GET", f"/api/example?index={index}&model=notes")
        examples.append(json.loads(conn.getresponse().read()))
    results: dict[str, float] = {}
    cold, warm = [], []
    for n, ex in enumerate(examples):
        body = {"model": "notes", "image": ex["image"], "label": ex["label"], "layer": 1, "j": n % 16, "k": 400}
        seconds, _ = _post(conn, "/api/views/cell", body)
        if n:  # the first also converts the model to the scalar engine, once per server
            cold.append(seconds)
        warm.append(_post(conn, "/api/views/cell", {**body, "j": (n + 3) % 16, "k": 300})[0])
    results["views: open a matrix cell (new example: graph built)"] = _median_ms(cold)
    results["views: open a matrix cell (same example)"] = _median_ms(warm)
    image = [0.0] * 784
    steps = []
    for _ in range(repeats + 1):
        seconds, answer = _post(conn, "/api/views/ascent", {"model": "notes", "digit": 3, "image": image, "steps": 1})
        image = answer["image"]
        steps.append(seconds)
    results["views: one input-ascent step (notes)"] = _median_ms(steps[1:])
    _post(conn, "/api/train/start", {"preset": "notes-plain", "epochs": 1})
    while True:
        conn.request("GET", "/api/train/status")
        if json.loads(conn.getresponse().read())["status"] not in ("starting", "running", "paused"):
            break
        time.sleep(0.2)
    conn.request("GET", "/api/views/replay")
    count = len(json.loads(conn.getresponse().read())["steps"])
    rng = np.random.default_rng(0)
    scrubs = [_post(conn, "/api/views/replay", {"position": int(p), "image": image})[0]
              for p in rng.integers(0, count, repeats + 1)]  # fmt: skip
    results["views: replay scrub, one position"] = _median_ms(scrubs[1:])
    return results


def curvature_share(epochs: int = 2, repeats: int = 3) -> tuple[float, float, float]:
    """Training seconds without and with lambda_max estimates (medians), and the estimates' own share."""
    from microgrid.app.web.views_runs import RunViews
    from microgrid.digits.data import load_mnist
    from microgrid.digits.loop import Loop
    from microgrid.digits.train import PRESETS, TrainConfig

    data = load_mnist()
    config = TrainConfig(**{**PRESETS["notes-plain"], "epochs": epochs}).check()

    def run(on: bool) -> tuple[float, float]:
        loop = Loop(config, data)
        t0 = time.perf_counter()
        views = RunViews(loop.model, loop.pixels, loop.labels, config.loss, lambda: time.perf_counter() - t0)  # type: ignore[arg-type]
        views.switch_curvature(on)
        loop.run(views)
        return time.perf_counter() - t0, views.curvature.spent

    off: list[float] = []
    on: list[tuple[float, float]] = []
    for _ in range(repeats):
        off.append(run(False)[0])
        on.append(run(True))
    return statistics.median(off), statistics.median(t for t, _ in on), statistics.median(s / t for t, s in on)


def rows(results: dict[str, float], measure: Callable[[], tuple[float, float, float]] = curvature_share) -> list[list]:
    """The section's rows: [what, median, budget, within]."""
    out = [[k, f"{v:.1f}", BUDGETS_MS[k], "yes" if v < BUDGETS_MS[k] else "NO"] for k, v in results.items()]
    off, on, share = measure()
    ratio = on / off  # the whole cost: the estimates and what they do to the training (caches)
    out.append([f"views: training with lambda_max on / off (notes-plain, {off:.2f} s off)", f"{ratio:.3f}x",
                f"{1 + CURVATURE_BUDGET:.2f}x", "yes" if ratio <= 1 + CURVATURE_BUDGET else "NO"])  # fmt: skip
    out.append(["views: the estimates' share of the training time", f"{share:.1%}", f"{CURVATURE_BUDGET:.0%}",
                "yes" if share <= CURVATURE_BUDGET else "NO"])  # fmt: skip
    return out
