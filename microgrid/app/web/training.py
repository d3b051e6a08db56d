"""The training panel's server side: ``training_routes(state)``, mounted under /api/train.

One job at a time per server (a ``TrainingState``): an MNIST run of the fast path
(:mod:`.training_job`) or a toy run of the scalar engine (:mod:`.toy_job`). Every tab
watches the same job through one Server-Sent Events stream.

    POST /start      {preset?, sizes?, activation?, loss?, optimizer?, lr?, batch_size?, epochs?, pace?, ...}
    POST /toy        {dataset?, hidden?, activation?, loss?, lr?, steps?, ...}
    POST /pause, /resume, /step (one batch, then paused), /stop
    POST /control    {lr?, batch_size?, pace?}: used from the next batch on (pace: steps a second,
                     0.1 to 1000, or null for full speed)
    GET  /status     ?since=N: the job's state as JSON (per-batch costs from N on)
    GET  /events     the same state as SSE "state" events, looked at every 0.2 s: the first
                     the whole state ("full": true), then only what changed (new costs, a new
                     view, the status...), nothing while nothing changes but a keep-alive
                     comment every 15 s (?until=end: close when the job ends)
    GET  /model.npz  the last trained model, the file ``python -m microgrid train`` writes
    GET  /options    the presets (and a line on each), the limits and the defaults, for the page's form

Errors are one line, ``{"error": "..."}`` (an ApiError, answered by :mod:`.gate`'s handler):
400 bad JSON, 413 too large, 409 a job is already running (or none is), 422 a setting out
of range (named: a ConfigError), 404 no model yet.
``learn_routes(app_state)`` is the web app's part: these routes under /api/train and the
panel alone at /learn; ``static/learn.js`` adds the panel to the app's page.
"""

from __future__ import annotations

import asyncio
import copy
import json
import threading
import time
from collections.abc import Callable
from dataclasses import asdict
from pathlib import Path
from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import FileResponse, JSONResponse, Response, StreamingResponse
from starlette.routing import BaseRoute, Mount, Route

from ...digits.data import MNIST_SHA256, Dataset, load_mnist
from ...digits.fast import FastMLP
from ...digits.train import PRESET_SUMMARIES, PRESETS, TrainConfig
from .api_helpers import query_integer, read_json
from .errors import ApiError
from .toy_job import TOY_DEFAULTS, ToyJob, parse_toy
from .training_config import CHOICES, LIMITS, MAX_HIDDEN_LAYERS, MAX_LAYER_SIZE, parse_config, parse_controls
from .training_job import TrainingJob
from .training_report import model_bytes

__all__ = ["TrainingState", "training_routes", "learn_page_routes", "learn_routes", "STATIC"]

STATIC = Path(__file__).resolve().parent / "static"
KEEP_MODELS = 5  # trained models kept (in the draw panel's list, downloadable); older ones are freed
EVENT_INTERVAL = 0.2  # seconds between two events of the stream
# A stream ends after this long and the page's EventSource reconnects RECONNECT_MS later (and
# is sent the whole state again); a stopping server ends open streams at once (uvicorn's
# graceful-shutdown timeout). While nothing changes, a comment every KEEP_ALIVE_SECONDS.
STREAM_SECONDS, RECONNECT_MS, KEEP_ALIVE_SECONDS = 600.0, 300, 15.0


def changes(payload: dict[str, Any], last: dict[str, Any]) -> dict[str, Any]:
    """What of ``payload`` (a job's snapshot) differs from ``last`` (updated to it): {} for nothing.

    The first answer for an empty ``last`` is the whole payload with ``"full": true``; later
    ones hold only the keys whose values changed, and ``costs`` only when it has new values.
    """
    full = not last
    news = {key: value for key, value in payload.items() if full or key not in last or last[key] != value}
    if not full and not news.get("costs", {"values": [1]})["values"]:
        del news["costs"]
    last.update({key: copy.copy(value) for key, value in payload.items()})  # a job appends to its lists
    return {"full": True, **news} if full else news


