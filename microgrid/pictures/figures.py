"""Pictures of what a trained network learned (matplotlib, the ``viz`` extra).

Each function returns a ``matplotlib.figure.Figure`` that shows itself inline in a notebook;
``save_figure`` writes one to a PNG atomically. Functions take a FastMLP and, where they
need it, its metadata (training history) or a Dataset.
"""

from __future__ import annotations

import functools
import io
import math
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from ..digits.data import Dataset, to_inputs
from ..digits.fast import FastMLP, softmax
from ..support.atomic import write_bytes_atomically

if TYPE_CHECKING:
    from matplotlib.figure import Figure

__all__ = ["plot_weights", "plot_activations", "plot_curves", "plot_confusion", "plot_mistakes", "save_figure"]


@functools.cache
def _picture_class() -> type[Figure]:
    """matplotlib's Figure, plus ``_repr_png_`` so a notebook shows it inline on its own.

    The figures never go through pyplot (no global state, nothing to close in a script), so
    without this a notebook would print ``<Figure size ...>`` until ``%matplotlib inline``.
    """
    from matplotlib.figure import Figure

    class Picture(Figure):
        def _repr_png_(self) -> bytes:
            buffer = io.BytesIO()
            self.savefig(buffer, format="png")
            return buffer.getvalue()

    return Picture


def _figure(width: float, height: float) -> Figure:
    return _picture_class()(figsize=(width, height), dpi=100, layout="constrained")


def plot_weights(model: FastMLP, max_neurons: int = 64) -> Figure:
    """The first hidden layer's incoming weights, one 28x28 picture per neuron.

    Colours diverge around zero (red positive, blue negative, white 0): each picture
    shows the pixel pattern that neuron "looks for".
    """
    weights = model.weights[0].data
    if weights.shape[1] != 784:
        raise ValueError(f"plot_weights needs 784 inputs (28x28 images), the model has {weights.shape[1]}")
    count = min(len(weights), max_neurons)
    cols = min(8, count)
    rows = math.ceil(count / cols)
    fig = _figure(1.6 * cols + 0.8, 1.7 * rows + 0.6)
    limit = float(np.abs(weights[:count]).max()) or 1.0
    axes = fig.subplots(rows, cols, squeeze=False)
    image = None
    for k, ax in enumerate(axes.flat):
        ax.set_axis_off()
        if k < count:
            image = ax.imshow(weights[k].reshape(28, 28), cmap="RdBu_r", vmin=-limit, vmax=limit)
            ax.set_title(f"neuron {k}", fontsize=8)
    if image is not None:
        fig.colorbar(image, ax=axes, shrink=0.6, label="weight")
    shown = f" (first {count} of {len(weights)})" if count < len(weights) else ""
    fig.suptitle(f"What each first-layer neuron looks for{shown}: weights from the 784 pixels")
    return fig


def plot_activations(model: FastMLP, image: np.ndarray, title: str = "") -> Figure:
    """Every layer's activations for one prepared image (28, 28) in [0, 1], as the notes draw it."""
    from ..digits.predict import prepare

    field = image if image.shape == (28, 28) and image.max() <= 1.0 else prepare(image)
    acts = model.forward_all(field.reshape(1, 784).astype(model.dtype))
    layers = acts[1:]
    fig = _figure(2.4 + 1.3 * len(layers), 4.4)
    axes = fig.subplots(1, len(layers) + 1, gridspec_kw={"width_ratios": [3] + [1] * len(layers)})
    axes[0].imshow(field, cmap="gray", vmin=0, vmax=1)
    axes[0].set_title("input: 784 pixels", fontsize=9)
    axes[0].set_axis_off()
    digit = int(acts[-1][0].argmax())
    for k, (ax, a) in enumerate(zip(axes[1:], layers), start=1):
        values = a[0].astype(np.float64)
        last = k == len(layers)
        shown = softmax(values) if last and model.output_activation == "linear" else values
        top = max(float(shown.max()), 1e-12)
        if len(shown) > 32:  # too many neurons for circles: one grey cell per neuron
            ax.imshow(shown.reshape(-1, 1), cmap="gray", vmin=0, vmax=top, aspect="auto")
            ax.set_axis_off()
            ax.set_title(f"layer {k}\n({len(shown)})", fontsize=9)
            continue
        ax.scatter(np.zeros(len(shown)), -np.arange(len(shown)), s=120, c=shown, cmap="gray", vmin=0, vmax=top,
                   edgecolors="black", linewidths=0.6)  # fmt: skip
        if last:
            for j in range(len(shown)):
                ax.annotate(str(j), (0.25, -j), va="center", fontsize=8, color="red" if j == digit else "black")
        ax.set_xlim(-0.6, 0.8)
        ax.set_ylim(-len(shown) + 0.4, 0.6)
        ax.set_axis_off()
        name = "output" if last else f"layer {k}"
        ax.set_title(f"{name}\n({len(shown)})", fontsize=9)
    fig.suptitle(title or f"The network lighting up: it reads {digit}")
    return fig


