"""What the network thinks a digit looks like: gradients by the input pixels, and noise read.

The backward pass of :mod:`microgrid.digits.equations` does not stop at the first layer's
weights: one more line, dC/da(0) = W(1)T delta(1), gives the derivative by every pixel.
Here the "cost" is one output's score, so starting from delta(L) = d score / d a(L) *
sigma'(z(L)) the same equations give d score / d a(0), the 784 pixel nudges that raise
output k most. Climbing them (gradient *ascent* on the picture, pixels kept in [0, 1])
draws the image the network finds most k-like: seldom one a person would draw.

The score of output k is a_k(L) for a network trained with the notes' MSE, and the log of
the softmax probability, log p_k = z_k(L) - log sum_j exp z_j(L), for one trained with
cross-entropy (raising one logit alone can raise them all; log p_k asks for "k, and not
the others").
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .equations import SIGMA_PRIME, forward
from .fast import FastMLP, softmax

__all__ = ["SCORES", "input_gradient", "ascend", "noise_reading"]

SCORES = ("output", "log_softmax")


def _weights(model: FastMLP) -> tuple[list[np.ndarray], list[np.ndarray]]:
    return [w.data.astype(np.float64) for w in model.weights], [b.data.astype(np.float64) for b in model.biases]


def input_gradient(model: FastMLP, image: np.ndarray, digit: int, score: str = "output") -> tuple[float, np.ndarray]:
    """The score of output ``digit`` for one image (nin,) and its gradient by the pixels (nin,).

    score: "output" (a_k(L)) or "log_softmax" (log p_k over the outputs).
    """
    if score not in SCORES:
        raise ValueError(f"score must be one of {', '.join(SCORES)}, got {score!r}")
    if not 0 <= digit < model.sizes[-1]:
        raise ValueError(f"digit must be in [0, {model.sizes[-1]}), got {digit}")
    weights, biases = _weights(model)
    activations = model.activations
    a = forward(weights, biases, activations, np.asarray(image, np.float64).reshape(1, -1))
    out = a[-1][:, 0]
    seed = np.zeros_like(out)
    seed[digit] = 1.0
    if score == "output":
        value = float(out[digit])
    else:
        p = softmax(out)
        value = float(np.log(p[digit]))
        seed = seed - p  # d log p_k / d z_j = [j = k] - p_j
    # d score / d a(L), and then the notes' equations, one layer back at a time
    delta = seed[:, None] * SIGMA_PRIME[activations[-1]](a[-1])
    for layer in range(len(weights) - 1, -1, -1):
        g = weights[layer].T @ delta  # d score / d a(layer)
        if layer:
            delta = g * SIGMA_PRIME[activations[layer - 1]](a[layer])
    return value, g[:, 0]


def ascend(
    model: FastMLP, image: np.ndarray, digit: int, *, steps: int = 10, rate: float = 0.05, score: str = "output"
) -> tuple[np.ndarray, list[float]]:
    """``steps`` steps of gradient ascent on the pixels: x <- clip(x + rate g / max|g|, 0, 1).

    Each step moves the pixel with the largest gradient by ``rate``, the others in
    proportion. Returns the image (nin,) and the score before each step and after the last.
    """
    x = np.clip(np.asarray(image, np.float64).reshape(-1), 0.0, 1.0)
    scores = []
    for _ in range(steps):
        value, g = input_gradient(model, x, digit, score)
        scores.append(value)
        top = float(np.abs(g).max())
        if top == 0.0:
            break
        x = np.clip(x + rate * g / top, 0.0, 1.0)
    scores.append(input_gradient(model, x, digit, score)[0])
    return x, scores


def noise_reading(model: FastMLP, seed: int, count: int = 1) -> dict[str, Any]:
    """``count`` images of uniform random pixels in [0, 1] and what the network answers.

    Returns {"images": (count, nin) lists, "outputs": (count, k), "digits": (count,),
    "confidence": the largest output of each (a_k(L), or the softmax probability for a model
    whose output is linear)}.
    """
    rng = np.random.default_rng(seed)
    images = rng.random((count, model.sizes[0]))
    outputs = model.forward_all(images)[-1].astype(np.float64)
    shown = softmax(outputs) if model.output_activation == "linear" else outputs
    return {
        "images": images.round(4).tolist(),
        "outputs": outputs.tolist(),
        "digits": outputs.argmax(axis=1).tolist(),
        "confidence": shown.max(axis=1).tolist(),
    }
