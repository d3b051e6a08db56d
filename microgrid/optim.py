"""Optimizers that update anything with ``.data`` and ``.grad``.

They are duck-typed: a scalar ``Value`` (float data) and a vectorised parameter (NumPy
array data, updated in place) are stepped by the same code, with the same formulas as
PyTorch's ``torch.optim.SGD`` and ``torch.optim.Adam``.
"""

from __future__ import annotations

import importlib
import math
import sys
from collections.abc import Iterable
from typing import Any, Protocol

__all__ = ["Parameter", "Optimizer", "SGD", "Adam"]


class Parameter(Protocol):
    """What an optimizer needs of a parameter."""

    data: Any
    grad: Any


class Optimizer:
    """Base class: keeps the parameter list; ``zero_grad()`` clears their grads."""

    def __init__(self, params: Iterable[Parameter], lr: float) -> None:
        self.params = list(params)
        if not self.params:
            raise ValueError("optimizer got an empty parameter list")
        if not (isinstance(lr, (int, float)) and math.isfinite(lr) and lr > 0):
            raise ValueError(f"learning rate must be a positive finite number, got {lr!r}")
        self.lr = float(lr)
        # array parameters are updated in place with NumPy, numbers by plain arithmetic
        self._in_place = [_is_array(p.data) for p in self.params]
        self._scratch_arrays: list[Any] = [None] * len(self.params)

    def zero_grad(self) -> None:
        """Set every parameter's grad to zero (0.0, or zeros of the array's shape).

        An inf or nan grad is cleared too, as in PyTorch (``grad * 0.0`` would keep nan).
        """
        for p in self.params:
            p.grad = _zeros_like(p.grad)

    def step(self) -> None:  # pragma: no cover - abstract
        raise NotImplementedError

    def _scratch(self, i: int, like: Any) -> Any:
        """A reusable array shaped like parameter i's data: large arrays are not
        allocated afresh (page by page) on every step."""
        if self._scratch_arrays[i] is None:
            self._scratch_arrays[i] = _np().empty_like(like)
        return self._scratch_arrays[i]


class SGD(Optimizer):
    """Gradient descent: v = momentum * v + grad; data -= lr * v (v = grad without momentum)."""

    def __init__(self, params: Iterable[Parameter], lr: float, momentum: float = 0.0) -> None:
        super().__init__(params, lr)
        if not 0.0 <= momentum < 1.0:
            raise ValueError(f"momentum must be in [0, 1), got {momentum!r}")
        self.momentum = float(momentum)
        self.velocity: list[Any] = [None] * len(self.params)

    def step(self) -> None:
        """One update of every parameter from its current grad."""
        lr, mu = self.lr, self.momentum
        for i, p in enumerate(self.params):
            g = p.grad
            if mu:
                v = self.velocity[i]
                if v is None:
                    v = g + 0.0  # a copy, never the grad itself
                else:  # in place for arrays; a float is rebound
                    v *= mu
                    v += g
                self.velocity[i] = v
                g = v
            if self._in_place[i]:
                scratch = self._scratch(i, p.data)
                _np().multiply(g, lr, scratch)
                data = p.data
                data -= scratch
            else:
                p.data -= lr * g


class Adam(Optimizer):
    """Adam (Kingma & Ba) with bias correction, as torch.optim.Adam without weight decay.

    ``m`` and ``v`` are the running averages of g and g^2, as in the paper and PyTorch.
    They are kept scaled as running sums, M = m / (1 - b1) and V = v / (1 - b2), which
    update as M = b1 M + g and V = b2 V + g^2: the same update (up to rounding) in two
    passes over the parameters fewer.
    """

    def __init__(
        self,
        params: Iterable[Parameter],
        lr: float = 1e-3,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
    ) -> None:
        super().__init__(params, lr)
        b1, b2 = betas
        if not (0.0 <= b1 < 1.0 and 0.0 <= b2 < 1.0):
            raise ValueError(f"betas must each be in [0, 1), got {betas!r}")
        if not eps > 0:
            raise ValueError(f"eps must be positive, got {eps!r}")
        self.betas = (float(b1), float(b2))
        self.eps = float(eps)
        self.t = 0
        self._m_sums: list[Any] = [_zeros_like(p.grad) for p in self.params]
        self._v_sums: list[Any] = [_zeros_like(p.grad) for p in self.params]

    @property
    def m(self) -> list[Any]:
        """The running averages of the gradients, one per parameter (copies)."""
        return [m_sum * (1.0 - self.betas[0]) for m_sum in self._m_sums]

    @property
    def v(self) -> list[Any]:
        """The running averages of the squared gradients, one per parameter (copies)."""
        return [v_sum * (1.0 - self.betas[1]) for v_sum in self._v_sums]

    def step(self) -> None:
        """One Adam update of every parameter from its current grad.

        With c1 = 1 - b1^t and c2 = 1 - b2^t, Adam's data -= lr/c1 m / (sqrt(v/c2) + eps)
        is, in the running sums M and V, data -= step M / (sqrt(V) + eps') with
        step = lr (1 - b1) sqrt(c2) / (c1 sqrt(1 - b2)) and eps' = eps sqrt(c2 / (1 - b2)).
        """
        self.t += 1
        b1, b2 = self.betas
        c1, c2 = 1.0 - b1**self.t, 1.0 - b2**self.t
        root = math.sqrt(c2 / (1.0 - b2))
        step = self.lr * (1.0 - b1) * root / c1
        eps = self.eps * root
        for i, p in enumerate(self.params):
            g, m_sum, v_sum = p.grad, self._m_sums[i], self._v_sums[i]
            if self._in_place[i]:  # the same formulas in place, one temporary array reused
                np = _np()
                s = self._scratch(i, p.data)
                m_sum *= b1
                m_sum += g
                np.multiply(g, g, s)
                v_sum *= b2
                v_sum += s
                np.sqrt(v_sum, s)
                s += eps
                np.divide(m_sum, s, s)
                s *= step
                data = p.data
                data -= s
            else:
                m_sum = self._m_sums[i] = m_sum * b1 + g
                v_sum = self._v_sums[i] = v_sum * b2 + g * g
                p.data -= m_sum / (v_sum**0.5 + eps) * step


def _is_array(x: Any) -> bool:
    """A NumPy array (updated in place) rather than a number (rebound)."""
    return hasattr(x, "shape")


def _zeros_like(grad: Any) -> Any:
    """0.0 for a number, a new zero array of the same shape and dtype for an array."""
    return _np().zeros_like(grad) if _is_array(grad) else 0.0


def _np() -> Any:
    """NumPy, imported only once an array parameter is stepped (``import microgrid`` stays lean)."""
    return sys.modules.get("numpy") or importlib.import_module("numpy")
