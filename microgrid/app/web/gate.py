"""What every request to the local server passes first, and how every refusal is answered.

The server is meant for the learner's own browser on this machine, so before any route runs
(:class:`Gate`, ASGI middleware):

1. **Host names it serves only** (against DNS rebinding, where a page of another site is
   made to resolve to 127.0.0.1 and read the API): the ``Host`` header must name
   localhost, 127.0.0.1, [::1] or the ``--host`` the server was started with (any port).
   Anything else: 421 Misdirected Request. No Host header: 400.
2. **No cross-site request changes state** (against CSRF, where a page of another site
   posts a form here): a request other than GET/HEAD/OPTIONS must
   - not come from another site: ``Sec-Fetch-Site`` (every current browser sends it), if
     present, is ``same-origin`` or ``none``, and ``Origin``, if present, is this server's
     own origin (same host and port as the Host header); otherwise 403;
   - send ``Content-Type: application/json``; otherwise 415. An HTML form can only send
     form encodings or text/plain, and a cross-site ``fetch`` with JSON needs a CORS
     preflight that this server never grants, so a page of another site cannot make one.
   A client that is not a browser (curl, the tests) sends neither Origin nor Sec-Fetch-Site
   and is served as before. There is no token: the two checks need no state and no change
   to the page's requests, which already send JSON.
3. **A body over** ``MAX_BODY_BYTES``: 413 with one line, the body read to its end first
   (closing a connection with the body unread makes the client see a reset, not the answer).

Errors: every refusal of the API is an :class:`~microgrid.app.web.errors.ApiError` (a 4xx and
one line), answered ``{"error": "..."}``; Starlette's own 404/405 the same way; anything else
a 500 with one line, never a traceback. ``build_app`` puts the gate and these handlers
around any list of routes (the whole app, or the training panel alone).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from .errors import ApiError

__all__ = ["MAX_BODY_BYTES", "LOOPBACK_NAMES", "Gate", "build_app", "host_name"]

MAX_BODY_BYTES = 1_000_000
"""The largest request body the API reads (a 140x140 drawing as JSON is about 60 kB)."""

LOOPBACK_NAMES = ("localhost", "127.0.0.1", "::1")
SAFE_METHODS = ("GET", "HEAD", "OPTIONS")


def host_name(host: str) -> str:
    """The name part of a Host header or an origin's host: "[::1]:8000" -> "::1", "LocalHost:80" -> "localhost"."""
    host = host.strip().lower()
    if host.startswith("["):
        return host[1 : host.find("]")] if "]" in host else host
    if host.count(":") == 1:
        return host.split(":", 1)[0]
    return host


class Gate:
    """ASGI middleware: Host check, cross-site check and JSON-only writes, body limit (see the module)."""

    def __init__(self, app: ASGIApp, hosts: Iterable[str] = (), limit: int = MAX_BODY_BYTES) -> None:
        self.app = app
        self.hosts = {host_name(h) for h in (*LOOPBACK_NAMES, *hosts)}
        self.limit = limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope.get("headers") or []}
        refusal = self._refusal(scope["method"], headers)
        if refusal is not None:
            await _drain(receive)
            await _refuse(send, *refusal)
            return
        length = headers.get("content-length", "0")
        message = f"the request body is over the limit of {self.limit:,} bytes"
        if not length.isascii() or not length.isdigit():
            await _drain(receive)
            await _refuse(send, 400, "the Content-Length header is not a number")
            return
        if int(length) > self.limit:
            await _drain(receive)
            await _refuse(send, 413, message)
            return
        seen = 0

        async def counted() -> Message:
            nonlocal seen
            msg = await receive()
            seen += len(msg.get("body", b""))
            if seen > self.limit:
                if msg.get("more_body"):
                    await _drain(receive)
                raise ApiError(413, message)
            return msg

        await self.app(scope, counted, send)

    def _refusal(self, method: str, headers: dict[str, str]) -> tuple[int, str] | None:
        host = headers.get("host")
        if host is None:
            return 400, "the request has no Host header"
        if host_name(host) not in self.hosts:
            served = ", ".join(sorted(self.hosts))
            return 421, f"this server answers only requests for {served}, not {host[:80]!r}"
        if method in SAFE_METHODS:
            return None
        site = headers.get("sec-fetch-site")
        if site is not None and site not in ("same-origin", "none"):
            return 403, f"refused a {method} from another site (Sec-Fetch-Site: {site[:40]}): use the page itself"
        origin = headers.get("origin")
        if origin is not None and origin.split("://", 1)[-1].lower() != host.strip().lower():
            return 403, f"refused a {method} from another origin ({origin[:80]}): use the page itself"
        kind = headers.get("content-type", "").split(";", 1)[0].strip().lower()
        if kind != "application/json":
            return 415, f"a {method} must send Content-Type: application/json, got {kind[:60] or 'none'}"
        return None


async def _drain(receive: Receive) -> None:
    """Read the rest of the request body and drop it."""
    while True:
        msg = await receive()
        if msg["type"] != "http.request" or not msg.get("more_body"):
            return


async def _refuse(send: Send, status: int, message: str) -> None:
    response = JSONResponse({"error": message}, status_code=status)
    await send({"type": "http.response.start", "status": status, "headers": response.raw_headers})
    await send({"type": "http.response.body", "body": response.body})


def _api_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, ApiError)
    return JSONResponse({"error": exc.message}, status_code=exc.status)


def _http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    return JSONResponse({"error": f"{request.url.path}: {exc.detail}"}, status_code=exc.status_code)


def _server_error(request: Request, exc: Exception) -> Response:
    text = " ".join(str(exc).split())[:200]
    return JSONResponse({"error": f"internal error ({type(exc).__name__}: {text})"}, status_code=500)


def build_app(routes: Sequence[BaseRoute], hosts: Iterable[str] = (), limit: int = MAX_BODY_BYTES) -> Starlette:
    """A Starlette app of ``routes`` behind the :class:`Gate`, errors answered in one line.

    ``hosts``: Host names served besides localhost, 127.0.0.1 and [::1] (serve's ``--host``).
    """
    return Starlette(
        routes=list(routes),
        middleware=[Middleware(Gate, hosts=tuple(hosts), limit=limit)],
        exception_handlers={ApiError: _api_error, HTTPException: _http_error, Exception: _server_error},
    )
