"""What the server holds: the models a page can pick, shared by every request and tab.

``AppState.models`` maps a name to ``(FastMLP, meta)`` as ``load_model`` returns them.
Requests only read the models (a forward pass makes new arrays), so several tabs can ask
at once; anything that changes the state takes ``state.lock``.
"""

from __future__ import annotations

import threading
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ...digits.fast import FastMLP
from ...digits.model_file import load_model
from ...digits.predict import DEFAULT_MODEL
from .errors import ApiError

if TYPE_CHECKING:
    import numpy as np

    from ...nn import MLP

__all__ = ["AppState", "NOTES_MODEL", "load_state", "model_loss"]

NOTES_MODEL = DEFAULT_MODEL.parent / "notes.npz"
"""The bundled notes network: 784-16-16-10, sigmoid, MSE (``train --preset notes``)."""


def model_loss(meta: dict[str, Any]) -> str:
    """The cost a model was trained with, from its metadata: "mse" (the notes') or "cross_entropy"."""
    loss = meta.get("config", {}).get("loss", "mse")
    return loss if loss in ("mse", "cross_entropy") else "mse"


class AppState:
    """The models by name, which one a page starts with, and caches built from them.

    Args:
        models: name -> (FastMLP, meta); every model reads 784 pixels and has 10 outputs.
        default: the name a page starts with (the first model when None).
    """

    def __init__(self, models: dict[str, tuple[FastMLP, dict[str, Any]]], default: str | None = None) -> None:
        if not models:
            raise ValueError("AppState needs at least one model")
        self.data_dir: Path | None = None  # IDX files the training panel trains on (serve --data); None: bundled MNIST
        self.lock = threading.RLock()  # held briefly: the models dict
        self.scalar_lock = threading.Lock()  # held while a request uses a scalar copy (its grads are shared)
        self._data_lock = threading.Lock()  # loading MNIST and building scalar copies, without blocking lookups
        self.models: dict[str, tuple[FastMLP, dict[str, Any]]] = {}
        for name, (model, meta) in models.items():
            self.add_model(name, model, meta)
        self.default = default if default is not None else next(iter(self.models))
        if self.default not in self.models:
            raise ValueError(f"default model {self.default!r} is not one of {', '.join(self.models)}")
        self._scalar: dict[str, tuple[FastMLP, MLP]] = {}
        self._train: tuple[np.ndarray, np.ndarray] | None = None

    def add_model(self, name: str, model: FastMLP, meta: dict[str, Any] | None = None) -> None:
        """Make ``model`` available to every page as ``name`` (replacing a model of that name).

        The model must read 784 pixels (a 28x28 digit) and have 10 outputs (the digits).
        """
        if not isinstance(name, str) or not name.strip() or len(name) > 80:
            raise ValueError(f"a model name must be 1 to 80 characters, got {name!r}")
        if model.sizes[0] != 784 or model.sizes[-1] != 10:
            raise ValueError(f"model {name!r} must map 784 pixels to 10 digits, its sizes are {model.sizes}")
        with self.lock:
            self.models[name] = (model, dict(meta or {}))

    def model(self, name: str | None) -> tuple[FastMLP, dict[str, Any]]:
        """The model called ``name`` (the default for None); ApiError 404 naming the known ones."""
        key = self.default if name is None else name
        with self.lock:
            found = self.models.get(key)  # type: ignore[arg-type]
            if found is None:
                raise ApiError(404, f"no model called {key!r}: the models are {', '.join(map(repr, self.models))}")
            return found

    def scalar(self, name: str | None) -> MLP:
        """The scalar-engine copy of a model (``FastMLP.to_scalar``), built once per model."""
        model, _ = self.model(name)
        key = self.default if name is None else name
        with self._data_lock:
            cached = self._scalar.get(key)
            if cached is None or cached[0] is not model:
                cached = self._scalar[key] = (model, model.to_scalar())
            return cached[1]

    def training_images(self) -> tuple[np.ndarray, np.ndarray]:
        """The bundled MNIST training set, loaded once: images (60000, 28, 28) uint8, labels (60000,)."""
        with self._data_lock:
            if self._train is None:
                from ...digits.data import load_mnist

                data = load_mnist()
                self._train = (data.train_images, data.train_labels)
            return self._train

    def describe(self) -> list[dict[str, Any]]:
        """One entry per model for the page: name, layer sizes, activations, loss."""
        with self.lock:
            items = list(self.models.items())
        return [
            {
                "name": name,
                "sizes": model.sizes,
                "activation": model.activation,
                "output_activation": model.output_activation,
                "loss": model_loss(meta),
            }
            for name, (model, meta) in items
        ]


def load_state(model_file: str | Path | None = None) -> AppState:
    """The bundled models ("digits": the 98% model, "notes": the notes' network) plus
    ``model_file`` (named after its file, and the default) when given."""
    from ...digits.predict import default_model

    models: dict[str, tuple[FastMLP, dict[str, Any]]] = {"digits": default_model()}
    if NOTES_MODEL.is_file():
        models["notes"] = load_model(NOTES_MODEL)
    default = "digits"
    if model_file is not None:
        default = Path(model_file).stem
        models[default] = load_model(model_file)
    return AppState(models, default)
