"""Model files: ``.npz`` archives read member by member, bounded, written atomically.

A model file holds the weights W1, b1, W2, b2, ... and one JSON string ``meta`` with
the architecture, the training history, the command that produced it, the data's
checksum and a SHA-256 of the weights, which ``load_model`` verifies: a file that is
not ours, or whose weights were changed after saving, is refused with a clear error.

Loading reads ``meta`` first (at most ``limits.MAX_META_BYTES``), checks it, and from
its architecture (at most ``limits.MAX_PARAMETERS`` weights) knows exactly which members
the archive must hold and each one's shape and dtype. It checks each member's ``.npy``
header against that before reading its data, reads no more bytes than that shape needs,
and refuses a file with any other member. So a small file cannot make it allocate more
than the model it declares.
"""

from __future__ import annotations

import hashlib
import io
import json
import zipfile
from pathlib import Path
from typing import IO, Any

import numpy as np

from ..support.atomic import write_bytes_atomically
from .fast import FastMLP
from .limits import MAX_META_BYTES, check_layer_sizes
from .model_meta import check_meta

__all__ = ["FORMAT", "ModelFileError", "save_model", "load_model", "weights_digest"]

FORMAT = "microgrid-model-1"


class ModelFileError(ValueError):
    """A model file is missing, not a microgrid model, damaged, or was changed after saving."""


def weights_digest(model: FastMLP) -> str:
    """SHA-256 over every weight array's dtype, shape and bytes, in parameter order."""
    h = hashlib.sha256()
    for p in model.parameters():
        h.update(f"{p.name}:{p.data.dtype.str}:{p.data.shape};".encode())
        h.update(np.ascontiguousarray(p.data).tobytes())
    return h.hexdigest()


def _check_finite(model: FastMLP, where: str) -> None:
    for p in model.parameters():
        bad = int(np.count_nonzero(~np.isfinite(p.data)))
        if bad:
            raise ModelFileError(f"{where}: {p.name} holds {bad} NaN or infinite values of {p.data.size}")


def save_model(path: str | Path, model: FastMLP, meta: dict[str, Any] | None = None) -> Path:
    """Write ``model`` and ``meta`` to ``path`` atomically (temp file, then rename).

    A crash mid-write leaves any earlier file at ``path`` as it was. Refuses (ModelFileError)
    a model with NaN or infinite weights, which ``load_model`` would refuse to read.
    """
    path = Path(path)
    _check_finite(model, f"{path}: not saved")
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
    try:
        check_meta(full_meta)
    except ValueError as err:
        raise ModelFileError(f"{path}: not saved: bad model metadata: {err}") from None
    arrays = {p.name: p.data for p in model.parameters()}
    buffer = io.BytesIO()
    np.savez(buffer, meta=np.array(json.dumps(full_meta)), **arrays)  # type: ignore[arg-type]
    directory = path.parent if str(path.parent) else Path(".")
    if not directory.is_dir():
        raise ModelFileError(f"{path}: cannot write: directory {directory} does not exist")
    write_bytes_atomically(path, buffer.getvalue())
    return path


def _read_member(archive: zipfile.ZipFile, name: str, shape: tuple[int, ...] | None, kind: str, limit: int) -> Any:
    """One ``.npy`` member, its header checked before its data is read.

    shape: the shape it must have (None: any shape of at most ``limit`` bytes); kind:
    "f4", "f8" (that float) or "U" (a unicode string). Raises ValueError saying what is wrong.
    """
    info = archive.getinfo(name)
    with archive.open(info) as f:
        version = np.lib.format.read_magic(f)
        read_header = np.lib.format.read_array_header_1_0 if version == (1, 0) else np.lib.format.read_array_header_2_0
        found_shape, fortran, dtype = read_header(f)
        wanted = "a string" if kind == "U" else f"float{int(kind[1]) * 8}"
        if dtype.kind != kind[0] or (kind != "U" and dtype.itemsize != int(kind[1])):
            raise ValueError(f"{name[:-4]} has dtype {dtype}, expected {wanted}")
        if shape is not None and tuple(found_shape) != shape:
            raise ValueError(f"{name[:-4]} should have shape {shape}, found {tuple(found_shape)}")
        nbytes = int(np.prod(found_shape, dtype=np.float64)) * dtype.itemsize
        if nbytes > limit:
            raise ValueError(f"{name[:-4]} declares {nbytes:,} bytes, more than the limit of {limit:,}")
        if info.file_size != f.tell() + nbytes:
            raise ValueError(f"{name[:-4]} holds {info.file_size - f.tell():,} data bytes, its header says {nbytes:,}")
        data = _read_exactly(f, nbytes)
    flat = np.frombuffer(data, dtype=dtype)
    return flat.reshape(found_shape, order="F") if fortran else flat.reshape(found_shape)


