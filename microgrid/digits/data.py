"""MNIST and other IDX datasets: reading, checking, scaling.

The four canonical MNIST files ship inside the package (``microgrid/digits/datasets/mnist``),
so training works offline; their SHA-256 checksums are held here and verified the first
time each file is read in a process. ``load_mnist(path)`` reads any directory of IDX files
with the standard names, gzipped or not, such as Fashion-MNIST.
"""

from __future__ import annotations

import gzip
import hashlib
import math
import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .limits import MAX_IDX_BYTES

__all__ = [
    "BUNDLED_MNIST",
    "MNIST_SHA256",
    "DataError",
    "Dataset",
    "read_idx",
    "load_mnist",
    "to_inputs",
    "PIXEL_SCALE",
    "one_hot",
    "bundled_checksum",
]

BUNDLED_MNIST = Path(__file__).resolve().parent / "datasets" / "mnist"

MNIST_SHA256 = {
    "train-images-idx3-ubyte": "ba891046e6505d7aadcbbe25680a0738ad16aec93bde7f9b65e87a2fc25776db",
    "train-labels-idx1-ubyte": "65a50cbbf4e906d70832878ad85ccda5333a97f0f4c3dd2ef09a8a9eef7101c5",
    "t10k-images-idx3-ubyte": "0fa7898d509279e482958e8ce81c8e77db3f2f8254e26661ceb7762c4d494ce7",
    "t10k-labels-idx1-ubyte": "ff7bcfd416de33731a308c3f266cc351222c34898ecbeaf847f06e48f7ec33f2",
}
"""SHA-256 of each canonical MNIST file once decompressed."""

IMAGES_MAGIC = 0x00000803  # unsigned bytes, 3 dimensions
LABELS_MAGIC = 0x00000801  # unsigned bytes, 1 dimension

_verified: set[Path] = set()


class DataError(ValueError):
    """A data file is missing, malformed, truncated or fails its checksum; names the file."""


def _read_bytes(path: Path) -> bytes:
    if not path.is_file():
        raise DataError(f"{path}: no such file")
    try:
        if path.suffix == ".gz":
            with gzip.open(path, "rb") as f:
                return f.read()
        return path.read_bytes()
    except (OSError, EOFError, gzip.BadGzipFile) as err:
        raise DataError(f"{path}: cannot be read ({err})") from None


def _check_header(path: Path, head: bytes, expected_magic: int | None) -> int:
    """The number of dimensions an IDX file's first 4 bytes declare, after checking them."""
    if len(head) < 4:
        raise DataError(f"{path}: truncated: {len(head)} bytes, too short for an IDX header")
    magic = int.from_bytes(head, "big")
    if expected_magic is not None and magic != expected_magic:
        raise DataError(f"{path}: wrong magic number 0x{magic:08x}, expected 0x{expected_magic:08x}")
    if head[0] != 0 or head[1] != 0 or head[2] != 0x08 or not 1 <= head[3] <= 3:
        raise DataError(f"{path}: not an IDX file of unsigned bytes (magic 0x{magic:08x})")
    return head[3]


def read_idx(path: str | Path, expected_magic: int | None = None) -> np.ndarray:
    """Read one IDX file of unsigned bytes (gzipped or not) into a uint8 array.

    Returns shape (n, rows, cols) for images (magic 0x803), (n,) for labels (magic 0x801).
    Raises DataError naming the file for a missing file, a wrong magic number, a header
    declaring more than ``limits.MAX_IDX_BYTES`` of data, or a size that does not match
    the header (truncated or padded). The header is checked from the first bytes before
    anything else is read, and no more than the declared size (plus one byte) is ever
    read or decompressed.
    """
    path = Path(path)
    if not path.is_file():
        raise DataError(f"{path}: no such file")
    try:
        with gzip.open(path, "rb") if path.suffix == ".gz" else open(path, "rb") as f:
            ndim = _check_header(path, f.read(4), expected_magic)
            raw_dims = f.read(4 * ndim)
            header = 4 + 4 * ndim
            if len(raw_dims) < 4 * ndim:
                raise DataError(f"{path}: truncated: {4 + len(raw_dims)} bytes, the header alone needs {header}")
            dims = tuple(int.from_bytes(raw_dims[4 * i : 4 * i + 4], "big") for i in range(ndim))
            expected = math.prod(dims)
            if expected > MAX_IDX_BYTES:
                raise DataError(
                    f"{path}: header {dims} declares {expected:,} data bytes, more than the limit of {MAX_IDX_BYTES:,}"
                )
            if path.suffix != ".gz":  # the size on disk says it all before reading
                _check_size(path, dims, expected, os.fstat(f.fileno()).st_size - header)
            data = f.read(expected)
            _check_size(path, dims, expected, len(data))
            if f.read(1):
                raise DataError(f"{path}: too long: header {dims} needs {expected} data bytes, found more")
    except (OSError, EOFError, gzip.BadGzipFile) as err:
        raise DataError(f"{path}: cannot be read ({err})") from None
    return np.frombuffer(data, dtype=np.uint8).reshape(dims)


