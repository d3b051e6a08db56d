"""The settings of a training run, ``TrainConfig``, and their one check (``TrainConfig.check``).

``python -m microgrid train``, the web page's training panel and the training loop
(:mod:`.loop`) all read a TrainConfig; it is saved in every model file.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from ..init import ACTIVATIONS, INITS
from .fast import LOSSES
from .limits import check_layer_sizes

__all__ = ["TrainConfig", "CHOICES"]


CHOICES: dict[str, tuple[str, ...]] = {
    "activation": ACTIVATIONS,
    "output_activation": ACTIVATIONS,  # or None: the same as activation
    "loss": LOSSES,
    "optimizer": ("sgd", "adam"),
    "init": INITS,
    "dtype": ("float32", "float64"),
    "engine": ("fast", "scalar"),
}
"""The settings of a TrainConfig that are names, and the names each may be."""


@dataclass
class TrainConfig:
    """Everything that defines a training run (saved in the model file)."""

    sizes: list[int] = field(default_factory=lambda: [784, 16, 16, 10])
    activation: str = "sigmoid"
    output_activation: str | None = None
    loss: str = "mse"
    optimizer: str = "sgd"
    lr: float = 3.0
    momentum: float = 0.0
    lr_decay: float = 1.0
    weight_decay: float = 0.0
    augment: int = 0
    batch_size: int = 100
    epochs: int = 10
    seed: int = 0
    init: str = "normal"
    dtype: str = "float32"
    engine: str = "fast"
    limit: int | None = None

    def check(self) -> TrainConfig:
        """Raise ValueError naming any field with an impossible value; return self.

        The one check of a network's and a run's settings: the names in ``CHOICES`` (the
        activations and inits are the engine's own tables, :mod:`microgrid.init`), and
        ``sizes`` past ``limits.MAX_PARAMETERS`` weights or ``MAX_LAYERS`` layers, refused
        here before any weight is allocated.
        """
        check_layer_sizes(self.sizes, "sizes")
        for name, allowed in CHOICES.items():
            value = getattr(self, name)
            if not (name == "output_activation" and value is None) and value not in allowed:
                raise ValueError(f"{name} must be one of {', '.join(allowed)}, got {value!r}")
        for name in ("batch_size", "epochs"):
            if getattr(self, name) < 1:
                raise ValueError(f"{name} must be at least 1, got {getattr(self, name)}")
        if not 0 <= self.augment <= 4:
            raise ValueError(f"augment must be a shift of 0 to 4 pixels, got {self.augment}")
        if not 0.0 < self.lr_decay <= 1.0:
            raise ValueError(f"lr_decay must be in (0, 1], got {self.lr_decay}")
        if not (math.isfinite(self.weight_decay) and 0.0 <= self.weight_decay < 1.0):
            raise ValueError(f"weight_decay must be in [0, 1), got {self.weight_decay}")
        if self.limit is not None and self.limit < 1:
            raise ValueError(f"limit must be at least 1, got {self.limit}")
        return self


