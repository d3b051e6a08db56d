"""The training panel's settings: a JSON object checked into a ``TrainConfig``, or one error line.

The page sends what the learner chose (or a ``preset`` of ``python -m microgrid train``
plus any overrides); every value is checked against a stated range and the first bad one
is named in a ``ConfigError`` that the server answers with a 4xx. The limits keep a job
small enough to run in seconds to minutes on a laptop:

    hidden layers    0 to 4, each of 1 to 1024 neurons (input and output sizes are the data's)
    lr               above 0, at most 100          momentum   0 to below 1
    batch_size       1 to 10000                    epochs     1 to 100
    lr_decay         above 0, at most 1            augment    0 to 4 pixels
    weight_decay     0 to 1 (L2, as train --weight-decay)
    limit            1 to the number of training images (or absent: all of them)
"""

from __future__ import annotations

import math
from dataclasses import fields
from typing import Any

from ...digits.train import CHOICES, PRESETS, TrainConfig
from .errors import ApiError

__all__ = [
    "ConfigError", "LIMITS", "CHOICES", "parse_config", "parse_controls", "MAX_HIDDEN_LAYERS", "MAX_LAYER_SIZE",
]  # fmt: skip

MAX_HIDDEN_LAYERS = 4
MAX_LAYER_SIZE = 1024

# name: (low, high, low is allowed) for the numeric settings
LIMITS: dict[str, tuple[float, float, bool]] = {
    "lr": (0.0, 100.0, False),
    "momentum": (0.0, 1.0, True),
    "lr_decay": (0.0, 1.0, False),
    "batch_size": (1, 10_000, True),
    "epochs": (1, 100, True),
    "augment": (0, 4, True),
    "weight_decay": (0.0, 1.0, True),
    "seed": (0, 2**31 - 1, True),
    "pace": (0.1, 1000.0, True),  # steps per second while training (a control, not a TrainConfig field)
}
INTEGERS = ("batch_size", "epochs", "augment", "seed", "limit")
# settings of the panel itself, not of TrainConfig
PANEL = ("preset", "views")


class ConfigError(ApiError, ValueError):
    """A setting is unknown or out of range; the message is one line naming it (answered 422)."""

    def __init__(self, message: str) -> None:
        super().__init__(422, message)


def _number(name: str, value: Any) -> float:
    integer = name in INTEGERS
    if isinstance(value, bool) or not isinstance(value, (int, float)) or (integer and not float(value).is_integer()):
        raise ConfigError(f"{name} must be {'a whole number' if integer else 'a number'}, got {value!r}")
    if not math.isfinite(value):
        raise ConfigError(f"{name} must be a finite number, got {value!r}")
    return int(value) if integer else float(value)


def _check_number(name: str, value: Any) -> float:
    number = _number(name, value)
    low, high, closed = LIMITS[name]
    top = "below 1" if name == "momentum" else f"at most {high:g}"
    if number < low or (number == low and not closed) or number > high or (name == "momentum" and number >= 1):
        bottom = f"{'at least' if closed else 'above'} {low:g}"
        raise ConfigError(f"{name} must be {bottom} and {top}, got {value!r}")
    return number


def _check_sizes(value: Any, nin: int, classes: int) -> list[int]:
    if not isinstance(value, list) or not value:
        raise ConfigError(f"sizes must be a list of layer sizes like [{nin}, 16, 16, {classes}], got {value!r}")
    sizes = [int(_number("sizes", v)) for v in value]
    if sizes[0] != nin or sizes[-1] != classes:
        raise ConfigError(
            f"sizes must start with {nin} (the pixels) and end with {classes} (the classes), got {value!r}"
        )
    hidden = sizes[1:-1]
    if len(hidden) > MAX_HIDDEN_LAYERS:
        raise ConfigError(f"sizes may have at most {MAX_HIDDEN_LAYERS} hidden layers, got {len(hidden)}")
    for size in hidden:
        if not 1 <= size <= MAX_LAYER_SIZE:
            raise ConfigError(f"each hidden layer must have 1 to {MAX_LAYER_SIZE} neurons, got {size}")
    return sizes


def parse_config(body: Any, *, nin: int = 784, classes: int = 10, train_size: int = 60_000) -> tuple[TrainConfig, bool]:
    """The TrainConfig a start request asks for, and whether to compute the live views.

    Args:
        body: the decoded JSON object: optional ``preset`` (a name of
            ``microgrid.digits.train.PRESETS``), any ``TrainConfig`` field, ``views`` (bool).
        nin, classes: the data's input size (784) and number of classes (10).
        train_size: training images available (the upper limit of ``limit``).

    Raises:
        ConfigError: one line naming the first unknown or out-of-range setting.
    """
    if not isinstance(body, dict):
        raise ConfigError(f"the settings must be a JSON object, got {type(body).__name__}")
    known = {f.name for f in fields(TrainConfig)} - {"engine"}
    for key in body:
        if key not in known and key not in PANEL:
            raise ConfigError(f"unknown setting {key!r}: expected one of {', '.join(sorted(known | set(PANEL)))}")
    values: dict[str, Any] = {}
    preset = body.get("preset")
    if preset is not None:
        if not isinstance(preset, str) or preset not in PRESETS:
            raise ConfigError(f"preset must be one of {', '.join(PRESETS)}, got {preset!r}")
        values.update(PRESETS[preset])
    values.update({k: v for k, v in body.items() if k not in PANEL})
    for name, value in list(values.items()):
        if name in LIMITS:
            values[name] = _check_number(name, value)
        elif name == "sizes":
            values[name] = _check_sizes(value, nin, classes)
        elif name == "limit" and value is not None:
            values[name] = int(_number("limit", value))
            if not 1 <= values[name] <= train_size:
                raise ConfigError(f"limit must be 1 to {train_size} training images, got {value!r}")
    values.setdefault("sizes", [nin, 16, 16, classes])
    if values["sizes"][0] != nin or values["sizes"][-1] != classes:
        values["sizes"] = _check_sizes(values["sizes"], nin, classes)
    views = body.get("views", True)
    if not isinstance(views, bool):
        raise ConfigError(f"views must be true or false, got {views!r}")
    try:
        return TrainConfig(**values, engine="fast").check(), views
    except ValueError as err:  # TrainConfig's own checks, one line each
        raise ConfigError(str(err)) from None


def parse_controls(body: Any) -> dict[str, float | None]:
    """The live changes a control request asks for: ``lr``, ``batch_size`` and/or ``pace``, checked.

    ``pace`` is steps per second (LIMITS["pace"]: 0.1, one mini-batch every 10 s, to 1000), or
    null for full speed.
    """
    if not isinstance(body, dict):
        raise ConfigError(f"the changes must be a JSON object, got {type(body).__name__}")
    unknown = set(body) - {"lr", "batch_size", "pace"}
    if unknown:
        raise ConfigError(f"only lr, batch_size and pace can change while training, got {sorted(unknown)[0]!r}")
    if not body:
        raise ConfigError("nothing to change: send lr, batch_size and/or pace")
    return {k: None if k == "pace" and v is None else _check_number(k, v) for k, v in body.items()}
