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

__all__ = ["AppState", "NOTES_MODEL", "load_state", "model_loss", "NUDGES_MAX_WIDTH", "NUDGES_MAX_PARAMETERS",
           "STEPPED"]

STEPPED = " (stepped)"
"""The suffix of the model that "take a step" leaves behind: one per model it started from."""
NUDGES_MAX_WIDTH = 64
"""The widest layer whose nudges the scalar engine computes (the page offers those models only)."""
NUDGES_MAX_PARAMETERS = 70_000
"""The most weights and biases for nudges: 784-64-64-64-64-10 has 63,370 (one example: about 0.2 s)."""

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
        self._data_lock = threading.Lock()  # loading MNIST, without blocking lookups
        self.models: dict[str, tuple[FastMLP, dict[str, Any]]] = {}
        for name, (model, meta) in models.items():
            self.add_model(name, model, meta)
        self.default = default if default is not None else next(iter(self.models))
        if self.default not in self.models:
            raise ValueError(f"default model {self.default!r} is not one of {', '.join(self.models)}")
        self.bundled = frozenset(self.models)  # never removed
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

    def remove_model(self, name: str) -> None:
        """Forget a model (and the stepped copy made from it), freeing its weights; bundled ones stay."""
        with self.lock:
            for key in (name, name + STEPPED):
                if key not in self.bundled:
                    self.models.pop(key, None)

    def scalar(self, name: str | None) -> MLP:
        """A new scalar-engine copy of a model (``FastMLP.to_scalar``), for one request alone.

        Built per request (10 ms for the notes' network, 80 ms at the limit), so no two tabs
        share its grads and none waits for another, and a model replaced by its stepped
        version is never read from an old copy. ApiError 422 for a model past the limits of
        ``NUDGES_MAX_WIDTH`` neurons a layer or ``NUDGES_MAX_PARAMETERS`` weights.
        """
        model, _ = self.model(name)
        key = self.default if name is None else name
        widest, count = max(model.sizes[1:]), model.num_parameters()
        if widest > NUDGES_MAX_WIDTH or count > NUDGES_MAX_PARAMETERS:
            raise ApiError(
                422,
                f"model {key!r} ({'-'.join(map(str, model.sizes))}, {count:,} weights) is too large for the scalar "
                f"engine's nudges: at most {NUDGES_MAX_WIDTH} neurons a layer and {NUDGES_MAX_PARAMETERS:,} weights",
            )
        return model.to_scalar()

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
    """The bundled models ("notes": the notes' network, the default; "digits": the 98% model) plus
    ``model_file`` (named after its file, and then the default) when given."""
    from ...digits.predict import default_model

    models: dict[str, tuple[FastMLP, dict[str, Any]]] = {"digits": default_model()}
    if NOTES_MODEL.is_file():
        models["notes"] = load_model(NOTES_MODEL)
    default = "notes" if "notes" in models else "digits"  # the notes' network, as the page tells their story
    if model_file is not None:
        default = Path(model_file).stem
        models[default] = load_model(model_file)
    return AppState(models, default)
