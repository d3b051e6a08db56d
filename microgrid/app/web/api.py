"""The JSON API of the five panels (documented in docs/live.md).

GET  /api/models                          the models and the default
GET  /api/network?model=NAME              sizes, activations, strongest edges per layer
GET  /api/example?index=I&model=NAME      training image I (784 inputs in [0, 1]), its label, the model's reading
POST /api/predict {model, width, height, pixels}            the drawing as predict reads it, every layer
POST /api/neuron  {model, layer, index, image}              what one neuron looks for
POST /api/nudges  {model, image, target}                    one example's nudges (scalar engine)
POST /api/batch   {model, image, target, start?, count}     the mini-batch's average nudges beside them
                                                            (count at most 100, cut to about 1 s of work)
POST /api/step    {model, start?, count, lr}                one step of optim.SGD on the model's own cost
                                                            (its loss: MSE or cross-entropy): cost before
                                                            and after; 422 and no change if it overflows
(without start, /api/batch and /api/step take a new random mini-batch each time)
POST /api/chain   {w, b, a_prev, y}                         the one-neuron chain by Value
"""

from __future__ import annotations

import copy
import math
from typing import Any

import numpy as np
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import BaseRoute, Route

from ...digits.data import PIXEL_SCALE
from ...optim import SGD
from . import lighting
from .api_helpers import image784, integer, number, pixels, query_integer, read_json, text
from .chain_live import chain
from .errors import ApiError
from .nudges import batch_nudges, nudges
from .state import STEPPED, AppState, model_loss

__all__ = ["notes_routes", "STEPPED"]

MAX_COUNT = 100
"""The most training images a mini-batch of /api/batch and /api/step holds (the page's 100)."""
SCALAR_WORK = 2_500_000
"""Examples times weights /api/batch gives the scalar engine (about a second): 100 examples of
the notes' network (12,730 weights), 39 at the nudges' limit (63,370)."""


_rng = np.random.default_rng()


def _batch(state: AppState, data: dict[str, Any], most: int = MAX_COUNT) -> tuple[np.ndarray, np.ndarray, int]:
    """Training images start .. start+count as inputs (count, 784) and labels (count,);
    ``count`` (1 to MAX_COUNT) is cut to ``most``; without ``start``, a new random mini-batch each time."""
    images, labels = state.training_images()
    count = min(integer(data, "count", 100, lo=1, hi=MAX_COUNT), most)
    start = integer(data, "start", int(_rng.integers(0, len(images) - count + 1)), lo=0, hi=len(images) - count)
    x = images[start : start + count].reshape(count, 784).astype(np.float64) * PIXEL_SCALE
    return x, labels[start : start + count].astype(np.intp), start


def notes_routes(state: AppState) -> list[BaseRoute]:
    """The routes of the five panels, reading models from ``state``."""

    async def models(request: Request) -> JSONResponse:
        return JSONResponse({"models": state.describe(), "default": state.default})

    async def network(request: Request) -> JSONResponse:
        model, _ = state.model(request.query_params.get("model"))
        return JSONResponse(await run_in_threadpool(lighting.network, model))

    async def example(request: Request) -> JSONResponse:
        asked = query_integer(request, "index", 0)
        model, meta = state.model(request.query_params.get("model"))

        def work() -> dict[str, Any]:
            images, labels = state.training_images()
            index = integer({"index": asked}, "index", lo=0, hi=len(images) - 1)
            image = images[index].reshape(784).astype(np.float64) * PIXEL_SCALE
            reading = lighting.predict(model, meta, image)
            return {"index": index, "label": int(labels[index]), "image": image.tolist(), "reading": reading}

        return JSONResponse(await run_in_threadpool(work))

    async def predict(request: Request) -> JSONResponse:
        data = await read_json(request)
        model, meta = state.model(text(data, "model"))
        grey = pixels(data)

        def work() -> dict[str, Any]:
            return lighting.predict(model, meta, lighting.read_drawing(grey))

        return JSONResponse(await run_in_threadpool(work))

    async def neuron(request: Request) -> JSONResponse:
        data = await read_json(request)
        model, _ = state.model(text(data, "model"))
        layer, index = integer(data, "layer", 1, lo=1, hi=64), integer(data, "index", lo=0, hi=100_000)
        image = image784(data)
        return JSONResponse(await run_in_threadpool(lighting.neuron, model, image, layer, index))

    async def one_example(request: Request) -> JSONResponse:
        data = await read_json(request)
        name = text(data, "model", "notes")
        image, target = image784(data), integer(data, "target", lo=0, hi=9)

        def work() -> dict[str, Any]:
            return nudges(state.scalar(name), image.tolist(), target)

        return JSONResponse({"model": name, **await run_in_threadpool(work)})

    async def batch(request: Request) -> JSONResponse:
        data = await read_json(request)
        name = text(data, "model", "notes")
        image, target = image784(data), integer(data, "target", lo=0, hi=9)
        model, _ = state.model(name)  # 404 for an unknown model before any work
        most = max(1, SCALAR_WORK // model.num_parameters())  # examples the scalar engine does in about 1 s

        def work() -> dict[str, Any]:
            x, labels, start = _batch(state, data, most)
            mlp = state.scalar(name)
            one = nudges(mlp, image.tolist(), target)
            many = batch_nudges(mlp, x.tolist(), labels.tolist())
            return {"model": name, "start": start, "example": one, "batch": many}

        return JSONResponse(await run_in_threadpool(work))

    async def step(request: Request) -> JSONResponse:
        data = await read_json(request)
        name = text(data, "model", "notes") or "notes"
        model, meta = state.model(name)
        lr = number(data, "lr", 3.0, lo=0.0, hi=100.0)

        def work() -> dict[str, Any]:
            x, labels, start = _batch(state, data)
            loss = model_loss(meta)
            stepped = copy.deepcopy(model)  # the fast path's grads live in the model: work on a copy
            with np.errstate(over="ignore", invalid="ignore"):
                before = stepped.loss_and_backward(x, labels, loss)
                SGD(stepped.flat_parameters(), lr=lr).step()
                after = stepped.loss_and_backward(x, labels, loss)
            if not (math.isfinite(after) and np.isfinite(stepped.flat_parameters()[0].data).all()):
                raise ApiError(422, f"a step with lr {lr:g} sends the cost of {name!r} from {before:.4g} to {after}: "
                               "not taken (the model is as it was); try a smaller lr")  # fmt: skip
            steps = int(meta.get("steps", 0)) + 1
            new_name = name if name.endswith(STEPPED) else name + STEPPED
            state.add_model(new_name, stepped, {**meta, "steps": steps})
            return {"model": new_name, "steps": steps, "lr": lr, "start": start, "count": len(x),
                    "loss": loss, "cost_before": before, "cost_after": after}

        return JSONResponse(await run_in_threadpool(work))

    async def chain_rule(request: Request) -> JSONResponse:
        data = await read_json(request)
        values = {k: number(data, k, lo=-10.0, hi=10.0) for k in ("w", "b", "a_prev", "y")}
        return JSONResponse(chain(values["w"], values["b"], values["a_prev"], values["y"]))

    return [
        Route("/api/models", models),
        Route("/api/network", network),
        Route("/api/example", example),
        Route("/api/predict", predict, methods=["POST"]),
        Route("/api/neuron", neuron, methods=["POST"]),
        Route("/api/nudges", one_example, methods=["POST"]),
        Route("/api/batch", batch, methods=["POST"]),
        Route("/api/step", step, methods=["POST"]),
        Route("/api/chain", chain_rule, methods=["POST"]),
    ]
