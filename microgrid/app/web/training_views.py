"""The live views of the training panel, computed from the current weights.

- ``cost_surface``: the notes' "cost function graphed on the surface above the input
  space", a 2-D slice of it: C(w + a d1 + b d2) on a grid of (a, b) around the current
  weights w, along two orthonormal directions d1, d2 of weight space, with the path
  gradient descent took projected on the same plane. The directions are the top two
  principal directions of the recent path (the steps that were actually taken, so the
  path is seen where it moves), or random filter-normalised directions (Li et al., 2018)
  before there is a path.
- ``gradient_comparison``: the mini-batch gradient of the current step beside the
  gradient over a large fixed subset of the training set (the notes' "not the most
  efficient step downhill but a pretty good approximation"): the cosine between them and
  the two costs.
- ``first_layer_images``: the first layer's weights as 28x28 pictures, packed as bytes.

Weights are handled as the model's one flat vector (``FastMLP.flat_parameters()``):
layer l owns a (fan_in + 1, fan_out) block ``[W^T; b]``.
"""

from __future__ import annotations

import base64
from collections.abc import Sequence
from typing import Any

import numpy as np

from ...digits.data import PIXEL_SCALE
from ...digits.fast import FastMLP
from ...digits.fast_kernels import activate

__all__ = ["cost_surface", "surface_costs", "path_directions", "gradient_comparison", "first_layer_images"]

def _blocks(model: FastMLP, flat: np.ndarray) -> list[np.ndarray]:
    """The flat vector (P,) cut into the layers' (fan_in + 1, fan_out) blocks [W^T; b]."""
    out, offset = [], 0
    for fan_in, fan_out in zip(model.sizes[:-1], model.sizes[1:]):
        end = offset + (fan_in + 1) * fan_out
        out.append(flat[offset:end].reshape(fan_in + 1, fan_out))
        offset = end
    return out


def _cost(outputs: np.ndarray, labels: np.ndarray, loss: str) -> float:
    """The batch's average cost for outputs (n, k): the notes' MSE or softmax cross-entropy."""
    n = len(labels)
    if loss == "mse":
        target = np.zeros_like(outputs)
        target[np.arange(n), labels] = 1.0
        return float(np.sum((outputs - target) ** 2) / n)
    shifted = outputs - outputs.max(axis=1, keepdims=True)
    log_sum = np.log(np.exp(shifted).sum(axis=1))
    return float(np.mean(log_sum - shifted[np.arange(n), labels]))


def surface_costs(
    model: FastMLP,
    directions: tuple[np.ndarray, np.ndarray],
    alphas: Sequence[float] | np.ndarray,
    betas: Sequence[float] | np.ndarray,
    pixels: np.ndarray,
    labels: np.ndarray,
    loss: str,
) -> np.ndarray:
    """C(w + a d1 + b d2) for every a in alphas and b in betas: (len(betas), len(alphas)).

    pixels: uint8 rows (n, nin), read as pixel / 255; labels (n,). The first layer's
    product is linear in its weights, so X [W + a D + b E]^T is formed from three products
    made once, which makes a 15x15 grid cost little more than three forward passes.
    """
    x = np.hstack([pixels * np.float64(PIXEL_SCALE), np.ones((len(pixels), 1))])
    flat = model.flat_parameters()[0].data.astype(np.float64)
    w, d, e = (_blocks(model, v.astype(np.float64)) for v in (flat, *directions))
    first = [x @ w[0], x @ d[0], x @ e[0]]
    acts = model.activations
    a = np.asarray(alphas, np.float64)[:, None, None]  # one row of the grid at a time: (len(alphas), n, k)
    out = np.empty((len(betas), len(alphas)))
    for i, b in enumerate(betas):
        h = activate(acts[0], first[0] + a * first[1] + b * first[2])
        for layer in range(1, len(w)):
            block = w[layer] + a * d[layer] + b * e[layer]  # (len(alphas), fan_in + 1, fan_out)
            h = activate(acts[layer], h @ block[:, :-1] + block[:, -1:])
        out[i] = [_cost(rows, labels, loss) for rows in h]
    return out


def _filter_normalised(model: FastMLP, rng: np.random.Generator) -> np.ndarray:
    """A random direction (P,) whose every neuron's weights have that neuron's norm (biases 0)."""
    flat = model.flat_parameters()[0].data.astype(np.float64)
    direction = rng.standard_normal(flat.shape)
    for w, dw in zip(_blocks(model, flat), _blocks(model, direction)):
        dw[-1] = 0.0
        dw[:-1] *= np.linalg.norm(w[:-1], axis=0) / (np.linalg.norm(dw[:-1], axis=0) + 1e-12)
    return direction


