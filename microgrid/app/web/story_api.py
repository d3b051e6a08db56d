"""The JSON API of the guided path's own parts (documented in docs/live.md).

POST /api/read              {model, image}                           a prepared image (784 in [0, 1]) read, every layer
POST /api/story/cost        {model, image, target, start?, count?}   C0 term by term, a mini-batch's average C
POST /api/story/sensitivity {model, image, target}                   two weights, and how sensitive C0 is to each
POST /api/story/descent     {surface: "one"|"two", start, lr, steps} gradient descent by Value

A mini-batch without ``start`` is a new random one each time (the server draws it).
"""

from __future__ import annotations

from typing import Any

import numpy as np
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import BaseRoute, Route

from ...digits.data import PIXEL_SCALE
from . import lighting
from .api_helpers import image784, integer, number, read_json, text
from .errors import ApiError
from .state import AppState
from .story import SURFACES, descent, example_cost, sensitivity

__all__ = ["story_routes"]

_rng = np.random.default_rng()


def _random_batch(state: AppState, data: dict[str, Any]) -> tuple[np.ndarray, np.ndarray, int]:
    """``count`` training images from ``start`` (a random start when absent): (n, 784) in [0, 1], labels (n,)."""
    images, labels = state.training_images()
    count = integer(data, "count", 100, lo=1, hi=1000)
    start = integer(data, "start", int(_rng.integers(0, len(images) - count + 1)), lo=0, hi=len(images) - count)
    x = images[start : start + count].reshape(count, 784).astype(np.float64) * PIXEL_SCALE
    return x, labels[start : start + count].astype(np.intp), start


def story_routes(state: AppState) -> list[BaseRoute]:
    """The routes of the guided path's parts, reading models from ``state``."""

    async def read(request: Request) -> JSONResponse:
        data = await read_json(request)
        model, meta = state.model(text(data, "model"))
        image = image784(data)
        return JSONResponse(await run_in_threadpool(lighting.predict, model, meta, image))

    async def cost(request: Request) -> JSONResponse:
        data = await read_json(request)
        model, _ = state.model(text(data, "model"))
        image, target = image784(data), integer(data, "target", lo=0, hi=9)

        def work() -> dict[str, Any]:
            x, labels, start = _random_batch(state, data)
            return example_cost(model, image, target, x, labels, start)

        return JSONResponse(await run_in_threadpool(work))

    async def sensitive(request: Request) -> JSONResponse:
        data = await read_json(request)
        name = text(data, "model")
        image, target = image784(data), integer(data, "target", lo=0, hi=9)

        def work() -> dict[str, Any]:
            return sensitivity(state.scalar(name), image.tolist(), target)  # a copy of its own (422 if too large)

        return JSONResponse(await run_in_threadpool(work))

    async def descend(request: Request) -> JSONResponse:
        data = await read_json(request)
        surface = text(data, "surface", "one") or "one"
        if surface not in SURFACES:
            raise ApiError(422, f"'surface' must be one of {', '.join(map(repr, SURFACES))}, got {surface[:20]!r}")
        dims = 1 if surface == "one" else 2
        raw = data.get("start")
        if not isinstance(raw, list) or len(raw) != dims:
            raise ApiError(400, f"'start' must be a list of {dims} number{'s' if dims > 1 else ''}")
        lo, hi = SURFACES[surface][2]
        start = [number({"start": v}, "start", lo=lo, hi=hi) for v in raw]
        lr = number(data, "lr", 0.1, lo=0.0, hi=10.0)
        steps = integer(data, "steps", 30, lo=0, hi=500)
        return JSONResponse(await run_in_threadpool(descent, surface, start, lr, steps))

    return [
        Route("/api/read", read, methods=["POST"]),
        Route("/api/story/cost", cost, methods=["POST"]),
        Route("/api/story/sensitivity", sensitive, methods=["POST"]),
        Route("/api/story/descent", descend, methods=["POST"]),
    ]
