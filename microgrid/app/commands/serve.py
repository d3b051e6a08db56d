"""``python -m microgrid serve``: the notes, live, in a browser (the ``web`` extra)."""

from __future__ import annotations

import argparse
import ipaddress
import socket
import sys
from pathlib import Path
from typing import Any

from ..errors import UserError


def add_parser(sub: Any) -> None:
    p = sub.add_parser(
        "serve",
        help="the notes, live: draw a digit and watch the network think (a local web page)",
        description="Serve the notes' pictures as a live page: draw a digit, watch the network light up, see what a "
        "neuron looks for, backpropagation as nudges, and the chain rule with sliders. Every number is computed "
        "by microgrid in Python. Needs the web extra: pip install 'microgrid[web]'. Stop with Ctrl-C.",
    )
    p.add_argument(
        "--host",
        default="127.0.0.1",
        help="the address to listen on (default: 127.0.0.1, this machine only; another address, such as "
        "0.0.0.0, lets other machines reach the page, and serve prints a warning)",
    )
    p.add_argument("--port", type=int, default=8000, help="the port (default: 8000; 0 picks a free one)")
    p.add_argument(
        "--model", type=Path, help="a model file written by train, offered first (default: the bundled 98%% model)"
    )
    p.add_argument(
        "--data", type=Path, help="directory of IDX files the training panel trains on (default: the bundled MNIST)"
    )
    p.add_argument("--open", action="store_true", help="open the page in the default web browser")


def run(args: argparse.Namespace) -> int:
    if not 0 <= args.port <= 65535:
        raise UserError(f"--port must be in [0, 65535], got {args.port}")
    try:
        import uvicorn

        from ..web.server import create_app
        from ..web.state import load_state
    except ImportError as err:
        raise UserError(f"serve needs the web extra ({err.name} is missing): pip install 'microgrid[web]'") from None
    if args.data is not None and not args.data.is_dir():
        raise UserError(f"--data {args.data}: no such directory of IDX files")
    state = load_state(args.model)
    state.data_dir = args.data
    sock = _listen(args.host, args.port)
    app = create_app(state, hosts=served_names(args.host))
    port = sock.getsockname()[1]
    shown = f"[{args.host}]" if ":" in args.host else args.host
    url = f"http://{shown}:{port}/"
    print(f"microgrid serve: the notes, live, at {url}  (Ctrl-C stops)", flush=True)
    warning = exposure_warning(sock.getsockname()[0], port)
    if warning:
        print(warning, file=sys.stderr, flush=True)
    if args.open:
        import webbrowser

        webbrowser.open(url)
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", access_log=False, timeout_graceful_shutdown=1))
    try:
        server.run(sockets=[sock])
    except KeyboardInterrupt:  # uvicorn shuts down on Ctrl-C, then raises it again
        pass
    finally:
        sock.close()
    print("microgrid serve: stopped", file=sys.stderr)
    return 0


def served_names(host: str) -> list[str]:
    """The Host names the page answers besides localhost, 127.0.0.1 and [::1]: ``--host`` itself, and
    for an address of every interface (0.0.0.0, ::) this machine's name and addresses."""
    names = [host]
    if host in ("0.0.0.0", "::", ""):
        try:
            name, aliases, addresses = socket.gethostbyname_ex(socket.gethostname())
            names += [name, *aliases, *addresses]
        except OSError:
            names.append(socket.gethostname())
    return names


def _listen(host: str, port: int) -> socket.socket:
    """A listening socket on host:port (port 0: a free one), so the URL printed is the real one
    and connections made before the server runs wait in the queue."""
    try:
        family, kind, proto, _, _ = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)[0]
        # proto must say TCP: asyncio turns Nagle's algorithm off only on sockets that say so, and with it
        # on, an answer sent in two writes waits for the browser's delayed ACK (40 ms on Linux)
        sock = socket.socket(family, kind, proto)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((host, port))
        sock.listen(128)
    except OSError as err:
        raise UserError(f"cannot listen on {host}:{port}: {err.strerror or err}") from None
    return sock


def exposure_warning(address: str, port: int) -> str | None:
    """One line warning that the page can be reached from other machines, or None for a loopback address.

    ``address`` is the IP the socket is bound to (``getsockname()[0]``): 127.0.0.0/8 and ::1
    are this machine only; anything else (0.0.0.0, ::, a LAN address) is not.
    """
    try:
        ip: ipaddress.IPv4Address | ipaddress.IPv6Address = ipaddress.ip_address(address.split("%")[0])  # %zone
    except ValueError:
        return _warning(address, port)
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped  # ::ffff:127.0.0.1 is 127.0.0.1
    if ip.is_loopback:
        return None
    return _warning("every network interface" if ip.is_unspecified else address, port)


def _warning(where: str, port: int) -> str:
    return (
        f"microgrid serve: warning: listening on {where}, port {port}: other machines that can reach this one "
        "can open the page and use its API (no password); --host 127.0.0.1 keeps it to this machine"
    )
