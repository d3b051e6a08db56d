"""Training in the page against ``python -m microgrid train``: time per epoch, and how often events arrive.

    python benchmarks/web_training.py [--rounds 3] [--presets notes,best]

For each preset, in turn, round after round (so machine noise hits both alike):
  - the command: ``python -m microgrid train --preset P --epochs E`` in a subprocess;
    its own per-epoch seconds (the batch loop) are read from its output;
  - the page: the panel's server (``uvicorn microgrid.app.web.learn_app:create_app``) in a
    subprocess, a client listening to /api/train/events while it POSTs /api/train/start
    with the same preset and epochs (live views on, as in the page); the job's per-epoch
    seconds come from its history, the event gaps from the client's clock.
Per-epoch ratio = median over all epochs of the page / median of the command. The
events' target is a gap of at most 0.5 s; the ratio's is at most 1.15.

Where the web app is installed (``microgrid/app/web/server.py``), it also times the draw
panel's predict round trip (POST /api/predict, a 28x28 digit) in ``python -m microgrid
serve``, idle and while the training panel trains the given preset (target: under 200 ms).
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import re
import socket
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path

import httpx
from _common import table

ROOT = Path(__file__).resolve().parents[1]
EPOCHS = {"notes": 5, "notes-best": 3, "best": 2}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def command_epochs(preset: str, epochs: int, tmp: Path) -> list[float]:
    """The per-epoch seconds ``python -m microgrid train`` prints."""
    done = subprocess.run(
        [sys.executable, "-m", "microgrid", "train", "--preset", preset, "--epochs", str(epochs), "--no-progress",
         "-o", str(tmp / "bench.npz")],
        capture_output=True, text=True, cwd=ROOT, check=True,
    )  # fmt: skip
    return [float(s) for s in re.findall(r"epoch +\d+ .* ([\d.]+)s$", done.stdout, re.M)]


def page_epochs(base: str, preset: str, epochs: int) -> tuple[list[float], list[float]]:
    """The job's per-epoch seconds, and the gaps (s) between events while it ran."""
    arrivals: list[float] = []
    finished = threading.Event()

    def listen() -> None:
        with httpx.stream("GET", f"{base}/api/train/events?until=end", timeout=60) as stream:
            for line in stream.iter_lines():
                if line.startswith("data: "):
                    arrivals.append(time.perf_counter())
                    if json.loads(line[6:]).get("status") in ("done", "stopped", "diverged", "failed"):
                        break
        finished.set()

    answer = httpx.post(f"{base}/api/train/start", json={"preset": preset, "epochs": epochs}, timeout=60)
    answer.raise_for_status()
    listener = threading.Thread(target=listen, daemon=True)
    listener.start()
    finished.wait(600)
    status = httpx.get(f"{base}/api/train/status", timeout=60).json()
    if status["status"] != "done":
        raise RuntimeError(f"the page's job ended {status['status']}: {status['message']}")
    gaps = [b - a for a, b in zip(arrivals, arrivals[1:])]
    return [row["seconds"] for row in status["history"]], gaps


def predict_round_trips(preset: str, requests: int = 40) -> list[list[str]]:
    """Median and largest predict round trip (ms) of the app's server, idle and while training."""
    port = free_port()
    server = subprocess.Popen([sys.executable, "-m", "microgrid", "serve", "--port", str(port)], cwd=ROOT,
                              stdout=subprocess.DEVNULL)  # fmt: skip
    base = f"http://127.0.0.1:{port}"
    digit = {"width": 28, "height": 28, "pixels": [255 if 10 <= i % 28 <= 14 else 0 for i in range(784)]}
    rows = []
    try:
        with httpx.Client(base_url=base, timeout=30) as client:
            for _ in range(100):
                try:
                    client.get("/api/models")
                    break
                except httpx.TransportError:
                    time.sleep(0.1)
            for when in ("idle", f"training {preset}"):
                if when != "idle":
                    client.post("/api/train/start", json={"preset": preset, "epochs": 30}).raise_for_status()
                    time.sleep(1.0)
                times = []
                for _ in range(requests):
                    t0 = time.perf_counter()
                    client.post("/api/predict", json=digit).raise_for_status()
                    times.append(1000 * (time.perf_counter() - t0))
                    time.sleep(0.1)
                rows.append([when, f"{statistics.median(times):.1f}", f"{max(times):.1f}"])
            client.post("/api/train/stop", json={})
    finally:
        server.terminate()
        server.wait(30)
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--presets", default="notes,best")
    args = parser.parse_args()
    presets = args.presets.split(",")
    port = free_port()
    server = subprocess.Popen(
        [sys.executable, "-m", "uvicorn", "microgrid.app.web.learn_app:create_app", "--factory", "--port", str(port),
         "--log-level", "warning", "--timeout-graceful-shutdown", "1"],
        cwd=ROOT,
    )  # fmt: skip
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(100):
            try:
                httpx.get(f"{base}/api/train/status", timeout=1)
                break
            except httpx.TransportError:
                time.sleep(0.1)
        rows = []
        tmp = Path(subprocess.check_output(["mktemp", "-d"], text=True).strip())
        for preset in presets:
            cli: list[float] = []
            page: list[float] = []
            gaps: list[float] = []
            for _ in range(args.rounds):
                cli += command_epochs(preset, EPOCHS[preset], tmp)
                seconds, between = page_epochs(base, preset, EPOCHS[preset])
                page += seconds
                gaps += between
            ratio = statistics.median(page) / statistics.median(cli)
            rows.append([
                preset, f"{len(cli)}", f"{statistics.median(cli):.3f}", f"{statistics.median(page):.3f}",
                f"{ratio:.2f}x", f"{statistics.median(gaps):.3f}", f"{max(gaps):.3f}",
            ])  # fmt: skip
        headers = ["preset", "epochs", "train s/epoch", "page s/epoch", "ratio", "event gap median s", "max s"]
        print(table(headers, rows))
    finally:
        server.terminate()
        server.wait(10)
    if importlib.util.find_spec("microgrid.app.web.server") is not None:
        print()
        print(table(["predict round trip", "median ms", "max ms"], predict_round_trips(presets[0])))


if __name__ == "__main__":
    main()
