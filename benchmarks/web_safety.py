"""The server tried as an attacker would (issue 22): status codes, seconds and memory of each case.

    python benchmarks/web_safety.py [--root DIR]

Starts ``python -m microgrid serve`` of the checkout at ``--root`` (this one by default; run
it on an old checkout for the "before" column) on a free loopback port and sends, in turn:
cross-site writes (a text/plain POST, as a form on any site can send), requests with
another site's Host name (DNS rebinding), nudges on a 784-1024x4-10 network trained in
the page (with a nudges request on the notes' network sent meanwhile, from another "tab"),
a mini-batch of 100 on the 98% model (again with a notes nudges meanwhile), six steps at
lr 100 on the cross-entropy model, the inputs that gave 500s, a 2 MB body with its
Content-Length, and the event stream's bytes over 5 s after a job ended. Prints one row
per case: the answers' status codes, seconds, and the server's resident memory after it.
"""

from __future__ import annotations

import http.client
import json
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

from _common import table

ROOT = Path(__file__).resolve().parents[1]
JSON = {"Content-Type": "application/json"}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Server:
    def __init__(self, root: Path) -> None:
        self.port = free_port()
        self.proc = subprocess.Popen([sys.executable, "-m", "microgrid", "serve", "--port", str(self.port)], cwd=root,
                                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)  # fmt: skip
        for _ in range(300):
            if self.call("GET", "/api/models", timeout=5)[0] == 200:
                return
            time.sleep(0.1)
        raise RuntimeError("the server did not start")

    def call(self, method: str, path: str, body: bytes | None = None, headers: dict[str, str] | None = None,
             timeout: float = 600) -> tuple[int | str, bytes, float]:  # fmt: skip
        """(status or the exception's name, body, seconds) of one request on a new connection."""
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=timeout)
        t0 = time.perf_counter()
        try:
            conn.request(method, path, body=body, headers=headers or {})
            answer = conn.getresponse()
            return answer.status, answer.read(), time.perf_counter() - t0
        except OSError as err:
            return type(err).__name__, b"", time.perf_counter() - t0
        finally:
            conn.close()

    def post(self, path: str, data: object, timeout: float = 600) -> tuple[int | str, bytes, float]:
        return self.call("POST", path, json.dumps(data).encode(), JSON, timeout)

    def rss_mb(self) -> float:
        status = Path(f"/proc/{self.proc.pid}/status").read_text()
        return int(status.split("VmRSS:")[1].split()[0]) / 1024

    def train(self, settings: dict[str, object]) -> str:
        self.post("/api/train/start", settings)
        while True:
            state = json.loads(self.call("GET", "/api/train/status")[1])
            if state["status"] not in ("starting", "running", "paused"):
                return str(state["final"]["model"]) if state.get("final") else ""
            time.sleep(0.2)


def meanwhile(server: Server, work: tuple[str, object], image: list[float]) -> tuple[object, float, float]:
    """Run ``work`` (path, body) while another tab asks for the notes' nudges 0.3 s later:
    (work's status, its seconds, the other tab's seconds)."""
    other: list[float] = []

    def tab() -> None:
        time.sleep(0.3)
        other.append(server.post("/api/nudges", {"model": "notes", "image": image, "target": 5})[2])

    thread = threading.Thread(target=tab)
    thread.start()
    status, _, seconds = server.post(*work)  # type: ignore[arg-type]
    thread.join()
    return status, seconds, other[0]