def _read_exactly(f: IO[bytes], nbytes: int) -> bytes:
    data = f.read(nbytes)
    if len(data) != nbytes:
        raise ValueError(f"truncated: {len(data)} of {nbytes} bytes")
    return data


def load_model(path: str | Path) -> tuple[FastMLP, dict[str, Any]]:
    """Read a model file written by ``save_model``; returns the model and its metadata.

    Raises ModelFileError naming the file if it is missing, is not an npz archive of
    ours, declares a model past ``limits.MAX_PARAMETERS``, holds a member it should not,
    is inconsistent or damaged, holds NaN or infinite weights, or its weights do not match
    the checksum saved with them.
    """
    path = Path(path)
    if not path.is_file():
        raise ModelFileError(f"{path}: no such model file")
    foreign = f"{path}: not a microgrid model file"
    try:
        archive = zipfile.ZipFile(path)
    except (OSError, zipfile.BadZipFile, ValueError, EOFError) as err:
        raise ModelFileError(f"{foreign} (not a readable .npz archive: {err})") from None
    with archive:
        names = archive.namelist()
        if "meta.npy" not in names:
            raise ModelFileError(f"{foreign} (no meta member; it holds {_listed(names)})")
        try:
            text = str(_read_member(archive, "meta.npy", (), "U", MAX_META_BYTES)[()])
            meta = json.loads(text)
        except (OSError, ValueError, EOFError, zipfile.BadZipFile, RecursionError) as err:
            raise ModelFileError(f"{foreign} (its meta cannot be read: {err})") from None
        if not isinstance(meta, dict) or meta.get("format") != FORMAT:
            shown = text if len(text) <= 60 else text[:57] + "..."
            raise ModelFileError(f"{foreign} (its meta is {shown}, expected a JSON object with format {FORMAT})")
        try:
            raw_sizes = meta.get("sizes")
            if not isinstance(raw_sizes, list):
                raise ValueError(f"meta.sizes is {raw_sizes!r}, expected a list of layer sizes")
            # JSON may spell a whole number as 1e6; it is still a size (and checked against the limit)
            sizes = check_layer_sizes(
                [int(s) if isinstance(s, float) and s.is_integer() else s for s in raw_sizes], "meta.sizes"
            )
            check_meta(meta)
            model = FastMLP(
                sizes[0],
                sizes[1:],
                meta["activation"],
                meta["output_activation"],
                init=meta.get("init", "default"),
                dtype=np.dtype(meta["dtype"]).type,
                _draw_weights=False,  # the file's weights replace them just below
            )
        except (KeyError, ValueError, TypeError) as err:
            raise ModelFileError(f"{path}: bad model metadata: {err}") from None
        params = model.parameters()
        expected = {"meta.npy", *(f"{p.name}.npy" for p in params)}
        unknown = [n for n in names if n not in expected]
        if unknown or len(names) != len(set(names)):
            what = f"unknown members {_listed(unknown)}" if unknown else "a member twice"
            raise ModelFileError(f"{path}: not a model of {'-'.join(map(str, sizes))}: it holds {what}")
        kind = f"f{model.dtype.itemsize}"
        for p in params:
            if f"{p.name}.npy" not in names:
                raise ModelFileError(f"{path}: {p.name} should have shape {p.data.shape}, found nothing")
            try:
                p.data = _read_member(archive, f"{p.name}.npy", p.data.shape, kind, p.data.nbytes)
            except (OSError, ValueError, EOFError, zipfile.BadZipFile) as err:
                raise ModelFileError(f"{path}: {err}") from None
    _check_finite(model, str(path))
    if weights_digest(model) != meta.get("weights_sha256"):
        raise ModelFileError(
            f"{path}: the weights do not match the checksum saved with them (file changed after saving)"
        )
    return model, meta


def _listed(names: list[str]) -> str:
    shown = ", ".join(repr(n) for n in names[:5])
    return shown + (f" and {len(names) - 5} more" if len(names) > 5 else "") if names else "nothing"
