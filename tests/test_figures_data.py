"""What the pictures show, checked against the data they claim to plot: the confusion
matrix against a count of our own, the mistakes against the model's answers, the weight
pictures against the first layer's weights."""

import re

import numpy as np
import pytest

from microgrid.digits.data import Dataset, load_mnist, to_inputs
from microgrid.digits.fast import FastMLP
from microgrid.digits.predict import default_model

pytest.importorskip("matplotlib", reason="the pictures need matplotlib: pip install 'microgrid[viz]'")
from microgrid.pictures import figures  # noqa: E402


@pytest.fixture(scope="module")
def data():
    d = load_mnist()
    return Dataset(d.train_images[:10], d.train_labels[:10], d.test_images[:800], d.test_labels[:800])


@pytest.fixture(scope="module")
def weak_model(data):
    """A barely trained model: plenty of mistakes, in every row of the matrix."""
    model = FastMLP(784, [10], "sigmoid", seed=1)
    x = to_inputs(load_mnist().train_images[:300])
    y = load_mnist().train_labels[:300]
    for _ in range(3):
        model.loss_and_backward(x, y, "mse")
        for p in model.parameters():
            p.data = p.data - 0.5 * p.grad
    return model


def our_predictions(model, images):
    """The model's answer for each image, from its outputs (not through predict())."""
    outputs = model(to_inputs(images, model.dtype.type))
    return [int(np.argmax(row)) for row in outputs]


@pytest.mark.parametrize("which", ["bundled", "weak"])
def test_confusion_matrix_counts_each_true_and_read_digit(data, weak_model, which):
    model = default_model()[0] if which == "bundled" else weak_model
    counts = np.zeros((10, 10), dtype=int)  # rows: true digit, columns: the digit read
    for label, read in zip(data.test_labels.tolist(), our_predictions(model, data.test_images)):
        counts[label, read] += 1
    assert counts.sum() == 800 and (which == "bundled" or np.count_nonzero(counts - np.diag(np.diag(counts))) > 5)
    fig = figures.plot_confusion(model, data)
    ax = fig.axes[0]
    shown = np.rint(np.expm1(np.asarray(ax.images[0].get_array(), dtype=np.float64))).astype(int)
    assert np.array_equal(shown, counts)
    texts = {(round(t.get_position()[1]), round(t.get_position()[0])): t.get_text() for t in ax.texts}
    assert texts == {(i, j): str(counts[i, j]) for i in range(10) for j in range(10) if counts[i, j]}
    right = 100 * np.trace(counts) / counts.sum()
    assert f"{right:.2f}% right" in ax.get_title()
    for d, tick in enumerate(ax.get_yticklabels()):
        assert tick.get_text() == f"{d}  ({100 * counts[d, d] / max(counts[d].sum(), 1):.1f}%)"


def test_mistakes_shown_are_mistakes_with_their_true_and_read_digits(data, weak_model):
    read = our_predictions(weak_model, data.test_images)
    wrong = [i for i, (r, t) in enumerate(zip(read, data.test_labels.tolist())) if r != t]
    assert len(wrong) > 36
    fig = figures.plot_mistakes(weak_model, data, count=36)
    panels = [ax for ax in fig.axes if ax.images]
    assert len(panels) == 36
    where = {data.test_images[i].tobytes(): i for i in range(len(data.test_images))}
    shown = []
    for ax in panels:
        image = np.asarray(ax.images[0].get_array())
        i = where[image.astype(np.uint8).tobytes()]
        true, answer = map(int, re.fullmatch(r"true (\d), read (\d)", ax.get_title()).groups())
        assert true == data.test_labels[i] and answer == read[i] and answer != true
        shown.append(i)
    assert shown == wrong[:36]  # the first 36 mistakes, in order, each once
    assert f"36 of the {len(wrong)} test digits" in fig._suptitle.get_text()


def test_weight_pictures_are_the_first_layer_weights():
    model, _ = default_model()
    fig = figures.plot_weights(model, max_neurons=20)
    panels = [ax for ax in fig.axes if ax.images and ax.get_title().startswith("neuron")]
    assert len(panels) == 20
    for k, ax in enumerate(panels):
        assert ax.get_title() == f"neuron {k}"
        assert np.array_equal(np.asarray(ax.images[0].get_array()), model.weights[0].data[k].reshape(28, 28))
        low, high = ax.images[0].get_clim()
        assert low == -high == -np.abs(model.weights[0].data[:20]).max()  # white is 0
