"""The server's memory after 20 training jobs of the largest network the page allows and 100 nudges.

    python benchmarks/web_memory.py [--jobs 20] [--nudges 100] [--root DIR]

Starts ``python -m microgrid serve`` (the checkout at ``--root``, this one by default) on a
free loopback port, then, one after another:

1. ``--jobs`` training jobs of 784-1024-1024-1024-1024-10 (the training panel's largest:
   4 hidden layers of 1024), relu, cross-entropy, Adam, one epoch on the first 2000
   images, live views on;
2. one job of 784-64-64-64-64-10, the largest network the nudges view takes, and
   ``--nudges`` /api/nudges requests on it (a training image each).

It prints the server's resident memory (VmRSS) and its peak (VmHWM) from /proc after
each phase, in MB. The target (issue 22): under 400 MB at the end.
"""

from __future__ import annotations

import argparse
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
from _common import table

ROOT = Path(__file__).resolve().parents[1]
LARGEST = [784, 1024, 1024, 1024, 1024, 10]
NUDGES_LARGEST = [784, 64, 64, 64, 64, 10]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def memory_mb(pid: int) -> tuple[float, float]:
    """(VmRSS, VmHWM) of process ``pid`` in MB."""
    fields = dict(line.split(":", 1) for line in Path(f"/proc/{pid}/status").read_text().splitlines() if ":" in line)
    return tuple(int(fields[k].split()[0]) / 1024 for k in ("VmRSS", "VmHWM"))  # type: ignore[return-value]


def train(client: httpx.Client, sizes: list[int]) -> str:
    """Run one job to its end; returns the trained model's name."""
    settings = {"sizes": sizes, "activation": "relu", "output_activation": "linear", "loss": "cross_entropy",
                "optimizer": "adam", "lr": 1e-3, "epochs": 1, "limit": 2000, "views": True}  # fmt: skip
    client.post("/api/train/start", json=settings).raise_for_status()
    while (state := client.get("/api/train/status").json())["status"] in ("starting", "running", "paused"):
        time.sleep(0.2)
    if state["status"] != "done":
        raise RuntimeError(f"the job ended {state['status']}: {state['message']}")
    return str(state["final"]["model"])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--jobs", type=int, default=20)
    parser.add_argument("--nudges", type=int, default=100)
    parser.add_argument("--root", type=Path, default=ROOT, help="the checkout whose server to measure")
    args = parser.parse_args()
    port = free_port()
    server = subprocess.Popen([sys.executable, "-m", "microgrid", "serve", "--port", str(port)], cwd=args.root,
                              stdout=subprocess.DEVNULL)  # fmt: skip
    rows = []
    try:
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=600) as client:
            for _ in range(200):
                try:
                    client.get("/api/models").raise_for_status()
                    break
                except httpx.TransportError:
                    time.sleep(0.1)
            example = client.get("/api/example?index=0").json()  # loads MNIST, as the page does
            rows.append(["started, MNIST loaded", *(f"{m:.0f}" for m in memory_mb(server.pid)), ""])
            t0 = time.perf_counter()
            for _ in range(args.jobs):
                train(client, LARGEST)
            seconds = time.perf_counter() - t0
            kept = len(client.get("/api/models").json()["models"])
            mb = [f"{m:.0f}" for m in memory_mb(server.pid)]
            shape = "-".join(map(str, LARGEST))
            rows.append([f"after {args.jobs} jobs of {shape}", *mb, f"{seconds:.0f} s, {kept} models listed"])
            name = train(client, NUDGES_LARGEST)
            t0 = time.perf_counter()
            for _ in range(args.nudges):
                body = {"model": name, "image": example["image"], "target": example["label"]}
                client.post("/api/nudges", json=body).raise_for_status()
            seconds = time.perf_counter() - t0
            mb = [f"{m:.0f}" for m in memory_mb(server.pid)]
            shape = "-".join(map(str, NUDGES_LARGEST))
            rows.append([f"after {args.nudges} nudges on {shape}", *mb, f"{seconds / args.nudges:.2f} s each"])
    finally:
        server.terminate()
        server.wait(30)
    print(f"server of {args.root}")
    print(table(["", "RSS MB", "peak MB", "note"], rows))


if __name__ == "__main__":
    main()
