"""The digit reader: a picture of a handwritten digit in, the digit out.

Any picture is prepared the way MNIST itself was made: greyscale; inverted when the
background is light (MNIST is white ink on black); cropped to the ink; scaled to fit a
20x20 box keeping the aspect ratio; placed in a 28x28 field so that its centre of mass
sits at the centre; scaled to [0, 1]. Pillow reads PNG, JPEG, BMP, GIF and PGM (the
``image`` or ``viz`` extra); ``.npy`` arrays are read with NumPy.
"""

from __future__ import annotations

import math
import re
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from .fast import FastMLP, softmax
from .limits import MAX_IMAGE_PIXELS
from .model_file import load_model

__all__ = ["DEFAULT_MODEL", "ImageError", "Prediction", "load_image", "prepare", "read_digit", "default_model"]

DEFAULT_MODEL = Path(__file__).resolve().parent / "models" / "digits.npz"
INK_THRESHOLD = 0.1  # fraction of the ink's full strength that counts as ink when cropping


class ImageError(ValueError):
    """The input cannot be read as a picture of a digit; the message names it."""


@dataclass(frozen=True)
class Prediction:
    """The digit read, the last layer's ten activations, and (for softmax models) probabilities."""

    digit: int
    activations: list[float]
    probabilities: list[float] | None
    source: str

    def as_dict(self) -> dict[str, Any]:
        """The prediction as plain JSON values: a NaN or infinite activation (a model whose
        outputs overflow) becomes None, so ``json.dumps(..., allow_nan=False)`` always works."""

        def finite(values: list[float] | None) -> list[float | None] | None:
            return None if values is None else [v if math.isfinite(v) else None for v in values]

        return {
            "file": self.source,
            "digit": self.digit,
            "activations": finite(self.activations),
            "probabilities": finite(self.probabilities),
        }


def load_image(source: str | Path | np.ndarray) -> np.ndarray:
    """A picture as a float greyscale array (h, w) in [0, 255], from a file or an array.

    Colour is converted to luminance; transparency is composited onto white, unless the
    drawing lives only in the alpha channel (strokes on a transparent sheet). 16-bit and
    32-bit greyscale (PNG, TIFF: Pillow modes I;16, I, F) are scaled from their full range,
    not clipped to 8 bits. A picture over ``limits.MAX_IMAGE_PIXELS`` (50 megapixels) is
    refused from its header, before its pixels are decoded.
    """
    if isinstance(source, np.ndarray):
        return _array_to_grey(source, "the array")
    path = Path(source)
    if not path.is_file():
        raise ImageError(f"{path}: no such file")
    if path.suffix.lower() == ".npy":
        return _array_to_grey(_load_npy(path), str(path))
    try:
        from PIL import Image, UnidentifiedImageError
    except ImportError:  # pragma: no cover - depends on the install
        raise ImageError("reading image files needs Pillow: pip install 'microgrid[image]'") from None
    try:
        with warnings.catch_warnings():  # Pillow warns past 89 megapixels; the limit here is lower
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            image = Image.open(path)
        with image:
            _check_pixels(path, (image.height, image.width))
            image.load()
            if image.mode in ("RGBA", "LA", "PA") or (image.mode == "P" and "transparency" in image.info):
                rgba = image.convert("RGBA")
                alpha = np.asarray(rgba)[..., 3].astype(np.float64)
                white = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
                grey = np.asarray(Image.alpha_composite(white, rgba).convert("L"), dtype=np.float64)
                if np.ptp(grey) < 1.0 and np.ptp(alpha) >= 1.0:
                    return 255.0 - alpha  # the drawing is only in the alpha channel: opaque = ink
                return grey
            if image.mode in ("I", "F") or image.mode.startswith("I;16"):
                return _deep_grey(np.asarray(image, dtype=np.float64), image.mode, path)
            return np.asarray(image.convert("L"), dtype=np.float64)
    except Image.DecompressionBombError as err:  # Pillow's own check, at twice its limit, fired at open
        pixels = re.search(r"\((\d+) pixels\)", str(err))
        count = f"{int(pixels.group(1)):,} pixels, " if pixels else ""
        raise ImageError(f"{path}: {count}more than the limit of {MAX_IMAGE_PIXELS:,}") from None
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError) as err:
        if isinstance(err, ImageError):
            raise
        raise ImageError(f"{path}: not an image Pillow can read ({type(err).__name__})") from None


def _check_pixels(name: object, shape: tuple[int, ...]) -> None:
    """Refuse a picture whose (h, w, ...) shape holds more than MAX_IMAGE_PIXELS pixels."""
    pixels = math.prod(shape[:2])
    if pixels > MAX_IMAGE_PIXELS or math.prod(shape) > 4 * MAX_IMAGE_PIXELS:
        size = "x".join(map(str, shape[1::-1])) if len(shape) >= 2 else str(shape)
        raise ImageError(f"{name}: {size}: {pixels:,} pixels, more than the limit of {MAX_IMAGE_PIXELS:,}")


def _load_npy(path: Path) -> np.ndarray:
    """A .npy array, its header (shape, dtype) checked before its data is read."""
    try:
        with path.open("rb") as f:
            version = np.lib.format.read_magic(f)
            read_header = (
                np.lib.format.read_array_header_1_0 if version == (1, 0) else np.lib.format.read_array_header_2_0
            )
            shape, _, _ = read_header(f)
        _check_pixels(path, tuple(shape))
        return np.load(path, allow_pickle=False)
    except (ValueError, OSError, EOFError) as err:
        if isinstance(err, ImageError):
            raise
        raise ImageError(f"{path}: not a NumPy array file ({err})") from None


