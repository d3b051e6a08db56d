"""The cost's curvature on the fast path: exact Hessian-vector products and the top eigenvalues.

``hessian_vector_product(model, x, labels, loss, v)`` is H v, the Hessian of the batch's
average cost C (the training cost, no weight decay) by every weight and bias times a
vector v in the layout of ``FastMLP.flat_parameters()`` (layer l's block ``[W^T; b]``),
computed exactly by the R-operator (Pearlmutter, 1994): the forward and backward passes
of :mod:`microgrid.digits.equations` are run again with every quantity q replaced by its
directional derivative R{q} = d/dt q(w + t v) at t = 0,

    R{z(l)} = V(l) a(l-1) + W(l) R{a(l-1)} + v_b(l)       R{a(l)} = sigma'(z(l)) R{z(l)}
    R{delta(l)} = R{dC/da(l)} sigma'(z(l)) + dC/da(l) sigma''(z(l)) R{z(l)}
    R{dC/dW(l)} = R{delta(l)} a(l-1)T + delta(l) R{a(l-1)}T  = (H v) for the block of W(l)

two passes of the cost of about two gradients. The scalar engine's ``hvp`` (a gradient of a
gradient) gives the same numbers; a test holds the two together.

``top_eigenpairs`` runs subspace (power) iteration on H v: the eigenvalues of largest size
and their directions. The largest, lambda_max, sets the learning rate past which gradient
descent diverges: on a quadratic bowl a step of lr multiplies the error along the top
direction by (1 - lr lambda_max), which grows once lr > 2 / lambda_max.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from typing import Any

import numpy as np

from .blas_threads import blas_threads
from .equations import SIGMA, SIGMA_PRIME
from .fast import FastMLP

__all__ = ["SIGMA_SECOND", "split_flat", "hessian_vector_product", "top_eigenpairs", "CurvatureTracker"]

# sigma''(z) written with a = sigma(z), as sigma' is in equations.SIGMA_PRIME
SIGMA_SECOND: dict[str, Callable[[np.ndarray], np.ndarray]] = {
    "sigmoid": lambda a: a * (1.0 - a) * (1.0 - 2.0 * a),
    "tanh": lambda a: -2.0 * a * (1.0 - a * a),
    "relu": np.zeros_like,
    "linear": np.zeros_like,
}


def split_flat(sizes: list[int], flat: np.ndarray) -> list[tuple[np.ndarray, np.ndarray]]:
    """A flat vector (P,) in FastMLP's layout -> per layer (W (fan_out, fan_in), b (fan_out,)), views."""
    out, offset = [], 0
    for fan_in, fan_out in zip(sizes[:-1], sizes[1:]):
        end = offset + (fan_in + 1) * fan_out
        block = flat[offset:end].reshape(fan_in + 1, fan_out)
        out.append((block[:fan_in].T, block[fan_in]))
        offset = end
    if offset != flat.size:
        raise ValueError(f"a vector of {flat.size} numbers does not fit layers {sizes} ({offset} parameters)")
    return out