def path_directions(
    model: FastMLP, path: Sequence[np.ndarray], seed: int = 0
) -> tuple[tuple[np.ndarray, np.ndarray], str]:
    """Two orthonormal directions (P,) each, and how they were chosen.

    With three or more points on the path (flat weight vectors), the top two principal
    directions of (path - current weights); otherwise two random filter-normalised
    directions, made orthonormal.
    """
    center = model.flat_parameters()[0].data.astype(np.float64)
    if len(path) >= 3:
        offsets = np.stack([p.astype(np.float64) for p in path]) - center
        # top right singular vectors through the small (K, K) Gram matrix
        values, vectors = np.linalg.eigh(offsets @ offsets.T)
        top = vectors[:, np.argsort(values)[::-1][:2]]
        if values.max() > 0:
            d = top.T @ offsets
            d1 = d[0] / (np.linalg.norm(d[0]) + 1e-300)
            d2 = d[1] - (d[1] @ d1) * d1
            if np.linalg.norm(d2) > 1e-9 * np.linalg.norm(d[1]) + 1e-300:
                return (d1, d2 / np.linalg.norm(d2)), "the top two principal directions of the recent path"
    rng = np.random.default_rng(seed)
    d1 = _filter_normalised(model, rng)
    d2 = _filter_normalised(model, rng)
    d1 /= np.linalg.norm(d1)
    d2 -= (d2 @ d1) * d1
    return (d1, d2 / np.linalg.norm(d2)), "two random filter-normalised directions (no path yet)"


def cost_surface(
    model: FastMLP,
    path: Sequence[np.ndarray],
    pixels: np.ndarray,
    labels: np.ndarray,
    loss: str,
    *,
    points: int = 15,
) -> dict[str, Any]:
    """The slice of the cost surface around the current weights, as JSON-ready lists.

    Returns {"a": alphas (points,), "b": betas (points,), "cost": (points, points) rows
    over b, columns over a, "path": [[a, b], ...] of the path points, "center_cost",
    "directions": how d1 and d2 were chosen, "images": how many training images}.
    """
    (d1, d2), how = path_directions(model, path)
    center = model.flat_parameters()[0].data.astype(np.float64)
    coords = [[float((p - center) @ d1), float((p - center) @ d2)] for p in path]
    reach = max([abs(c) for xy in coords for c in xy] + [0.0]) * 1.25
    if reach == 0.0:
        reach = 1.0
    grid = np.linspace(-reach, reach, points)
    cost = surface_costs(model, (d1, d2), grid, grid, pixels, labels, loss)
    return {
        "a": grid.round(5).tolist(),
        "b": grid.round(5).tolist(),
        "cost": np.where(np.isfinite(cost), cost, -1.0).round(5).tolist(),
        "path": [[round(a, 5), round(b, 5)] for a, b in coords] + [[0.0, 0.0]],
        "center_cost": float(cost[points // 2, points // 2]),
        "directions": how,
        "images": len(labels),
    }


def gradient_comparison(
    probe: FastMLP,
    weights: np.ndarray,
    batch_gradient: np.ndarray,
    batch_cost: float,
    pixels: np.ndarray,
    labels: np.ndarray,
    loss: str,
    chunk: int = 2500,
) -> dict[str, float]:
    """The mini-batch gradient against the gradient over a fixed subset of the training set.

    Args:
        probe: a FastMLP of the same architecture, used as scratch (its weights are set).
        weights: the current flat weights (P,); batch_gradient: the mini-batch's (P,).
        pixels, labels: the subset, uint8 (n, nin) and (n,).

    Returns {"cosine", "batch_cost", "full_cost", "batch_norm", "full_norm", "images"}.
    """
    flat = probe.flat_parameters()[0]
    flat.data[...] = weights
    total = np.zeros(weights.shape, np.float64)
    cost = 0.0
    for start in range(0, len(labels), chunk):
        xb, yb = pixels[start : start + chunk], labels[start : start + chunk]
        with np.errstate(over="ignore", invalid="ignore"):
            cost += probe.loss_and_backward(xb, yb, loss, check=False, input_scale=PIXEL_SCALE) * len(yb)
        total += flat.grad * len(yb)
    full = total / len(labels)
    batch = batch_gradient.astype(np.float64)
    norms = float(np.linalg.norm(batch)), float(np.linalg.norm(full))
    cosine = float(batch @ full / (norms[0] * norms[1])) if norms[0] and norms[1] else 0.0
    return {
        "cosine": cosine,
        "batch_cost": float(batch_cost),
        "full_cost": cost / len(labels),
        "batch_norm": norms[0],
        "full_norm": norms[1],
        "images": len(labels),
    }


def first_layer_images(model: FastMLP, most: int = 16) -> dict[str, Any]:
    """The first layer's weights as pictures: all neurons up to ``most``, else an even sample.

    Returns {"indices": neuron numbers, "side": 28, "scale": max |w| per neuron,
    "data": base64 of int8 (count, 784) = round(127 w / scale)}; blue/red is the page's.
    """
    w = model.weights[0].data
    count, nin = w.shape
    indices = list(range(count)) if count <= most else np.linspace(0, count - 1, most).round().astype(int).tolist()
    picked = np.asarray(w[indices], np.float64)
    scale = np.abs(picked).max(axis=1)
    safe = np.where(scale > 0, scale, 1.0)
    packed = np.clip(np.round(127 * picked / safe[:, None]), -127, 127).astype(np.int8)
    side = int(round(nin**0.5))
    return {
        "indices": indices,
        "of": count,
        "side": side if side * side == nin else 0,
        "scale": scale.round(5).tolist(),
        "data": base64.b64encode(packed.tobytes()).decode("ascii"),
    }