class TrainingState:
    """The server's one training slot, its data, and the models it trained (the last ``KEEP_MODELS``).

    Args:
        data_dir: a directory of IDX files (the server's ``--data``); None: the bundled MNIST.
        add_model: called with (name, model, meta) when a job ends with a model, so the
            rest of the app (the draw panel) can use it at once.
        remove_model: called with a name when that model is no longer kept (it is freed).
    """

    def __init__(
        self,
        data_dir: str | Path | None = None,
        add_model: Callable[[str, FastMLP, dict[str, Any]], None] | None = None,
        remove_model: Callable[[str], None] | None = None,
    ) -> None:
        self.data_dir = None if data_dir is None else Path(data_dir)
        self.add_model, self.remove_model = add_model, remove_model
        self.job: TrainingJob | ToyJob | None = None
        self.models: dict[str, tuple[FastMLP, dict[str, Any]]] = {}  # oldest first
        self.last_model: str | None = None
        self.jobs = 0  # jobs started so far; each job's number tells a page which job an event is about
        self.trained = 0  # models trained so far: trained-1, trained-2, ...
        self.on_new_job: list[Callable[[TrainingJob | ToyJob], None]] = []  # called before a job starts (views)
        self._data: Dataset | None = None
        self._lock = threading.Lock()

    def dataset(self) -> Dataset:
        """The training data, loaded once (about a second for MNIST)."""
        with self._lock:
            if self._data is None:
                self._data = load_mnist(self.data_dir)
            return self._data

    def data_info(self) -> dict[str, Any]:
        if self.data_dir is None:
            return {"source": "bundled MNIST", "sha256": MNIST_SHA256}
        return {"source": str(self.data_dir)}

    def keep_model(self, model: FastMLP, meta: dict[str, Any]) -> str:
        """Register a trained model as trained-1, trained-2, ... and forget all but the last
        ``KEEP_MODELS``; returns its name."""
        with self._lock:
            self.trained += 1
            name = f"trained-{self.trained}"
            self.models[name] = (model, meta)
            self.last_model = name
            dropped = list(self.models)[:-KEEP_MODELS]
            for old in dropped:
                del self.models[old]
        for old in dropped:
            if self.remove_model is not None:
                self.remove_model(old)
        if self.add_model is not None:
            try:
                self.add_model(name, model, meta)
            except ValueError as err:  # e.g. not 784 -> 10: still downloadable, not in the draw panel
                return f"{name} (not in the draw panel: {err})"
        return name

    def shutdown(self, timeout: float = 5.0) -> None:
        """Stop a running job and wait for its thread (the server is going away)."""
        job = self.job
        if job is not None and job.running:
            job.stop()
            job.join(timeout)


def _busy(job: TrainingJob | ToyJob) -> ApiError:
    what = "an MNIST training job" if job.kind == "mnist" else "a toy training job"
    where = f"epoch {max(job.epoch, 1)} of {job.config.epochs}" if isinstance(job, TrainingJob) else f"step {job.step}"
    return ApiError(409, f"{what} is already running ({where}): stop it first, or watch it in this tab")


