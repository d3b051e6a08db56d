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
  non-finite number) and ``api_helpers.query_integer`` a query parameter. Every request
  first passes :mod:`.gate` (Host names served, no cross-site writes, JSON-only writes,
  413 for a body over ``MAX_BODY_BYTES``). Any other exception becomes a 500 with one
  line, never a traceback.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response
from starlette.routing import BaseRoute, Mount, Route
from starlette.staticfiles import StaticFiles

from .api import notes_routes
from .gate import MAX_BODY_BYTES, build_app
from .state import AppState
from .story_api import story_routes
from .training import learn_routes
from .views_api import views_routes

__all__ = ["MAX_BODY_BYTES", "STATIC", "WebPart", "PARTS", "NOTES", "STORY", "TRAINING", "VIEWS", "create_app"]

STATIC = Path(__file__).resolve().parent / "static"


@dataclass(frozen=True)
class WebPart:
    """One part of the page: its API routes, and its scripts and styles in ``static/``."""

    name: str
    routes: Callable[[AppState], list[BaseRoute]]
    scripts: tuple[str, ...] = ()
    styles: tuple[str, ...] = ()


NOTES = WebPart("notes", notes_routes)  # the five panels; their files are linked by index.html itself
TRAINING = WebPart("learn", learn_routes, scripts=("learn.js",), styles=("learn.css",))  # watch the network learn
STORY = WebPart("story", story_routes)  # the guided path's own parts (cost, descent, sensitivity)
VIEWS = WebPart("views", views_routes, scripts=("views.js",), styles=("views.css",))  # only this engine: issue 25
PARTS: list[WebPart] = [NOTES, STORY, TRAINING, VIEWS]


def _page(parts: Sequence[WebPart]) -> str:
    html = (STATIC / "index.html").read_text(encoding="utf-8")
    styles = "".join(f'<link rel="stylesheet" href="/static/{s}">' for p in parts for s in p.styles)
    scripts = "".join(f'<script type="module" src="/static/{s}"></script>' for p in parts for s in p.scripts)
    return html.replace("<!--part-styles-->", styles).replace("<!--part-scripts-->", scripts)


def create_app(state: AppState, parts: Sequence[WebPart] | None = None, hosts: Sequence[str] = ()) -> Starlette:
    """The app: the page at ``/``, its files under ``/static``, and every part's routes.

    ``parts`` defaults to ``PARTS``; ``hosts``: Host names served besides localhost,
    127.0.0.1 and [::1] (serve's ``--host``). The returned app carries ``state`` as
    ``app.state.models``.
    """
    parts = list(PARTS if parts is None else parts)
    page = _page(parts)

    async def index(request: Request) -> Response:
        return HTMLResponse(page, headers={"Cache-Control": "no-cache"})

    routes: list[BaseRoute] = [Route("/", index), Mount("/static", StaticFiles(directory=STATIC), name="static")]
    for part in parts:
        routes.extend(part.routes(state))
    app = build_app(routes, hosts)
    app.state.models = state
    return app
