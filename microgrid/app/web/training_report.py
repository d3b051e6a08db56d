"""What the training panel shows when a job ends: confusion matrix, wrong digits, the model file.

The model file is the same ``.npz`` that ``python -m microgrid train`` writes
(:func:`microgrid.digits.model_file.save_model`, loadable by ``predict``), made in a
temporary directory and handed over as bytes: the server writes no file of the user's.
"""

from __future__ import annotations

import base64
import shlex
import tempfile
from dataclasses import asdict
from pathlib import Path
from typing import Any

import numpy as np

from ...digits.data import PIXEL_SCALE
from ...digits.fast import FastMLP
from ...digits.model_file import save_model
from ...digits.train import TrainConfig

__all__ = ["confusion_and_mistakes", "model_bytes", "equivalent_command", "lean_copy", "model_meta"]


def confusion_and_mistakes(model: FastMLP, pixels: np.ndarray, labels: np.ndarray, most: int = 32) -> dict[str, Any]:
    """The confusion matrix over the test set and up to ``most`` misclassified test digits.

    pixels: uint8 (n, 784); labels (n,). Returns {"confusion": (k, k) counts, rows the
    true digit and columns what the net said, "accuracy", "wrong": how many,
    "mistakes": [{"index", "label", "said", "pixels": base64 of 784 bytes}]}.
    """
    said = model.predict(pixels, input_scale=PIXEL_SCALE)
    classes = model.sizes[-1]
    confusion = np.zeros((classes, classes), dtype=np.int64)
    np.add.at(confusion, (labels.astype(np.intp), said), 1)
    wrong = np.flatnonzero(said != labels)
    return {
        "confusion": confusion.tolist(),
        "accuracy": float(np.mean(said == labels)),
        "wrong": int(len(wrong)),
        "mistakes": [
            {
                "index": int(i),
                "label": int(labels[i]),
                "said": int(said[i]),
                "pixels": base64.b64encode(np.ascontiguousarray(pixels[i], np.uint8).tobytes()).decode("ascii"),
            }
            for i in wrong[:most]
        ],
    }


def equivalent_command(config: TrainConfig, data_dir: str | None) -> str:
    """The ``python -m microgrid train`` command line with the same configuration."""
    args = ["train", "--arch", ",".join(map(str, config.sizes)), "--activation", config.activation]
    if config.output_activation:
        args += ["--output-activation", config.output_activation]
    args += ["--loss", config.loss, "--optimizer", config.optimizer, "--lr", repr(config.lr)]
    args += ["--momentum", repr(config.momentum), "--lr-decay", repr(config.lr_decay), "--augment", str(config.augment)]
    args += ["--batch-size", str(config.batch_size), "--epochs", str(config.epochs), "--seed", str(config.seed)]
    args += ["--init", config.init, "--dtype", config.dtype]
    if config.weight_decay:
        args += ["--weight-decay", repr(config.weight_decay)]
    if config.limit:
        args += ["--limit", str(config.limit)]
    if data_dir:
        args += ["--data", data_dir]
    return "python -m microgrid " + shlex.join(args)


def model_bytes(model: FastMLP, meta: dict[str, Any]) -> bytes:
    """The model as the bytes of a ``save_model`` file (written in a temporary directory)."""
    with tempfile.TemporaryDirectory(prefix="microgrid-web-") as tmp:
        path = save_model(Path(tmp) / "model.npz", model, meta)
        return path.read_bytes()


def model_meta(config: TrainConfig, history: list[dict[str, float]], data: dict[str, Any], note: str) -> dict[str, Any]:
    """The metadata ``train`` saves, for a model trained in the page."""
    from ... import __version__

    return {
        "config": asdict(config),
        "command": equivalent_command(config, None if data.get("sha256") else data.get("source")),
        "trained_in": note,
        "data": data,
        "history": history,
        "microgrid_version": __version__,
    }


def lean_copy(model: FastMLP) -> FastMLP:
    """A copy of the model's weights whose grads are never written (their zero pages take no memory)."""
    lean = FastMLP(model.sizes[0], model.sizes[1:], model.activation, model.output_activation, init=model.init,
                   seed=model.seed, dtype=model.dtype.type, _draw_weights=False)  # fmt: skip
    lean.flat_parameters()[0].data[...] = model.flat_parameters()[0].data
    return lean