def main() -> None:
    import argparse

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--root", type=Path, default=ROOT)
    args = parser.parse_args()
    s = Server(args.root)
    rows: list[list[object]] = []

    def row(case: str, statuses: object, seconds: float | str = "") -> None:
        shown = f"{seconds:.2f}" if isinstance(seconds, float) else seconds
        rows.append([case, statuses, shown, f"{s.rss_mb():.0f}"])

    try:
        image = json.loads(s.call("GET", "/api/example?index=0")[1])["image"]
        row("started", "")
        plain = {"Content-Type": "text/plain"}
        started = s.call("POST", "/api/train/start", b"", plain)
        stopped = s.call("POST", "/api/train/stop", b"", plain)
        s.post("/api/train/stop", {})
        stepped = s.call("POST", "/api/step", b"{}", plain)
        row("cross-site text/plain POST /api/train/start, /stop, /api/step", [started[0], stopped[0], stepped[0]])
        time.sleep(1)
        evil = {"Host": "attacker.example:8000"}
        hosts = [s.call("GET", p, headers=evil)[0] for p in ("/api/models", "/api/network", "/api/train/model.npz")]
        row("Host attacker.example: /api/models, /api/network, /api/train/model.npz", hosts)
        big = s.train({"sizes": [784, 1024, 1024, 1024, 1024, 10], "activation": "relu", "output_activation": "linear",
                       "loss": "cross_entropy", "optimizer": "adam", "lr": 1e-3, "epochs": 1, "limit": 1000,
                       "views": False})  # fmt: skip
        row(f"trained 784-1024x4-10 in the page ({big})", "")
        status, seconds, other = meanwhile(s, ("/api/nudges", {"model": big, "image": image, "target": 5}), image)
        row(f"/api/nudges on {big}; notes nudges meanwhile waited {other:.2f} s", status, seconds)
        body = {"model": "digits", "image": image, "target": 5, "count": 100}
        status, seconds, other = meanwhile(s, ("/api/batch", body), image)
        row(f"/api/batch count 100 on digits; notes nudges meanwhile waited {other:.2f} s", status, seconds)
        steps = []
        name = "digits"
        for _ in range(6):
            status, answer, _ = s.post("/api/step", {"model": name, "lr": 100.0})
            steps.append(status)
            if status == 200:
                name = json.loads(answer)["model"]
        last = s.post("/api/step", {"model": name, "lr": 1.0})[0]
        row("6 steps at lr 100 on digits, then one at lr 1", [*steps, last])
        cases = [
            s.call("GET", "/api/example?index=%C2%B2")[0],
            s.call("GET", "/api/example?index=" + "9" * 5000)[0],
            s.call("POST", "/api/chain", b'{"w": ' + b"9" * 5000 + b', "b": 0, "a_prev": 0, "y": 0}', JSON)[0],
            s.call("POST", "/api/predict", b"[" * 100_000, JSON)[0],
            s.call("POST", "/api/train/start", b'{"preset": []}', JSON)[0],
        ]
        row("index=², 5000-digit index, 5000-digit w, 100000 '[', preset []", cases)
        huge = s.call("POST", "/api/predict", b" " * 2_000_000, JSON)
        row("2 MB body with its Content-Length", huge[0], huge[2])
        s.train({"preset": "notes", "epochs": 1, "limit": 3000, "views": True})
        received = [0]

        def listen() -> None:
            conn = http.client.HTTPConnection("127.0.0.1", s.port, timeout=10)
            conn.request("GET", "/api/train/events")
            answer = conn.getresponse()
            seen = b""
            while b"\n\n" not in seen.partition(b"data: ")[2]:  # the first event: the whole state
                seen += answer.read1(100_000)
            received[0] = len(seen.partition(b"data: ")[2].partition(b"\n\n")[2])
            conn.sock.settimeout(0.5)  # type: ignore[union-attr]
            deadline = time.monotonic() + 5
            while time.monotonic() < deadline:
                try:
                    received[0] += len(answer.read1(100_000))
                except TimeoutError:
                    continue
                except OSError:
                    break
            conn.close()

        thread = threading.Thread(target=listen, daemon=True)
        thread.start()
        thread.join(8)
        row("event stream after the job ended: bytes in 5 s after the first event", received[0])
    finally:
        s.proc.terminate()
        s.proc.wait(30)
    print(f"server of {args.root}")
    print(table(["case", "status", "seconds", "RSS MB after"], rows))


if __name__ == "__main__":
    main()