def hessian_vector_product(
    model: FastMLP, x: np.ndarray, labels: np.ndarray, loss: str, vector: np.ndarray, *, input_scale: float = 1.0
) -> tuple[float, np.ndarray, np.ndarray]:
    """The batch's average cost C, its gradient (P,) and H v (P,), in float64.

    Args:
        model: the network (its weights are read, never changed).
        x: inputs (n, nin), seen as x * input_scale; labels: ints (n,).
        loss: "mse" (the notes' sum of squares, averaged) or "cross_entropy" (softmax of the outputs).
        vector: v (P,), in the layout of ``model.flat_parameters()``.
    """
    flat = model.flat_parameters()[0].data.astype(np.float64)
    if vector.shape != flat.shape:
        raise ValueError(f"the vector must have shape {flat.shape} (one number per parameter), got {vector.shape}")
    params = split_flat(model.sizes, flat)
    direction = split_flat(model.sizes, vector.astype(np.float64))
    names = model.activations
    n = len(x)
    a = [np.ascontiguousarray(np.asarray(x, np.float64).T * input_scale)]  # a(0), (nin, n)
    r_a: list[np.ndarray] = [np.zeros((0, 0))]  # R{a(0)} = 0: the inputs do not move with the weights
    r_z: list[np.ndarray] = []
    for layer, ((w, b), (v, vb), name) in enumerate(zip(params, direction, names)):
        z = w @ a[-1] + b[:, None]
        rz = v @ a[-1] + vb[:, None]
        if layer:
            rz += w @ r_a[-1]
        out = SIGMA[name](z)
        a.append(out)
        r_z.append(rz)
        r_a.append(SIGMA_PRIME[name](out) * rz)
    y = np.eye(model.sizes[-1])[:, labels]
    if loss == "mse":
        cost = float(((a[-1] - y) ** 2).sum()) / n
        g, rg = 2.0 * (a[-1] - y) / n, 2.0 * r_a[-1] / n
    elif loss == "cross_entropy":
        shifted = a[-1] - a[-1].max(axis=0)
        p = np.exp(shifted) / np.exp(shifted).sum(axis=0)
        cost = float(-(np.log(p) * y).sum()) / n
        g, rg = (p - y) / n, p * (r_a[-1] - (p * r_a[-1]).sum(axis=0)) / n
    else:
        raise ValueError(f"unknown loss {loss!r}: expected mse or cross_entropy")
    grads: list[np.ndarray] = []
    products: list[np.ndarray] = []
    for layer in range(len(params) - 1, -1, -1):
        out, name = a[layer + 1], names[layer]
        delta = g * SIGMA_PRIME[name](out)  # dC/dz(l)
        r_delta = rg * SIGMA_PRIME[name](out) + g * SIGMA_SECOND[name](out) * r_z[layer]
        grads.append(np.vstack([(delta @ a[layer].T).T, delta.sum(axis=1)]))
        r_grad = r_delta @ a[layer].T if layer == 0 else r_delta @ a[layer].T + delta @ r_a[layer].T
        products.append(np.vstack([r_grad.T, r_delta.sum(axis=1)]))
        if layer:
            w, _ = params[layer]
            v, _ = direction[layer]
            g, rg = w.T @ delta, v.T @ delta + w.T @ r_delta
    grads.reverse()
    products.reverse()
    return cost, np.concatenate([m.ravel() for m in grads]), np.concatenate([m.ravel() for m in products])


def top_eigenpairs(
    product: Callable[[np.ndarray], np.ndarray],
    dim: int,
    count: int = 2,
    *,
    iterations: int = 30,
    start: np.ndarray | None = None,
    tol: float = 1e-4,
    seed: int = 0,
) -> tuple[np.ndarray, np.ndarray, int]:
    """The ``count`` eigenvalues of largest size of a symmetric operator, and their vectors.

    Subspace iteration with a Rayleigh-Ritz step: Q (dim, count) orthonormal, then repeatedly
    Q <- orthonormalise(H Q), until the top eigenvalue changes by less than ``tol`` relative.

    Args:
        product: v (dim,) -> H v (dim,).
        start: vectors (dim, count) to begin from (the last estimate's, so a few steps do).

    Returns eigenvalues (count,) largest first, vectors (dim, count), and the H v products used.
    """
    rng = np.random.default_rng(seed)
    q = rng.standard_normal((dim, count)) if start is None else np.array(start, np.float64)
    q, _ = np.linalg.qr(q)
    values = np.zeros(count)
    used = 0
    for _ in range(iterations):
        hq = np.column_stack([product(q[:, i]) for i in range(count)])
        used += count
        small = q.T @ hq
        small = 0.5 * (small + small.T)
        found, rotation = np.linalg.eigh(small)
        order = np.argsort(-np.abs(found))
        found, rotation = found[order], rotation[:, order]
        done = abs(found[0] - values[0]) <= tol * abs(found[0])
        values = found
        q, _ = np.linalg.qr(hq @ rotation)
        q *= np.sign(np.sum(q, axis=0) + 1e-300)  # a fixed sign, so warm starts do not flip
        if done:
            break
    return values, q, used


