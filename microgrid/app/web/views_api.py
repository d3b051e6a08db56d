"""The JSON API of the views only this engine gives (issue 25), under /api/views.

POST /api/views/matrix    {model, image, label, layer}         the fast path's dC0/dW(layer) for one example
POST /api/views/cell      {model, image, label, layer, j, k}   that weight's chain on the scalar engine's graph
POST /api/views/ascent    {model, digit, image?, steps?, rate?} gradient ascent on the pixels
POST /api/views/noise     {model, seed}                        random pixels, and what the network answers
GET  /api/views/curvature                                      the job's lambda_max estimates, lr and cost
POST /api/views/curvature {on}                                 estimate lambda_max while the job trains, or stop
GET  /api/views/surface?along=hessian|path                     the cost-surface slice of the MNIST job
GET  /api/views/replay                                         the job's snapshots: steps and costs
POST /api/views/replay    {position, image?}                   the network at that snapshot
POST /api/views/mistake   {name}                               one toy lesson: the mistake beside its fix
"""

from __future__ import annotations

import copy
import hashlib
import threading
from typing import Any

import numpy as np
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import BaseRoute, Route

from ...digits.blas_threads import blas_threads
from ...digits.data import PIXEL_SCALE
from ...digits.example_gradient import example_gradients
from ...digits.fast import FastMLP
from ...digits.input_ascent import ascend, noise_reading
from ...nn import MLP
from ...support.mistakes import LESSONS, run_lesson
from ...support.weight_chain import ExampleGraph
from .api_helpers import image784, integer, number, read_json, text
from .errors import ApiError
from .state import AppState
from .training_views import cost_surface, first_layer_images, surface_costs
from .views_runs import ToyCurvature

__all__ = ["views_routes", "REPLAY_TEST_IMAGES"]

REPLAY_TEST_IMAGES = 2000  # the test images a replayed step's accuracy is measured on
SURFACE_POINTS = 15


def _loss(meta: dict[str, Any]) -> str:
    return str(meta.get("config", {}).get("loss", "mse"))


