"""Model files: ``.npz`` archives loaded with ``allow_pickle=False``, written atomically.

A model file holds the weights W1, b1, W2, b2, ... and one JSON string ``meta`` with
the architecture, the training history, the command that produced it, the data's
checksum and a SHA-256 of the weights, which ``load_model`` verifies: a file that is
not ours, or whose weights were changed after saving, is refused with a clear error.
"""

from __future__ import annotations

import hashlib
import io
import json
import zipfile
from pathlib import Path
from typing import Any

import numpy as np

from ..atomic import write_bytes_atomically
from .fast import FastMLP

__all__ = ["FORMAT", "ModelFileError", "save_model", "load_model", "weights_digest"]

FORMAT = "microgrid-model-1"


class ModelFileError(ValueError):
    """A model file is missing, not a microgrid model, or was changed after saving."""


def weights_digest(model: FastMLP) -> str:
    """SHA-256 over every weight array's dtype, shape and bytes, in parameter order."""
    h = hashlib.sha256()
    for p in model.parameters():
        h.update(f"{p.name}:{p.data.dtype.str}:{p.data.shape};".encode())
        h.update(np.ascontiguousarray(p.data).tobytes())
    return h.hexdigest()


def save_model(path: str | Path, model: FastMLP, meta: dict[str, Any] | None = None) -> Path:
    """Write ``model`` and ``meta`` to ``path`` atomically (temp file, then rename).

    A crash mid-write leaves any earlier file at ``path`` as it was.
    """
    path = Path(path)
    full_meta = dict(meta or {})
    full_meta.update(
        format=FORMAT,
        sizes=model.sizes,
        activation=model.activation,
        output_activation=model.output_activation,
        init=model.init,
        dtype=model.dtype.name,
        weights_sha256=weights_digest(model),
    )
    arrays = {p.name: p.data for p in model.parameters()}
    buffer = io.BytesIO()
    np.savez(buffer, meta=np.array(json.dumps(full_meta)), **arrays)  # type: ignore[arg-type]
    directory = path.parent if str(path.parent) else Path(".")
    if not directory.is_dir():
        raise ModelFileError(f"{path}: cannot write: directory {directory} does not exist")
    write_bytes_atomically(path, buffer.getvalue())
    return path


def load_model(path: str | Path) -> tuple[FastMLP, dict[str, Any]]:
    """Read a model file written by ``save_model``; returns the model and its metadata.

    Raises ModelFileError naming the file if it is missing, is not an npz archive of
    ours, is inconsistent, or its weights do not match the checksum saved with them.
    """
    path = Path(path)
    if not path.is_file():
        raise ModelFileError(f"{path}: no such model file")
    try:
        with np.load(path, allow_pickle=False) as archive:
            arrays = {name: archive[name] for name in archive.files}
    except (OSError, ValueError, zipfile.BadZipFile, EOFError) as err:
        raise ModelFileError(f"{path}: not a microgrid model file (not a readable .npz archive: {err})") from None
    try:
        meta = json.loads(str(arrays.pop("meta")))
        if meta.get("format") != FORMAT:
            raise KeyError("format")
        sizes = [int(s) for s in meta["sizes"]]
        model = FastMLP(
            sizes[0],
            sizes[1:],
            meta["activation"],
            meta["output_activation"],
            init=meta.get("init", "default"),
            dtype=np.dtype(meta["dtype"]).type,
            _draw_weights=False,  # the file's weights replace them just below
        )
    except (KeyError, ValueError, TypeError, json.JSONDecodeError) as err:
        raise ModelFileError(f"{path}: not a microgrid model file (its metadata is missing or wrong: {err})") from None
    for p in model.parameters():
        if p.name not in arrays or arrays[p.name].shape != p.data.shape:
            found = arrays[p.name].shape if p.name in arrays else "nothing"
            raise ModelFileError(f"{path}: {p.name} should have shape {p.data.shape}, found {found}")
        p.data = arrays[p.name].astype(model.dtype)
    if weights_digest(model) != meta.get("weights_sha256"):
        raise ModelFileError(
            f"{path}: the weights do not match the checksum saved with them (file changed after saving)"
        )
    return model, meta
