"""Checks of a model file's ``meta`` beyond its architecture: settings, history, training config.

``load_model`` runs these so that whatever reads ``meta`` later (``train --resume``,
``show curves``, ``predict``) can trust its types: a file with a valid checksum but a
history row ``{}`` or a config ``batch_size: "x"`` is refused at load, naming the value.
"""

from __future__ import annotations

import math
import types
import typing
from dataclasses import fields
from typing import Any

from .train import TrainConfig

__all__ = ["HISTORY_KEYS", "check_meta"]

HISTORY_KEYS = ("epoch", "loss", "train_accuracy", "test_accuracy", "seconds")
"""What each row of ``meta["history"]`` holds (one row per epoch, as ``train`` returns them)."""


def _fits(value: Any, hint: Any) -> bool:
    """Whether a JSON value has the type a TrainConfig field declares (int is a float; bool is neither)."""
    origin = typing.get_origin(hint)
    if origin in (typing.Union, types.UnionType):
        return any(_fits(value, arg) for arg in typing.get_args(hint))
    if hint is type(None):
        return value is None
    if origin is list:
        return isinstance(value, list) and all(_fits(v, typing.get_args(hint)[0]) for v in value)
    if isinstance(value, bool):
        return hint is bool
    if hint is float:
        return isinstance(value, (int, float))
    return isinstance(value, hint)


def _type_name(hint: Any) -> str:
    return str(hint).replace("typing.", "").replace("<class '", "").replace("'>", "")


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _check_history(history: Any) -> None:
    if not isinstance(history, list):
        raise ValueError(f"history is {_short(history)}, expected a list of epoch rows")
    last = 0
    for i, row in enumerate(history):
        if not isinstance(row, dict):
            raise ValueError(f"history[{i}] is {_short(row)}, expected an object with {', '.join(HISTORY_KEYS)}")
        missing = [key for key in HISTORY_KEYS if key not in row]
        if missing:
            raise ValueError(f"history[{i}] is {_short(row)}: it lacks {', '.join(missing)}")
        epoch = row["epoch"]
        if isinstance(epoch, bool) or not isinstance(epoch, int) or epoch <= last:
            raise ValueError(f"history[{i}].epoch is {_short(epoch)}, expected a whole number above {last}")
        last = epoch
        for key in HISTORY_KEYS[1:]:
            value = row[key]
            if isinstance(value, bool) or not isinstance(value, (int, float)) or math.isinf(value):
                raise ValueError(f"history[{i}].{key} is {_short(value)}, expected a number")


def _check_config(config: Any) -> None:
    if not isinstance(config, dict):
        raise ValueError(f"config is {_short(config)}, expected an object of training settings")
    hints = typing.get_type_hints(TrainConfig)
    for f in fields(TrainConfig):
        if f.name in config and not _fits(config[f.name], hints[f.name]):
            raise ValueError(f"config.{f.name} is {_short(config[f.name])}, expected {_type_name(hints[f.name])}")


def check_meta(meta: dict[str, Any]) -> None:
    """Raise ValueError naming the first field of ``meta`` with a wrong type or value.

    Checks activation, output_activation, dtype and init (strings), and, when present,
    history (rows of HISTORY_KEYS with increasing whole epochs) and config (TrainConfig's
    field types). The architecture (``sizes``) is checked by ``limits.check_layer_sizes``.
    """
    for key in ("activation", "output_activation", "dtype"):
        if not isinstance(meta.get(key), str):
            raise ValueError(f"{key} is {_short(meta.get(key))}, expected a string")
    if meta["dtype"] not in ("float32", "float64"):
        raise ValueError(f"dtype is {_short(meta['dtype'])}, expected float32 or float64")
    if meta.get("init", "default") not in ("default", "normal"):
        raise ValueError(f"init is {_short(meta.get('init'))}, expected default or normal")
    if "history" in meta:
        _check_history(meta["history"])
    if "config" in meta:
        _check_config(meta["config"])
