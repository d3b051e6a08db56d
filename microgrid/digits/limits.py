"""The bounds every loader checks before it allocates: a small hostile file cannot ask for gigabytes.

Each loader reads a file's header first (an IDX header, a ``.npy`` header, a model's
``meta``, a picture's declared size), checks what it declares against these limits, and
only then reads the rest, never more bytes than the header declared. Past a limit it
raises its own error class (DataError, ModelFileError, ImageError) naming the file.
"""

from __future__ import annotations

from collections.abc import Sequence

__all__ = [
    "MAX_PARAMETERS",
    "MAX_LAYERS",
    "MAX_META_BYTES",
    "MAX_IDX_BYTES",
    "MAX_IMAGE_PIXELS",
    "check_layer_sizes",
]

MAX_PARAMETERS = 50_000_000
"""Weights and biases of one MLP, all layers together: 200 MB in float32, 400 MB in float64
per copy (training holds about six copies: weights, grads, two Adam moments, two snapshots).
MNIST's best preset, 784-256-10, has 203,530."""

MAX_LAYERS = 100
"""Layers of one MLP (hidden layers and the output layer)."""

MAX_META_BYTES = 16 * 2**20
"""A model file's ``meta`` JSON (settings, command, training history): 16 MiB. A 30-epoch
history is about 4 KB."""

MAX_IDX_BYTES = 2 * 2**30
"""One IDX file's data, decompressed: 2 GiB (MNIST's training images are 47 MB, EMNIST's
largest split 547 MB)."""

MAX_IMAGE_PIXELS = 50_000_000
"""A picture to read a digit from: 50 megapixels (a 7071x7071 image). A digit needs 20x20;
a phone photo is 12 to 48 megapixels. Reading a picture at this limit peaks at about
1.6 GB of memory (``predict`` on a 7071x7071 PNG; a 12000x12000 one took 4.6 GB before
this limit and is now refused from its header in 37 MB)."""


def check_layer_sizes(sizes: Sequence[object], name: str = "layer sizes") -> list[int]:
    """``sizes`` as ints after checking each is a positive int and the MLP fits the limits.

    Raises ValueError naming the sizes and the limit they pass: more than MAX_LAYERS
    layers, or more than MAX_PARAMETERS weights and biases. Checks before anything is allocated.
    """
    ints: list[int] = []
    for size in sizes:
        if isinstance(size, bool) or not isinstance(size, int) or size < 1:
            raise ValueError(f"{name} must be positive ints, got {size!r} in {list(sizes)}")
        ints.append(size)
    if len(ints) < 2:
        raise ValueError(f"{name} need at least an input and an output size, got {ints}")
    if len(ints) - 1 > MAX_LAYERS:
        raise ValueError(f"{name} give {len(ints) - 1} layers, more than the limit of {MAX_LAYERS}")
    params = sum((fan_in + 1) * fan_out for fan_in, fan_out in zip(ints[:-1], ints[1:]))
    if params > MAX_PARAMETERS:
        shown = "-".join(map(str, ints)) if len(ints) <= 12 else f"{ints[:6]}...{ints[-2:]}"
        raise ValueError(
            f"{name} {shown} give {params:,} weights and biases, more than the limit of {MAX_PARAMETERS:,}"
        )
    return ints
