"""Check ``backward()`` against central differences, and explain a mismatch.

``gradcheck(f, inputs)`` builds ``f`` on Values, backpropagates, then nudges each input by
+-eps and compares (f(x + eps) - f(x - eps)) / 2 eps with the analytic gradient.
``gradcheck(f, inputs, order=2)`` (or ``gradgradcheck``) also checks the second
derivatives that ``grad(create_graph=True)`` gives, against central differences of the
first derivatives, like PyTorch's ``gradgradcheck``. Standard library only.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence

from ..autodiff import grad
from ..engine import Value, no_grad
from ..ops import OPS

__all__ = ["gradcheck", "gradgradcheck", "numeric_grad", "numeric_hessian", "GradcheckError"]


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


def numeric_hessian(f: Callable[..., Value], point: Sequence[float], eps: float = 1e-6) -> list[list[float]]:
    """Central differences of the analytic first derivatives: row i, column j is
    (d f/dx_i at x + eps e_j  -  d f/dx_i at x - eps e_j) / 2 eps (n x n)."""
    n = len(point)
    columns = []
    for j in range(n):
        sides = []
        for sign in (1.0, -1.0):
            xs = [Value(x + sign * eps if k == j else x) for k, x in enumerate(point)]
            sides.append([g.data for g in grad(f(*xs), xs)])
        columns.append([(up - down) / (2.0 * eps) for up, down in zip(*sides)])
    return [[columns[j][i] for j in range(n)] for i in range(n)]


def _kinks_near(root: Value, eps: float) -> list[str]:
    """Describe each relu/abs node whose input lies within eps of 0 (the derivative jumps)."""
    found = []
    for node in root.topological_order():
        op = OPS.get(node.op)
        if op is not None and op.kink and abs(node.parents[0].data) <= eps:
            found.append(f"{node.op}({node.parents[0].data!r})")
    return found


def gradcheck(
    f: Callable[..., Value],
    inputs: Sequence[float | Value],
    eps: float = 1e-6,
    rtol: float = 1e-5,
    atol: float = 1e-7,
    order: int = 1,
) -> bool:
    """Compare backward() with central differences at ``inputs``; True if all agree.

    Args:
        f: takes len(inputs) Values and returns one Value.
        inputs: the point, as numbers or Values (their labels name them in errors).
        eps: the nudge of the central difference.
        rtol: relative tolerance: agreement means |analytic - numeric| <= atol + rtol * |numeric|.
        atol: absolute tolerance of that comparison.
        order: 2 also compares every second derivative d2 f / dx_i dx_j of
            ``grad(create_graph=True)`` with central differences of the first derivatives.

    Raises:
        GradcheckError: naming the first input (or pair of inputs) that disagrees, both values, and whether
            the point sits on a kink (relu or abs at 0), where no derivative exists.
    """
    if order not in (1, 2):
        raise ValueError(f"gradcheck: order must be 1 or 2, got {order!r}")
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
        if _disagree(ana, num, rtol, atol):
            raise GradcheckError(
                f"gradient of {name} (at {leaf.data!r}) disagrees: backward() gives {ana!r}, "
                f"central differences give {num!r} (eps={eps}, |diff|={abs(ana - num):.3g}, "
                f"allowed {atol + rtol * abs(num):.3g}){_where(out, eps)}"
            )
    if order == 2:
        _check_second(f, out, leaves, names, point, eps, rtol, atol)
    return True


def gradgradcheck(
    f: Callable[..., Value],
    inputs: Sequence[float | Value],
    eps: float = 1e-6,
    rtol: float = 1e-5,
    atol: float = 1e-7,
) -> bool:
    """``gradcheck(f, inputs, order=2)``: first and second derivatives against central differences."""
    return gradcheck(f, inputs, eps=eps, rtol=rtol, atol=atol, order=2)


def _disagree(ana: float, num: float, rtol: float, atol: float) -> bool:
    return not (math.isfinite(ana) and math.isfinite(num)) or abs(ana - num) > atol + rtol * abs(num)


def _where(out: Value, eps: float) -> str:
    kinks = _kinks_near(out, eps)
    if kinks:
        return f"; the point sits on a kink ({', '.join(kinks)}), where the derivative is undefined"
    return "; no relu/abs kink is near the point"


def _check_second(
    f: Callable[..., Value],
    out: Value,
    leaves: list[Value],
    names: list[str],
    point: list[float],
    eps: float,
    rtol: float,
    atol: float,
) -> None:
    """Each d2 f / dx_i dx_j from grad(create_graph=True) against numeric_hessian."""
    firsts = grad(out, leaves, create_graph=True)
    numeric = numeric_hessian(f, point, eps)
    for i, g in enumerate(firsts):
        row = grad(g, leaves)
        for j, r in enumerate(row):
            ana, num = r.data, numeric[i][j]
            if _disagree(ana, num, rtol, atol):
                at = ", ".join(f"{n} = {x!r}" for n, x in zip(names, point))
                raise GradcheckError(
                    f"second derivative d2/d({names[i]}) d({names[j]}) (at {at}) disagrees: "
                    f"grad(create_graph=True) gives {ana!r}, central differences of the first derivatives "
                    f"give {num!r} (eps={eps}, |diff|={abs(ana - num):.3g}, allowed {atol + rtol * abs(num):.3g})"
                    f"{_where(out, eps)}"
                )
