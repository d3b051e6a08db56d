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
        said = proc.stderr.read()
        assert "stopped" in said and "warning" not in said  # 127.0.0.1 is this machine only


@pytest.mark.parametrize(
    "args, message",
    [
        (["--port", "70000"], "--port must be in [0, 65535], got 70000"),
        (["--model", "no-such.npz"], "no-such.npz: no such model file"),
        (["--port", "taken"], None),
        (["--host", "no.such.host.invalid"], "cannot listen on no.such.host.invalid:8000"),
        (["--data", "no-such-dir"], "--data no-such-dir: no such directory of IDX files"),
    ],
)
def test_serve_errors_are_one_line(args, message, tmp_path):
    if args == ["--port", "taken"]:
        taken = socket.socket()
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        args, message = ["--port", str(taken.getsockname()[1])], "cannot listen on 127.0.0.1:"
    done = subprocess.run(
        [sys.executable, "-m", "microgrid", "serve", *args],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        timeout=60,
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


@pytest.mark.parametrize(
    "address, where",
    [
        ("127.0.0.1", None),
        ("127.0.1.1", None),  # Debian's name for this machine in /etc/hosts
        ("::1", None),
        ("::ffff:127.0.0.1", None),
        ("0.0.0.0", "every network interface"),
        ("::", "every network interface"),
        ("192.168.1.20", "192.168.1.20"),
        ("fe80::1%eth0", "fe80::1%eth0"),
        ("2001:db8::5", "2001:db8::5"),
    ],
)
def test_a_non_loopback_address_gets_a_one_line_warning(address, where):
    from microgrid.app.commands.serve import exposure_warning

    warning = exposure_warning(address, 8000)
    if where is None:
        assert warning is None
    else:
        assert warning is not None and "\n" not in warning
        assert f"listening on {where}, port 8000" in warning and "other machines" in warning


def test_serve_with_host_0000_prints_the_warning(monkeypatch, capsys):
    """The path from --host to the warning, with nothing bound: the socket and uvicorn are stand-ins."""
    import uvicorn

    from microgrid.app import cli
    from microgrid.app.commands import serve

    class Bound:
        def getsockname(self):
            return ("0.0.0.0", 8123)

        def close(self):
            pass

    listened = []
    monkeypatch.setattr(serve, "_listen", lambda host, port: listened.append((host, port)) or Bound())
    monkeypatch.setattr(uvicorn.Server, "run", lambda self, sockets=None: None)
    assert cli.main(["serve", "--host", "0.0.0.0", "--port", "8123"]) == 0
    out, err = capsys.readouterr()
    assert listened == [("0.0.0.0", 8123)]
    assert "http://0.0.0.0:8123/" in out and "warning" not in out  # stdout's first line stays the URL
    lines = err.strip().splitlines()
    assert lines[0].startswith("microgrid serve: warning: listening on every network interface, port 8123")
    assert lines[-1] == "microgrid serve: stopped"


def test_serve_data_reaches_the_training_panel(monkeypatch, tmp_path):
    """--data DIR: the app's training panel trains on DIR's IDX files (nothing is bound: stand-ins)."""
    import uvicorn

    from microgrid.app import cli
    from microgrid.app.commands import serve

    class Bound:
        def getsockname(self):
            return ("127.0.0.1", 8124)

        def close(self):
            pass

    apps = []
    monkeypatch.setattr(serve, "_listen", lambda host, port: Bound())
    monkeypatch.setattr(uvicorn.Server, "run", lambda self, sockets=None: apps.append(self.config.app))
    assert cli.main(["serve", "--port", "8124", "--data", str(tmp_path)]) == 0
    assert apps[0].state.models.training.data_dir == tmp_path