class CurvatureTracker:
    """lambda_max of the cost's Hessian while a run trains, within a share of its time.

    ``maybe(model, step, lr, training_seconds)`` estimates (on a fixed subset of the
    training data, warm-started from the last directions, so a few subspace-iteration steps
    per estimate keep up with the moving weights) with as many Hessian-vector products as
    keep the time spent within ``share`` of ``training_seconds``; ``history`` holds one row
    per estimate: {"step", "lambda_max" (the largest positive Ritz value of the three tracked; the
    largest in size when none is positive), "lambda_2" (the second largest in size), "lr", "limit"
    (= 2 / lambda_max), "cost" (the batch's, as given)}.
    """

    def __init__(
        self, pixels: np.ndarray, labels: np.ndarray, loss: str, *, share: float = 0.1, input_scale: float = 1.0
    ) -> None:
        self.pixels, self.labels, self.loss, self.share, self.scale = pixels, labels, loss, share, input_scale
        self.history: list[dict[str, float]] = []
        self.directions: np.ndarray | None = None
        self.spent = 0.0
        self.per_product = 0.01  # seconds one H v takes (a cautious guess before the first)
        self.inputs: np.ndarray | None = None
        self.values = np.zeros(3)  # the last estimate's three Ritz values, largest in size first

    def estimate(self, model: FastMLP, iterations: int = 8, tol: float = 1e-4) -> tuple[np.ndarray, np.ndarray]:
        """The top two eigenvalues and directions (P, 2) at the model's current weights, by at
        most ``iterations`` subspace steps from the last estimate's directions."""

        if self.inputs is None or len(self.inputs) != len(self.labels):
            self.inputs = np.asarray(self.pixels, np.float64) * self.scale  # once: (n, nin) in [0, 1]
        inputs = self.inputs

        def product(v: np.ndarray) -> np.ndarray:
            return hessian_vector_product(model, inputs, self.labels, self.loss, v)[2]
        t0 = time.perf_counter()
        start = self.directions if self.directions is not None else None
        # three vectors for two answers: the third speeds up the second's convergence (rate lambda_4 / lambda_2)
        with blas_threads(1):  # small products: spare threads only fight the training's
            values, vectors, used = top_eigenpairs(
                product, model.num_parameters(), 3, iterations=iterations, start=start, tol=tol
            )
        self.per_product = (time.perf_counter() - t0) / max(used, 1)
        self.directions = vectors
        self.values = values
        return values[:2], vectors[:, :2]

    def maybe(
        self, model: FastMLP, step: int, lr: float, training_seconds: float, cost: float = math.nan, force: bool = False
    ) -> bool:
        """Estimate now if the budget allows (12 subspace steps, 6 once warm), or with ``force`` (6 steps
        whatever the budget); True when a row was added."""
        available = self.share * training_seconds - self.spent
        iterations = min(6 if self.history else 12, int(available / (3 * self.per_product)))
        if iterations < 1:
            if not force:
                return False
            iterations = 6
        t0 = time.perf_counter()
        with np.errstate(over="ignore", invalid="ignore"):
            values, _ = self.estimate(model, iterations=iterations)
        self.spent += time.perf_counter() - t0
        # lambda_max is the largest positive one found: a saddle's negative curvature can be larger in size
        top = float(self.values.max()) if self.values.max() > 0 else float(values[0])
        self.history.append({
            "step": step, "lambda_max": top, "lambda_2": float(values[1]), "lr": lr,
            "limit": 2.0 / top if top > 0 else float("inf"), "cost": cost,
        })  # fmt: skip
        return True

    def rows(self) -> list[dict[str, Any]]:
        """The history, JSON-ready (an infinite limit as None)."""
        return [{k: (v if np.isfinite(v) else None) for k, v in row.items()} for row in self.history[-400:]]
