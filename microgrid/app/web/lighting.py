"""The network lighting up, on the fast path: a drawing read as ``predict`` reads it, every
layer's activations, the strongest edges, and what one neuron looks for."""

from __future__ import annotations

from typing import Any

import numpy as np

from ...digits.fast import FastMLP, softmax
from ...digits.predict import ImageError, load_image, prepare
from .errors import ApiError
from .state import model_loss

__all__ = ["read_drawing", "predict", "network", "neuron", "EDGES_PER_LAYER"]

EDGES_PER_LAYER = 160  # the strongest weights drawn as edges, per layer


def read_drawing(grey: np.ndarray) -> np.ndarray:
    """A drawing (h, w) in [0, 255] -> the (784,) inputs in [0, 1], by ``predict``'s own
    ``load_image`` and ``prepare`` (422 when there is no digit to read)."""
    try:
        return prepare(load_image(grey), "the drawing").reshape(784)
    except ImageError as err:
        raise ApiError(422, str(err)) from None


def predict(model: FastMLP, meta: dict[str, Any], image: np.ndarray) -> dict[str, Any]:
    """The inputs (784,) -> every layer's activations, the answer, and (for a softmax
    model) the probabilities."""
    layers = [a[0].astype(np.float64) for a in model.forward_all(image.reshape(1, 784))]
    out = layers[-1]
    loss = model_loss(meta)
    return {
        "image": layers[0].tolist(),
        "layers": [a.tolist() for a in layers[1:]],
        "digit": int(out.argmax()),
        "probabilities": softmax(out).tolist() if loss == "cross_entropy" else None,
    }


def network(model: FastMLP, per_layer: int = EDGES_PER_LAYER) -> dict[str, Any]:
    """The model's shape and, per layer l = 1..L, its strongest weights as edges
    ``[k, j, w_jk]`` (from neuron k of layer l-1 to neuron j of layer l), largest |w| first."""
    edges = []
    for w in model.weights:
        data = w.data.astype(np.float64)
        count = min(per_layer, data.size)
        flat = np.argpartition(-np.abs(data).ravel(), count - 1)[:count]
        flat = flat[np.argsort(-np.abs(data.ravel()[flat]))]
        rows, cols = np.unravel_index(flat, data.shape)
        edges.append([[int(k), int(j), float(data[j, k])] for j, k in zip(rows, cols)])
    return {
        "sizes": model.sizes,
        "activations": model.activations,
        "edges": edges,
    }


def neuron(model: FastMLP, image: np.ndarray, layer: int, index: int) -> dict[str, Any]:
    """Neuron ``index`` of layer ``layer`` (1 = first hidden) for the inputs (784,): its
    weights (fan_in,), bias, the weighted inputs w_k a_k(l-1), their sum, z and a."""
    if not 1 <= layer < len(model.sizes):
        raise ApiError(422, f"'layer' must be in [1, {len(model.sizes) - 1}], got {layer}")
    if not 0 <= index < model.sizes[layer]:
        raise ApiError(422, f"'index' must be in [0, {model.sizes[layer] - 1}] for layer {layer}, got {index}")
    acts = [a[0].astype(np.float64) for a in model.forward_all(image.reshape(1, 784))]
    weights = model.weights[layer - 1].data[index].astype(np.float64)
    bias = float(model.biases[layer - 1].data[index])
    previous = acts[layer - 1]
    weighted = weights * previous
    total = float(weighted.sum())
    return {
        "layer": layer,
        "index": index,
        "activation": model.activations[layer - 1],
        "weights": weights.tolist(),
        "bias": bias,
        "inputs": previous.tolist(),
        "weighted_inputs": weighted.tolist(),
        "weighted_sum": total,
        "z": total + bias,
        "a": float(acts[layer][index]),
    }