def _check_size(path: Path, dims: tuple[int, ...], expected: int, found: int) -> None:
    if found != expected:
        kind = "truncated" if found < expected else "too long"
        raise DataError(f"{path}: {kind}: header {dims} needs {expected} data bytes, found {found}")


def bundled_checksum(name: str) -> str:
    """SHA-256 of a bundled MNIST file's decompressed bytes (verified against MNIST_SHA256)."""
    path = BUNDLED_MNIST / f"{name}.gz"
    digest = hashlib.sha256(_read_bytes(path)).hexdigest()
    if digest != MNIST_SHA256[name]:
        raise DataError(
            f"{path}: checksum mismatch: sha256 {digest}, expected {MNIST_SHA256[name]} (the bundled data is damaged; "
            "reinstall microgrid)"
        )
    _verified.add(path)
    return digest


def _find(directory: Path, stem: str) -> Path:
    """The file for ``stem`` in ``directory``: standard name, or with a dot, gzipped or not."""
    dotted = stem.replace("-idx", ".idx")
    for name in (stem, f"{stem}.gz", dotted, f"{dotted}.gz"):
        if (directory / name).is_file():
            return directory / name
    raise DataError(f"{directory / stem}: no such file (looked for {stem}[.gz] and {dotted}[.gz])")


@dataclass(frozen=True)
class Dataset:
    """Images (n, 28, 28) uint8 and labels (n,) uint8 for train, test and (maybe) validation.

    Unpacks as ``train_images, train_labels, test_images, test_labels``.
    """

    train_images: np.ndarray
    train_labels: np.ndarray
    test_images: np.ndarray
    test_labels: np.ndarray
    validation_images: np.ndarray | None = None
    validation_labels: np.ndarray | None = None
    source: str = ""

    def __iter__(self):  # type: ignore[no-untyped-def]
        return iter((self.train_images, self.train_labels, self.test_images, self.test_labels))


def _load_pair(images_path: Path, labels_path: Path) -> tuple[np.ndarray, np.ndarray]:
    images = read_idx(images_path, IMAGES_MAGIC)
    labels = read_idx(labels_path, LABELS_MAGIC)
    if len(images) != len(labels):
        raise DataError(f"{images_path} holds {len(images)} images but {labels_path} holds {len(labels)} labels")
    return images, labels


def load_mnist(path: str | Path | None = None, validation: int = 0) -> Dataset:
    """Load MNIST (the bundled copy when ``path`` is None) or any IDX set with MNIST's names.

    Args:
        path: a directory holding train-images-idx3-ubyte, train-labels-idx1-ubyte,
            t10k-images-idx3-ubyte and t10k-labels-idx1-ubyte, each possibly ``.gz``.
        validation: hold out the last ``validation`` training images as a validation set.

    Returns:
        A Dataset: images uint8 (n, rows, cols), labels uint8 (n,).
    """
    directory = BUNDLED_MNIST if path is None else Path(path)
    if not directory.is_dir():
        raise DataError(f"{directory}: no such directory of IDX files")
    if path is None:
        for name in MNIST_SHA256:
            if BUNDLED_MNIST / f"{name}.gz" not in _verified:
                bundled_checksum(name)
    train = _load_pair(_find(directory, "train-images-idx3-ubyte"), _find(directory, "train-labels-idx1-ubyte"))
    test = _load_pair(_find(directory, "t10k-images-idx3-ubyte"), _find(directory, "t10k-labels-idx1-ubyte"))
    if validation < 0 or (validation and validation >= len(train[0])):  # 0 is fine even with no images
        raise ValueError(f"validation must be in [0, {len(train[0])}), got {validation}")
    cut = len(train[0]) - validation
    val_images = train[0][cut:] if validation else None
    val_labels = train[1][cut:] if validation else None
    return Dataset(train[0][:cut], train[1][:cut], test[0], test[1], val_images, val_labels, str(directory))


PIXEL_SCALE = 1 / 255
"""What a uint8 pixel is multiplied by to give a network input in [0, 1] (to_inputs divides
by 255; FastMLP's ``input_scale=PIXEL_SCALE`` reads raw pixels the same way)."""


def to_inputs(images: np.ndarray, dtype: type = np.float64) -> np.ndarray:
    """uint8 images (n, 28, 28) or (28, 28) -> float inputs in [0, 1], shape (n, 784)."""
    images = np.asarray(images)
    if images.ndim == 2:
        images = images[None]
    if images.ndim != 3:
        raise ValueError(f"expected images of shape (n, rows, cols), got shape {images.shape}")
    return images.reshape(len(images), -1).astype(dtype) / dtype(255.0)  # type: ignore[operator]


def one_hot(labels: np.ndarray, classes: int = 10, dtype: type = np.float64) -> np.ndarray:
    """Labels (n,) ints in [0, classes) -> one-hot rows (n, classes)."""
    labels = np.asarray(labels)
    if labels.size and (labels.min() < 0 or labels.max() >= classes):
        raise ValueError(f"labels must be in [0, {classes}), got range [{labels.min()}, {labels.max()}]")
    out: np.ndarray = np.zeros((len(labels), classes), dtype=dtype)
    out[np.arange(len(labels)), labels] = 1.0
    return out
