"""``python -m microgrid serve``: the notes, live, in a browser (the ``web`` extra)."""

from __future__ import annotations

import argparse
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
    p.add_argument("--host", default="127.0.0.1", help="the address to listen on (default: 127.0.0.1, this machine)")
    p.add_argument("--port", type=int, default=8000, help="the port (default: 8000; 0 picks a free one)")
    p.add_argument(
        "--model", type=Path, help="a model file written by train, offered first (default: the bundled 98%% model)"
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
    app = create_app(load_state(args.model))
    config = uvicorn.Config(app, host=args.host, port=args.port, log_level="warning", access_log=False)
    server = uvicorn.Server(config)
    _announce_when_started(server, args.host, args.open)
    try:
        server.run()
    except KeyboardInterrupt:  # uvicorn shuts down on Ctrl-C, then raises it again
        pass
    print("microgrid serve: stopped", file=sys.stderr)
    return 0


def _announce_when_started(server: Any, host: str, open_browser: bool) -> None:
    """Print the URL (and open it) once uvicorn is listening, so port 0 shows the real port."""
    original = server.startup

    async def startup(sockets: Any = None) -> None:
        await original(sockets=sockets)
        if not server.started:
            return
        port = server.servers[0].sockets[0].getsockname()[1]
        shown = f"[{host}]" if ":" in host else host
        url = f"http://{shown}:{port}/"
        print(f"microgrid serve: the notes, live, at {url}  (Ctrl-C stops)", flush=True)
        if open_browser:
            import webbrowser

            webbrowser.open(url)

    server.startup = startup