def plot_curves(meta: dict[str, Any]) -> Figure:
    """Loss and train/test accuracy per epoch, from a model file's saved history."""
    history = meta.get("history") or []
    if not history:
        raise ValueError("the model has no training history to plot")
    epochs = [h["epoch"] for h in history]
    fig = _figure(9, 3.6)
    ax_loss, ax_acc = fig.subplots(1, 2)
    ax_loss.plot(epochs, [h["loss"] for h in history], marker="o")
    ax_loss.set_xlabel("epoch")
    ax_loss.set_ylabel("average cost (training)")
    ax_loss.set_title("cost")
    ax_acc.plot(epochs, [100 * h["train_accuracy"] for h in history], marker="o", label="train")
    ax_acc.plot(epochs, [100 * h["test_accuracy"] for h in history], marker="o", label="test")
    ax_acc.set_xlabel("epoch")
    ax_acc.set_ylabel("accuracy (%)")
    ax_acc.set_title("accuracy")
    ax_acc.legend()
    for ax in (ax_loss, ax_acc):
        ax.grid(alpha=0.3)
    fig.suptitle(f"Training of {'-'.join(map(str, meta.get('sizes', [])))}")
    return fig


def plot_confusion(model: FastMLP, data: Dataset) -> Figure:
    """The confusion matrix on the test set, with each digit's accuracy."""
    predicted = model.predict(to_inputs(data.test_images, model.dtype.type))
    labels = data.test_labels.astype(int)
    matrix = np.zeros((10, 10), dtype=int)
    np.add.at(matrix, (labels, predicted), 1)
    fig = _figure(7.5, 6.5)
    ax = fig.subplots()
    ax.imshow(np.log1p(matrix), cmap="Blues")
    for i in range(10):
        for j in range(10):
            if matrix[i, j]:
                ax.text(j, i, str(matrix[i, j]), ha="center", va="center", fontsize=7,
                        color="white" if i == j else "black")  # fmt: skip
    per_digit = matrix.diagonal() / np.maximum(matrix.sum(axis=1), 1)
    ax.set_yticks(range(10), [f"{d}  ({100 * a:.1f}%)" for d, a in enumerate(per_digit)])
    ax.set_xticks(range(10))
    ax.set_xlabel("predicted digit")
    ax.set_ylabel("true digit (accuracy)")
    total = matrix.diagonal().sum() / matrix.sum()
    ax.set_title(f"Confusion matrix on {matrix.sum():,} test images: {100 * total:.2f}% right")
    return fig


def plot_mistakes(model: FastMLP, data: Dataset, count: int = 36) -> Figure:
    """A grid of misclassified test digits, each with its true and predicted label."""
    predicted = model.predict(to_inputs(data.test_images, model.dtype.type))
    wrong = np.flatnonzero(predicted != data.test_labels)[:count]
    if not len(wrong):
        raise ValueError("the model reads every test digit right: there are no mistakes to show")
    cols = min(9, len(wrong))
    rows = math.ceil(len(wrong) / cols)
    fig = _figure(1.2 * cols, 1.4 * rows + 0.5)
    axes = fig.subplots(rows, cols, squeeze=False)
    for ax in axes.flat:
        ax.set_axis_off()
    for ax, i in zip(axes.flat, wrong):
        ax.imshow(data.test_images[i], cmap="gray")
        ax.set_title(f"true {data.test_labels[i]}, read {predicted[i]}", fontsize=7, color="#d62728")
    total = int((predicted != data.test_labels).sum())
    fig.suptitle(f"{len(wrong)} of the {total} test digits the model gets wrong")
    return fig


def save_figure(fig: Figure, path: str | Path) -> Path:
    """Write ``fig`` as PNG to ``path`` atomically (temp file, then rename)."""
    path = Path(path)
    if not path.parent.is_dir():
        raise OSError(f"cannot write {path}: directory {path.parent} does not exist")
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png")
    write_bytes_atomically(path, buffer.getvalue())
    return path
