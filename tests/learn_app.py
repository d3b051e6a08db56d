"""A small Starlette app holding only the training panel's routes, for its tests.

Until the web app's ``create_app`` mounts the panel, this is how the tests (and
``benchmarks/web_training.py``) serve it; it mounts exactly what the app mounts.
"""

from __future__ import annotations

from starlette.applications import Starlette
from starlette.routing import Mount
from starlette.staticfiles import StaticFiles

from microgrid.app.web.training import STATIC, TrainingState, learn_page_routes, training_routes


def create_app(state: TrainingState | None = None) -> Starlette:
    state = state or TrainingState()
    routes = [Mount("/api/train", routes=training_routes(state)), *learn_page_routes()]
    app = Starlette(routes=[*routes, Mount("/static", StaticFiles(directory=STATIC), name="static")])
    app.state.training = state
    return app