def training_routes(state: TrainingState) -> list[BaseRoute]:
    """The /api/train routes (mount them with ``Mount("/api/train", routes=...)``)."""

    async def start(request: Request) -> Response:
        body = await read_json(request, empty={})
        if state.job is not None and state.job.running:
            raise _busy(state.job)
        pace = parse_controls({"pace": body.pop("pace")})["pace"] if isinstance(body, dict) and "pace" in body else None
        data = await run_in_threadpool(state.dataset)
        nin = int(data.train_images[0].size)
        config, live_views = parse_config(
            body, nin=nin, classes=int(data.train_labels.max()) + 1, train_size=len(data.train_images)
        )
        # drawing the starting weights and the views' subsets takes a moment: not on the event loop
        job = await run_in_threadpool(
            lambda: TrainingJob(config, data, state.data_info(), live_views=live_views, on_model=state.keep_model)
        )
        if state.job is not None and state.job.running:  # another start won the race meanwhile
            raise _busy(state.job)
        state.jobs += 1
        job.number, state.job = state.jobs, job
        if pace is not None:  # from the first step on: a pace a person can watch
            job.change({"pace": pace})
        for prepare in state.on_new_job:
            prepare(job)
        job.start()
        return JSONResponse({"status": "started", "job": job.number, "config": asdict(config), "pace": pace})

    async def toy(request: Request) -> Response:
        body = await read_json(request, empty={})
        if state.job is not None and state.job.running:
            raise _busy(state.job)
        job = ToyJob(parse_toy(body))
        state.jobs += 1
        job.number, state.job = state.jobs, job
        for prepare in state.on_new_job:
            prepare(job)
        job.start()
        return JSONResponse({"status": "started", "job": job.number, "settings": job.settings})

    def control(action: str) -> Callable[[Request], Any]:
        async def endpoint(request: Request) -> Response:
            body = await read_json(request, empty={})
            job = state.job
            if job is None or not job.running:
                raise ApiError(409, f"no training job is running to {action}")
            if action == "control":
                job.change(parse_controls(body))
            else:
                getattr(job, {"step": "step_once"}.get(action, action))()
            return JSONResponse({"status": job.status, "action": action})

        return endpoint

    async def status(request: Request) -> Response:
        since = query_integer(request, "since", 0)
        job = state.job
        if job is None:
            return JSONResponse({"status": "idle"})
        return JSONResponse(job.snapshot(since))

    async def events(request: Request) -> Response:
        until_end = request.query_params.get("until") == "end"

        async def stream() -> Any:
            seen: Any = False
            sent, last = 0, dict[str, Any]()
            next_event = opened = quiet_since = time.monotonic()
            yield f"retry: {RECONNECT_MS}\n\n"
            while until_end or time.monotonic() - opened < STREAM_SECONDS:
                job = state.job
                if job is not seen:  # a new job (or the first look): the whole state
                    seen, sent, last = job, 0, {}
                payload: dict[str, Any] = {"status": "idle"} if job is None else job.snapshot(sent)
                if job is not None:
                    sent += len(payload["costs"]["values"])
                news = changes(payload, last)
                if news:
                    yield f"event: state\ndata: {json.dumps(news)}\n\n"
                    quiet_since = time.monotonic()
                elif time.monotonic() - quiet_since >= KEEP_ALIVE_SECONDS:
                    yield ": keep-alive\n\n"
                    quiet_since = time.monotonic()
                if until_end and (job is None or not job.running):
                    return
                # on a fixed clock, so the time a snapshot takes does not add up between events
                next_event = max(next_event + EVENT_INTERVAL, time.monotonic() + 0.02)
                await asyncio.sleep(next_event - time.monotonic())

        return StreamingResponse(
            stream(), media_type="text/event-stream", headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"}
        )

    async def download(request: Request) -> Response:
        if state.last_model is None:
            raise ApiError(404, "no trained model yet: train one first")
        model, meta = state.models[state.last_model]
        content = await run_in_threadpool(model_bytes, model, meta)
        filename = f"microgrid-{state.last_model}.npz"
        return Response(
            content,
            media_type="application/octet-stream",
            headers={"Content-Disposition": f'attachment; filename="{filename}"'},
        )

    async def options(request: Request) -> Response:
        limits = {k: {"low": low, "high": high, "low_allowed": closed} for k, (low, high, closed) in LIMITS.items()}
        return JSONResponse({
            "presets": PRESETS,
            "preset_summaries": PRESET_SUMMARIES,
            "choices": CHOICES,
            "defaults": {**asdict(TrainConfig()), "epochs": 1},
            "limits": {**limits, "hidden_layers": MAX_HIDDEN_LAYERS, "layer_size": MAX_LAYER_SIZE},
            "toy_defaults": TOY_DEFAULTS,
        })  # fmt: skip

    routes: list[BaseRoute] = [
        Route("/start", start, methods=["POST"]),
        Route("/toy", toy, methods=["POST"]),
        Route("/status", status, methods=["GET"]),
        Route("/events", events, methods=["GET"]),
        Route("/model.npz", download, methods=["GET"]),
        Route("/options", options, methods=["GET"]),
    ]
    for action in ("pause", "resume", "step", "stop", "control"):
        routes.append(Route(f"/{action}", control(action), methods=["POST"]))
    return routes


def learn_page_routes() -> list[BaseRoute]:
    """The training panel alone at /learn (its files, learn*.js and learn.css, are in ``static/``,
    which the app serves under /static)."""

    async def page(request: Request) -> Response:
        return FileResponse(STATIC / "learn.html", media_type="text/html", headers={"Cache-Control": "no-cache"})

    return [Route("/learn", page)]


def learn_routes(app_state: Any) -> list[BaseRoute]:
    """The training panel's routes for the web app's ``WebPart``: /api/train/... and /learn.

    ``app_state`` is the app's state: its ``add_model(name, model, meta)`` receives every
    model a job trains (so the draw panel can use it at once), and its ``data_dir``, if it
    has one, is the data to train on (the bundled MNIST otherwise).
    """
    training = TrainingState(
        getattr(app_state, "data_dir", None), getattr(app_state, "add_model", None),
        getattr(app_state, "remove_model", None),
    )  # fmt: skip
    app_state.training = training
    return [Mount("/api/train", routes=training_routes(training)), *learn_page_routes()]
