"""Optimizers that update anything with ``.data`` and ``.grad``.

They are duck-typed: a scalar ``Value`` (float data) and a vectorised parameter (NumPy
array data, updated in place) are stepped by the same code, with the same formulas as
PyTorch's ``torch.optim.SGD`` and ``torch.optim.Adam``.
"""

from __future__ import annotations

import math
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

    def zero_grad(self) -> None:
        """Set every parameter's grad to zero (0.0, or zeros of the array's shape)."""
        for p in self.params:
            p.grad = p.grad * 0.0

    def step(self) -> None:  # pragma: no cover - abstract
        raise NotImplementedError


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
                g = (g + 0.0) if v is None else (v * mu + g)  # g + 0.0: a copy, never the grad itself
                self.velocity[i] = g
            p.data -= lr * g


class Adam(Optimizer):
    """Adam (Kingma & Ba) with bias correction, as torch.optim.Adam without weight decay."""

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
        self.m: list[Any] = [p.grad * 0.0 for p in self.params]
        self.v: list[Any] = [p.grad * 0.0 for p in self.params]

    def step(self) -> None:
        """One Adam update of every parameter from its current grad."""
        self.t += 1
        b1, b2 = self.betas
        c1 = 1.0 - b1**self.t
        c2 = 1.0 - b2**self.t
        step = self.lr / c1
        sqrt_c2 = math.sqrt(c2)
        for i, p in enumerate(self.params):
            g = p.grad
            m = self.m[i] * b1 + (1.0 - b1) * g
            v = self.v[i] * b2 + (1.0 - b2) * (g * g)
            self.m[i], self.v[i] = m, v
            p.data -= step * m / (v**0.5 / sqrt_c2 + self.eps)
