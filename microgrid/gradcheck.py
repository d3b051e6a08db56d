"""Check ``backward()`` against central differences, and explain a mismatch.

``gradcheck(f, inputs)`` builds ``f`` on Values, backpropagates, then nudges each input by
+-eps and compares (f(x + eps) - f(x - eps)) / 2 eps with the analytic gradient. Standard
library only.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence

from .engine import Value, no_grad
from .ops import KINK_OPS

__all__ = ["gradcheck", "numeric_grad", "GradcheckError"]


class GradcheckError(AssertionError):
    """backward() disagrees with central differences; the message says where and by how much."""


def _as_float(x: float | Value, i: int) -> float:
    value = x.data if isinstance(x, Value) else x
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise TypeError(f"gradcheck input {i} must be a number or a Value, got {type(x).__name__}")
    return float(value)


def numeric_grad(f: Callable[..., Value], point: Sequence[float], eps: float = 1e-6) -> list[float]:
    """Central differences (f(x + eps e_i) - f(x - eps e_i)) / 2 eps for each input i."""
    grads = []
    with no_grad():
        for i in range(len(point)):
            up = [Value(x + eps if j == i else x) for j, x in enumerate(point)]
            down = [Value(x - eps if j == i else x) for j, x in enumerate(point)]
            grads.append((f(*up).data - f(*down).data) / (2.0 * eps))
    return grads


def _kinks_near(root: Value, eps: float) -> list[str]:
    """Describe each relu/abs node whose input lies within eps of 0 (the derivative jumps)."""
    found = []
    for node in root.topological_order():
        if node._op in KINK_OPS and abs(node._prev[0].data) <= eps:
            found.append(f"{node._op}({node._prev[0].data!r})")
    return found


def gradcheck(
    f: Callable[..., Value],
    inputs: Sequence[float | Value],
    eps: float = 1e-6,
    rtol: float = 1e-5,
    atol: float = 1e-7,
) -> bool:
    """Compare backward() with central differences at ``inputs``; True if all agree.

    Args:
        f: takes len(inputs) Values and returns one Value.
        inputs: the point, as numbers or Values (their labels name them in errors).
        eps: the nudge of the central difference.
        rtol: relative tolerance: agreement means |analytic - numeric| <= atol + rtol * |numeric|.
        atol: absolute tolerance of that comparison.

    Raises:
        GradcheckError: naming the first input that disagrees, both values, and whether
            the point sits on a kink (relu or abs at 0), where no derivative exists.
    """
    point = [_as_float(x, i) for i, x in enumerate(inputs)]
    names = [x.label if isinstance(x, Value) and x.label else f"input {i}" for i, x in enumerate(inputs)]
    leaves = [Value(x, label=name) for x, name in zip(point, names)]
    out = f(*leaves)
    if not isinstance(out, Value):
        raise TypeError(f"gradcheck: f must return a Value, got {type(out).__name__}")
    out.backward()
    numeric = numeric_grad(f, point, eps)
    for name, leaf, num in zip(names, leaves, numeric):
        ana = leaf.grad
        if not (math.isfinite(ana) and math.isfinite(num)) or abs(ana - num) > atol + rtol * abs(num):
            kinks = _kinks_near(out, eps)
            where = (
                f"; the point sits on a kink ({', '.join(kinks)}), where the derivative is undefined"
                if kinks
                else "; no relu/abs kink is near the point"
            )
            raise GradcheckError(
                f"gradient of {name} (at {leaf.data!r}) disagrees: backward() gives {ana!r}, "
                f"central differences give {num!r} (eps={eps}, |diff|={abs(ana - num):.3g}, "
                f"allowed {atol + rtol * abs(num):.3g}){where}"
            )
    return True
