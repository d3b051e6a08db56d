"""The training panel alone as a Starlette app: its API under /api/train, the page at /learn.

The web app of ``python -m microgrid serve`` mounts the same routes as one of its parts
(``training.learn_routes``); this smaller app serves the panel by itself for its tests and
``benchmarks/web_training.py``:
``python -m uvicorn microgrid.app.web.learn_app:create_app --factory --port 8001``.
"""

from __future__ import annotations

from collections.abc import Sequence

from starlette.applications import Starlette
from starlette.routing import Mount
from starlette.staticfiles import StaticFiles

from .gate import build_app
from .training import STATIC, TrainingState, learn_page_routes, training_routes

__all__ = ["create_app"]


def create_app(state: TrainingState | None = None, hosts: Sequence[str] = ()) -> Starlette:
    """The panel's routes, the page and ``static/``, behind the same gate as the whole app
    (:mod:`.gate`); ``app.state.training`` is its TrainingState."""
    state = state or TrainingState()
    routes = [Mount("/api/train", routes=training_routes(state)), *learn_page_routes()]
    app = build_app([*routes, Mount("/static", StaticFiles(directory=STATIC), name="static")], hosts)
    app.state.training = state
    return app