def _deep_grey(values: np.ndarray, mode: str, path: Path) -> np.ndarray:
    """A 16- or 32-bit greyscale picture (Pillow mode I;16, I or F) scaled to [0, 255].

    I;16 is scaled from 0-65535. I (32-bit int) and F (32-bit float) have no fixed range:
    the smallest of [0, 1] (floats only), [0, 255], [0, 65535] that holds the values is
    taken as full scale; past that, 2^31 - 1 for ints and the largest value for floats.
    """
    if not np.all(np.isfinite(values)):
        raise ImageError(f"{path}: the image holds NaN or infinite values")
    full = 65535.0
    if not mode.startswith("I;16"):
        top = float(np.abs(values).max())
        ranges = ((1.0,) if mode == "F" else ()) + (255.0, 65535.0)
        full = next((r for r in ranges if top <= r), 2.0**31 - 1 if mode == "I" else top)
    return values * (255.0 / full)


def _array_to_grey(array: np.ndarray, name: str) -> np.ndarray:
    _check_pixels(name, array.shape)
    if not np.issubdtype(array.dtype, np.number) or np.issubdtype(array.dtype, np.complexfloating):
        raise ImageError(f"{name}: expected a numeric array, got dtype {array.dtype}")
    if array.ndim == 3 and array.shape[-1] in (3, 4):
        array = array[..., :3] @ np.array([0.299, 0.587, 0.114])
    if array.ndim != 2 or min(array.shape) < 1:
        raise ImageError(
            f"{name}: expected a 2-D greyscale (h, w) or colour (h, w, 3|4) array, got shape {array.shape}"
        )
    grey = array.astype(np.float64)
    if not np.all(np.isfinite(grey)):
        raise ImageError(f"{name}: the array holds NaN or infinite values")
    if grey.max() <= 1.0 and grey.min() >= 0.0:
        grey = grey * 255.0  # an array scaled to [0, 1], like MNIST inputs
    return grey


def prepare(grey: np.ndarray, name: str = "the image") -> np.ndarray:
    """A greyscale picture (h, w) in [0, 255] -> an MNIST-like (28, 28) array in [0, 1].

    Raises ImageError for an empty picture or one of a single colour.
    """
    if grey.size == 0:
        raise ImageError(f"{name}: the image is empty")
    lo, hi = float(grey.min()), float(grey.max())
    if hi - lo < 1.0:
        raise ImageError(f"{name}: the image is all one colour ({lo:.0f}): there is no digit to read")
    border = _border_mask(grey.shape)
    ink = (grey - lo) / (hi - lo)
    if np.median(ink[border]) > 0.5:  # light background, dark ink: invert to MNIST's white on black
        ink = 1.0 - ink
    ink = np.clip(ink - np.median(ink[border]), 0.0, None)  # the background level becomes 0
    if ink.max() <= 0.0:
        raise ImageError(f"{name}: no ink stands out from the background")
    ink /= ink.max()
    rows = np.flatnonzero(ink.max(axis=1) > INK_THRESHOLD)
    cols = np.flatnonzero(ink.max(axis=0) > INK_THRESHOLD)
    crop = ink[rows[0] : rows[-1] + 1, cols[0] : cols[-1] + 1]
    box = _fit(crop, 20)
    field = np.zeros((28, 28))
    h, w = box.shape
    total = box.sum()
    cy = (box.sum(axis=1) @ np.arange(h)) / total
    cx = (box.sum(axis=0) @ np.arange(w)) / total
    top = int(np.clip(round(14 - cy), 0, 28 - h))  # MNIST puts the centre of mass at pixel (14, 14)
    left = int(np.clip(round(14 - cx), 0, 28 - w))
    field[top : top + h, left : left + w] = box
    return np.clip(field / field.max(), 0.0, 1.0)


def _border_mask(shape: tuple[int, ...]) -> np.ndarray:
    mask = np.zeros(shape, dtype=bool)
    mask[0], mask[-1], mask[:, 0], mask[:, -1] = True, True, True, True
    return mask


def _fit(crop: np.ndarray, size: int) -> np.ndarray:
    """Scale crop (h, w) so its longer side is ``size`` pixels.

    Each new pixel averages the pixels it covers (a box filter), as MNIST was made.
    """
    from PIL import Image

    h, w = crop.shape
    scale = size / max(h, w)
    new_h, new_w = max(1, round(h * scale)), max(1, round(w * scale))
    image = Image.fromarray((crop * 255.0).astype(np.float32), mode="F")
    return np.asarray(image.resize((new_w, new_h), Image.Resampling.BOX), dtype=np.float64).clip(0, None) / 255.0


_default: tuple[FastMLP, dict[str, Any]] | None = None


def default_model() -> tuple[FastMLP, dict[str, Any]]:
    """The model that ships with microgrid (``train --preset best --augment 2``; see its metadata), loaded once."""
    global _default
    if _default is None:
        _default = load_model(DEFAULT_MODEL)
    return _default


def read_digit(
    source: str | Path | np.ndarray, model: FastMLP | str | Path | None = None, meta: dict[str, Any] | None = None
) -> Prediction:
    """Read the digit in a picture file or array; ``model`` is a FastMLP or a model file.

    Returns a Prediction: the digit, the ten activations of the last layer and, for a
    model trained with cross-entropy, the softmax probabilities.
    """
    if model is None:
        net, meta = default_model()
    elif isinstance(model, FastMLP):
        net = model
    else:
        net, meta = load_model(model)
    name = "the array" if isinstance(source, np.ndarray) else str(source)
    field = prepare(load_image(source), name)
    out = net(field.reshape(1, 784))[0].astype(np.float64)
    loss = (meta or {}).get("config", {}).get("loss")
    probabilities = softmax(out).tolist() if loss == "cross_entropy" else None
    return Prediction(int(out.argmax()), out.tolist(), probabilities, name)
