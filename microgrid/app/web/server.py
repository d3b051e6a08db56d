"""The Starlette app of ``python -m microgrid serve``, built from parts.

How to add a part (the training panel is one line in ``PARTS``)::

    # microgrid/app/web/training.py
    def training_routes(state: AppState) -> list[BaseRoute]:
        return [Mount("/api/train", routes=[Route("/start", start, methods=["POST"]), ...])]

    TRAINING = WebPart("learn", training_routes, scripts=("learn.js",), styles=("learn.css",))

    # here
    PARTS = [NOTES, TRAINING]

* A part's ``routes(state)`` returns Starlette routes; they are added to the app as they
  are (a part picks its own paths, under ``/api/<something>``).
* Its ``scripts`` and ``styles`` are files in ``static/``: the page links them after the
  core ones (index.html's ``<!--part-styles-->`` and ``<!--part-scripts-->`` markers), each
  script as a JavaScript module. A script builds its own ``<section>`` and appends it to
  ``<main id="panels">``; ``static/api.js`` exports ``postJSON``/``getJSON`` (throw an Error
  whose message is the API's one-line error) and ``state`` (the page's current model,
  ``onModelsChanged`` to refresh the model menu after adding one).
* ``state`` is the app-wide :class:`~microgrid.app.web.state.AppState`: ``state.models``
  maps name -> (FastMLP, meta), ``state.model(name)`` looks one up (ApiError 404),
  ``state.add_model(name, model, meta)`` makes a new one available to every tab (GET
  ``/api/models`` lists them), ``state.lock`` guards changes.
* Endpoints raise :class:`~microgrid.app.web.errors.ApiError` (status, one-line message) for
  bad input; ``api_helpers.read_json(request)`` parses a body (400 for malformed JSON or a
  non-finite number; the app answers 413 for a body over ``MAX_BODY_BYTES``). Any other
  exception becomes a 500 with one line, never a traceback.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, Response
from starlette.routing import BaseRoute, Mount, Route
from starlette.staticfiles import StaticFiles
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from .api import notes_routes
from .errors import ApiError
from .state import AppState
from .training import learn_routes
from .views_api import views_routes

__all__ = ["MAX_BODY_BYTES", "STATIC", "WebPart", "PARTS", "NOTES", "TRAINING", "create_app"]

STATIC = Path(__file__).resolve().parent / "static"
MAX_BODY_BYTES = 1_000_000
"""The largest request body the API reads (a 140x140 drawing as JSON is about 60 kB)."""


@dataclass(frozen=True)
class WebPart:
    """One part of the page: its API routes, and its scripts and styles in ``static/``."""

    name: str
    routes: Callable[[AppState], list[BaseRoute]]
    scripts: tuple[str, ...] = ()
    styles: tuple[str, ...] = ()


NOTES = WebPart("notes", notes_routes)  # the five panels; their files are linked by index.html itself
TRAINING = WebPart("learn", learn_routes, scripts=("learn.js",), styles=("learn.css",))  # watch the network learn
VIEWS = WebPart("views", views_routes, scripts=("views.js",), styles=("views.css",))  # only this engine: issue 25
PARTS: list[WebPart] = [NOTES, TRAINING, VIEWS]


class BodyLimit:
    """ASGI middleware: a request body over ``limit`` bytes gets 413 before it is all read."""

    def __init__(self, app: ASGIApp, limit: int = MAX_BODY_BYTES) -> None:
        self.app = app
        self.limit = limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        message = f"the request body is over the limit of {self.limit:,} bytes"
        headers = dict(scope.get("headers") or [])
        length = headers.get(b"content-length", b"0")
        if not length.isdigit():
            await _refuse(send, 400, "the Content-Length header is not a number")
            return
        if int(length) > self.limit:
            await _refuse(send, 413, message)
            return
        seen = 0

        async def counted() -> Message:
            nonlocal seen
            msg = await receive()
            seen += len(msg.get("body", b""))
            if seen > self.limit:
                raise ApiError(413, message)
            return msg

        await self.app(scope, counted, send)


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


def _page(parts: Sequence[WebPart]) -> str:
    html = (STATIC / "index.html").read_text(encoding="utf-8")
    styles = "".join(f'<link rel="stylesheet" href="/static/{s}">' for p in parts for s in p.styles)
    scripts = "".join(f'<script type="module" src="/static/{s}"></script>' for p in parts for s in p.scripts)
    return html.replace("<!--part-styles-->", styles).replace("<!--part-scripts-->", scripts)


def create_app(state: AppState, parts: Sequence[WebPart] | None = None) -> Starlette:
    """The app: the page at ``/``, its files under ``/static``, and every part's routes.

    ``parts`` defaults to ``PARTS``. The returned app carries ``state`` as ``app.state.models``.
    """
    parts = list(PARTS if parts is None else parts)
    page = _page(parts)

    async def index(request: Request) -> Response:
        return HTMLResponse(page, headers={"Cache-Control": "no-cache"})

    routes: list[BaseRoute] = [Route("/", index), Mount("/static", StaticFiles(directory=STATIC), name="static")]
    for part in parts:
        routes.extend(part.routes(state))
    app = Starlette(
        routes=routes,
        middleware=[Middleware(BodyLimit, limit=MAX_BODY_BYTES)],
        exception_handlers={ApiError: _api_error, HTTPException: _http_error, Exception: _server_error},
    )
    app.state.models = state
    return app
