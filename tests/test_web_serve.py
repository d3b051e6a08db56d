"""``python -m microgrid serve`` as a user runs it: a real server on a free loopback port."""

import json
import signal
import socket
import subprocess
import sys
import urllib.request

import pytest

pytest.importorskip("starlette", reason="the web app needs the web extra: pip install 'microgrid[web]'")
pytest.importorskip("uvicorn", reason="the web app needs the web extra: pip install 'microgrid[web]'")

from web_server import ROOT, running_server  # noqa: E402

from microgrid.digits.fast import FastMLP  # noqa: E402
from microgrid.digits.model_file import save_model  # noqa: E402


def test_serve_prints_the_url_serves_the_page_and_stops_on_ctrl_c(tmp_path):
    path = save_model(tmp_path / "mine.npz", FastMLP(784, [12, 10], seed=3), {"config": {"loss": "mse"}})
    with running_server("--model", str(path)) as (url, proc):
        assert url.startswith("http://127.0.0.1:")
        page = urllib.request.urlopen(url).read().decode()
        assert "<canvas" not in page and 'src="/static/app.js"' in page  # the panels are built by the modules
        listing = json.loads(urllib.request.urlopen(url + "api/models").read())
        assert listing["default"] == "mine"
        assert {m["name"] for m in listing["models"]} >= {"digits", "notes", "mine"}
        proc.send_signal(signal.SIGINT)
        assert proc.wait(timeout=15) == 0
        assert "stopped" in proc.stderr.read()


@pytest.mark.parametrize(
    "args, message",
    [
        (["--port", "70000"], "--port must be in [0, 65535], got 70000"),
        (["--model", "no-such.npz"], "no-such.npz: no such model file"),
        (["--port", "taken"], None),
        (["--host", "no.such.host.invalid"], "cannot listen on no.such.host.invalid:8000"),
    ],
)
def test_serve_errors_are_one_line(args, message, tmp_path):
    if args == ["--port", "taken"]:
        taken = socket.socket()
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        args, message = ["--port", str(taken.getsockname()[1])], "cannot listen on 127.0.0.1:"
    done = subprocess.run(
        [sys.executable, "-m", "microgrid", "serve", *args], capture_output=True, text=True, cwd=tmp_path, timeout=60,
        env={"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin"},
    )
    assert done.returncode == 2
    assert done.stderr.strip().count("\n") == 0 and message in done.stderr


def test_the_listening_socket_says_tcp_so_answers_are_not_held_back_by_nagle():
    from microgrid.app.commands.serve import _listen

    sock = _listen("127.0.0.1", 0)
    try:
        # asyncio switches Nagle's algorithm off only for sockets whose proto says TCP; without that an
        # answer written in two pieces waits 40 ms for the client's delayed ACK
        assert sock.proto == socket.IPPROTO_TCP and sock.getsockname()[1] > 0
    finally:
        sock.close()