class _Graphs:
    """One scalar copy per model (kept for the last two models) and its last example's graph."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self._copies: dict[str, tuple[FastMLP, MLP, bytes | None, ExampleGraph | None]] = {}

    def graph(self, name: str, model: FastMLP, image: np.ndarray, label: int, loss: str) -> ExampleGraph:
        """The graph of C0 for this example (built and backpropagated once; call with ``lock`` held)."""
        key = hashlib.sha1(image.tobytes() + bytes([label]) + loss.encode()).digest()
        found = self._copies.get(name)
        if found is None or found[0] is not model:
            if len(self._copies) >= 2:
                self._copies.pop(next(iter(self._copies)))
            found = (model, model.to_scalar(), None, None)
        if found[2] != key or found[3] is None:
            found = (model, found[1], key, ExampleGraph(found[1], image.tolist(), label, loss))
        self._copies[name] = found
        assert found[3] is not None
        return found[3]


def _reading(model: FastMLP, image: np.ndarray) -> dict[str, Any]:
    out = model.forward_all(image.reshape(1, -1))[-1][0].astype(np.float64)
    return {"digit": int(out.argmax()), "outputs": out.round(6).tolist()}


def views_routes(state: AppState) -> list[BaseRoute]:
    """The /api/views routes, reading models from ``state`` and the job from ``state.training``."""
    graphs = _Graphs()

    def example(data: dict[str, Any]) -> tuple[str, FastMLP, dict[str, Any], np.ndarray, int]:
        name = text(data, "model") or state.default
        model, meta = state.model(name)
        return name, model, meta, image784(data), integer(data, "label", lo=0, hi=model.sizes[-1] - 1)

    def layer_of(data: dict[str, Any], model: FastMLP) -> int:
        return integer(data, "layer", 1, lo=1, hi=len(model.sizes) - 1)

    async def matrix(request: Request) -> JSONResponse:
        data = await read_json(request)
        _, model, meta, image, label = example(data)
        layer = layer_of(data, model)

        def work() -> dict[str, Any]:
            cost, grad_w, _ = example_gradients(model, image, label, _loss(meta))
            g = grad_w[layer - 1]
            return {"layer": layer, "label": label, "cost": cost, "shape": list(g.shape),
                    "scale": float(np.abs(g).max()), "grad": g.tolist(), **_reading(model, image)}  # fmt: skip

        return JSONResponse(await run_in_threadpool(work))

    async def cell(request: Request) -> JSONResponse:
        data = await read_json(request)
        name, model, meta, image, label = example(data)
        layer = layer_of(data, model)
        j = integer(data, "j", lo=0, hi=model.sizes[layer] - 1)
        k = integer(data, "k", lo=0, hi=model.sizes[layer - 1] - 1)

        def work() -> dict[str, Any]:
            _, grad_w, _ = example_gradients(model, image, label, _loss(meta))
            with graphs.lock:
                found = graphs.graph(name, model, image, label, _loss(meta)).chain(layer, j, k)
            return {**found, "matrix": float(grad_w[layer - 1][j, k])}

        return JSONResponse(await run_in_threadpool(work))

    async def ascent(request: Request) -> JSONResponse:
        data = await read_json(request)
        model, meta = state.model(text(data, "model"))
        digit = integer(data, "digit", lo=0, hi=model.sizes[-1] - 1)
        start = image784(data) if "image" in data else np.zeros(784)
        steps, rate = integer(data, "steps", 10, lo=1, hi=200), number(data, "rate", 0.05, lo=1e-4, hi=1.0)
        score = "log_softmax" if _loss(meta) == "cross_entropy" else "output"

        def work() -> dict[str, Any]:
            image, scores = ascend(model, start, digit, steps=steps, rate=rate, score=score)
            return {"digit": digit, "score": score, "scores": scores, "image": image.round(5).tolist(),
                    **_reading(model, image)}  # fmt: skip

        return JSONResponse(await run_in_threadpool(work))

    async def noise(request: Request) -> JSONResponse:
        data = await read_json(request)
        model, _ = state.model(text(data, "model"))
        seed = integer(data, "seed", 0, lo=0, hi=2**31 - 1)
        read = await run_in_threadpool(noise_reading, model, seed, 1)
        return JSONResponse({"seed": seed, "image": read["images"][0], "outputs": read["outputs"][0],
                             "digit": read["digits"][0], "confidence": read["confidence"][0]})  # fmt: skip

    def job() -> Any:
        training = getattr(state, "training", None)
        found = getattr(training, "job", None)
        if found is None:
            raise ApiError(409, "no training run yet: start one in the training panel (MNIST or the toy)")
        return found

    def mnist_job() -> Any:
        found = job()
        if found.kind != "mnist":
            raise ApiError(409, "the last run is the toy: replay and the cost surface need an MNIST run")
        return found

    wanted = {"curvature": False}  # the page's box: applied to every run that trains while it is ticked

    def switch(found: Any, on: bool) -> None:
        if found.kind == "mnist":
            found.views.switch_curvature(on)
        elif on and found.curvature is None:
            found.curvature = ToyCurvature()
        elif not on:
            found.curvature = None

    def prepare(found: Any) -> None:  # a new run starts with the box as it is
        if wanted["curvature"]:
            switch(found, True)

    async def curvature(request: Request) -> JSONResponse:
        training = getattr(state, "training", None)
        if training is not None and prepare not in training.on_new_job:
            training.on_new_job.append(prepare)
        if request.method == "POST":
            data = await read_json(request)
            if not isinstance(data.get("on"), bool):
                raise ApiError(400, "'on' must be true or false")
            wanted["curvature"] = data["on"]
        found = getattr(training, "job", None)
        if found is None:
            return JSONResponse({"kind": None, "on": wanted["curvature"], "rows": [], "status": "idle"})
        if found.running:
            switch(found, wanted["curvature"])
        if found.kind == "mnist":
            tracker = found.views.curvature
            rows, on, spent = tracker.rows(), found.views.curvature_on, tracker.spent
            steps, costs = list(found.views.replay.steps), list(found.views.replay.costs)  # the kept steps' costs
            rates = [list(r) for r in found.views.rates] + [[found.step, found.optimizer.lr]]
        else:
            rows = list(found.curvature.history) if found.curvature is not None else []
            on, spent = found.curvature is not None, found.curvature.spent if found.curvature else 0.0
            every = max(1, len(found.costs) // 200)
            steps = list(range(1, len(found.costs) + 1, every))
            costs = [found.costs[s - 1] for s in steps]
            rates = [[row["step"], row["lr"]] for row in rows] + [[found.step, found.optimizer.lr]]
        path = [[s, c] for s, c in zip(steps, costs) if np.isfinite(c)]
        return JSONResponse({"kind": found.kind, "on": on, "rows": rows, "lr": found.optimizer.lr, "costs": path,
                             "rates": rates, "step": found.step, "seconds_spent": spent,
                             "status": found.status})  # fmt: skip

    async def surface(request: Request) -> JSONResponse:
        along = request.query_params.get("along", "hessian")
        if along not in ("hessian", "path"):
            raise ApiError(400, f"'along' must be hessian or path, got {along[:20]!r}")
        found = mnist_job()

        def work() -> dict[str, Any]:
            with blas_threads(1):  # small products: spare threads would fight a running training's
                return sliced(copy.deepcopy(found.model))  # the weights as they are now

        def sliced(model: FastMLP) -> dict[str, Any]:
            tracker = found.views.curvature
            pixels, labels, loss = tracker.pixels, tracker.labels, found.config.loss
            if along == "path":
                with np.errstate(over="ignore", invalid="ignore"):
                    along_path = cost_surface(model, list(found._path), pixels, labels, loss)
                return {"along": along, "step": found.step, **along_path}
            with np.errstate(over="ignore", invalid="ignore"):
                values, vectors = tracker.estimate(model, iterations=60, tol=1e-6)
                directions = (vectors[:, 0], vectors[:, 1])
                center = float(surface_costs(model, directions, [0.0], [0.0], pixels, labels, loss)[0, 0])
                # far enough that the top direction's parabola, (lambda/2) r^2, rises by about the cost itself
                reach = 1.5 * float(np.sqrt(2.0 * max(center, 0.05) / max(abs(values[0]), 1e-6)))
                reach = min(reach, 0.5 * float(np.linalg.norm(model.flat_parameters()[0].data)))  # a flat region
                grid = np.linspace(-reach, reach, SURFACE_POINTS)
                cost = surface_costs(model, directions, grid, grid, pixels, labels, loss)
            how = f"the top two Hessian directions (lambda = {values[0]:.4g}, {values[1]:.4g})"
            return {
                "along": along, "step": found.step, "a": grid.round(6).tolist(), "b": grid.round(6).tolist(),
                "cost": np.where(np.isfinite(cost), cost, -1.0).round(5).tolist(), "center_cost": center,
                "lambdas": [float(values[0]), float(values[1])], "path": [[0.0, 0.0]], "images": len(labels),
                "directions": how,
            }  # fmt: skip

        return JSONResponse(await run_in_threadpool(work))

    async def replay(request: Request) -> JSONResponse:
        found = mnist_job()
        views = found.views
        if found.status != "running" and views.replay.steps[-1] != found.step:  # paused or ended: keep where it is
            views.keep_now(found.model, found.step, found.costs[-1] if found.costs else float("nan"))
        steps, costs = list(views.replay.steps), list(views.replay.costs)
        if request.method == "GET":
            listing = {"steps": steps, "costs": [c if np.isfinite(c) else None for c in costs]}
            return JSONResponse({**listing, "every": views.replay.every, "bytes": views.replay.nbytes,
                                 "status": found.status})  # fmt: skip
        data = await read_json(request)
        position = integer(data, "position", lo=0, hi=max(len(steps) - 1, 0))
        image = image784(data) if "image" in data else None

        def work() -> dict[str, Any]:
            model = views.model_at(position)
            x, y = found.test_pixels[:REPLAY_TEST_IMAGES], found.test_labels[:REPLAY_TEST_IMAGES]
            right = float(np.mean(model.predict(x, input_scale=PIXEL_SCALE) == y))
            answer = {"position": position, "step": views.replay.steps[position], "cost": costs[position],
                      "accuracy": right, "test_images": len(y), "weights": first_layer_images(model)}  # fmt: skip
            if not np.isfinite(answer["cost"]):
                answer["cost"] = None
            if image is not None:
                answer["reading"] = _reading(model, image)
            return answer

        return JSONResponse(await run_in_threadpool(work))

    async def mistake(request: Request) -> JSONResponse:
        data = await read_json(request)
        name = text(data, "name")
        if name not in LESSONS:
            raise ApiError(422, f"'name' must be one of {', '.join(LESSONS)}, got {str(name)[:30]!r}")
        return JSONResponse(await run_in_threadpool(run_lesson, name))

    return [
        Route("/api/views/matrix", matrix, methods=["POST"]),
        Route("/api/views/cell", cell, methods=["POST"]),
        Route("/api/views/ascent", ascent, methods=["POST"]),
        Route("/api/views/noise", noise, methods=["POST"]),
        Route("/api/views/curvature", curvature, methods=["GET", "POST"]),
        Route("/api/views/surface", surface),
        Route("/api/views/replay", replay, methods=["GET", "POST"]),
        Route("/api/views/mistake", mistake, methods=["POST"]),
    ]
