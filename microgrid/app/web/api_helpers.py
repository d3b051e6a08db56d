"""Reading a request: JSON bodies and their fields, each refused with one clear line.

Every helper raises :class:`ApiError` (400, or 422 for a value of the right type that is
out of range) naming the field and what was expected.
"""

from __future__ import annotations

import base64
import binascii
import json
import math
from typing import Any

import numpy as np
from starlette.requests import Request

from .errors import ApiError

__all__ = ["read_json", "query_integer", "number", "integer", "text", "pixels", "image784"]

MAX_DEPTH = 64  # lists and objects inside each other: the API's deepest is 2; Python's parser stops near 1000


def _no_constants(name: str) -> float:
    raise ApiError(400, f"the JSON holds {name}: every number must be finite")


async def read_json(request: Request, *, empty: dict[str, Any] | None = None) -> dict[str, Any]:
    """The request's body as a JSON object (400 for anything else, naming the problem).

    ``empty``: what an empty body means (by default it is refused). Numbers of more than
    4300 digits and lists nested deeper than ``MAX_DEPTH`` are refused with the rest.
    """
    body = await request.body()
    if not body.strip():
        if empty is not None:
            return dict(empty)
        raise ApiError(400, "the request has no body: expected a JSON object")
    if _depth(body) > MAX_DEPTH:
        raise ApiError(400, f"the JSON nests lists or objects more than {MAX_DEPTH} deep")
    try:
        data = json.loads(body, parse_constant=_no_constants)
    except UnicodeDecodeError:
        raise ApiError(400, "the body is not UTF-8 text") from None
    except json.JSONDecodeError as err:
        raise ApiError(400, f"malformed JSON: {err.msg} at line {err.lineno} column {err.colno}") from None
    except (ValueError, RecursionError) as err:  # a number of too many digits; nesting past the stack
        raise ApiError(400, f"the JSON cannot be read: {' '.join(str(err).split())[:120]}") from None
    if not isinstance(data, dict):
        raise ApiError(400, f"expected a JSON object, got a JSON {type(data).__name__}")
    return data


_NOT_BRACKETS = bytes(c for c in range(256) if c not in b"[]{}")


def _depth(body: bytes) -> int:
    """An upper bound of the JSON's nesting depth, from its brackets (brackets inside strings count too)."""
    depth = deepest = 0
    for char in body.translate(None, _NOT_BRACKETS):
        depth += 1 if char in b"[{" else -1
        deepest = max(deepest, depth)
    return deepest


def query_integer(request: Request, key: str, default: int, lo: int = 0, hi: int = 10**9) -> int:
    """The query parameter ``key`` as an integer in [lo, hi]: ASCII digits only (400 otherwise, 422 out of range)."""
    raw = request.query_params.get(key)
    if raw is None:
        return default
    if not (raw.isascii() and raw.isdigit() and len(raw) <= 12):
        raise ApiError(400, f"{key!r} must be a whole number, got {raw[:20]!r}")
    return integer({key: int(raw)}, key, lo=lo, hi=hi)


def number(data: dict[str, Any], key: str, default: float | None = None, lo: float = -1e6, hi: float = 1e6) -> float:
    """A finite number in [lo, hi] from ``data[key]`` (``default`` when absent, if given)."""
    value = data.get(key, default)
    if value is None:
        raise ApiError(400, f"{key!r} is missing: expected a number")
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ApiError(400, f"{key!r} must be a number, got {json.dumps(value)[:40]}")
    if not math.isfinite(value):
        raise ApiError(400, f"{key!r} must be a finite number, got {value}")
    if not lo <= value <= hi:
        raise ApiError(422, f"{key!r} must be in [{lo:g}, {hi:g}], got {value:g}")
    return float(value)


def integer(data: dict[str, Any], key: str, default: int | None = None, lo: int = 0, hi: int = 10**9) -> int:
    """An integer in [lo, hi] from ``data[key]`` (``default`` when absent, if given)."""
    value = data.get(key, default)
    if value is None:
        raise ApiError(400, f"{key!r} is missing: expected an integer")
    if isinstance(value, bool) or not isinstance(value, int):
        raise ApiError(400, f"{key!r} must be an integer, got {json.dumps(value)[:40]}")
    if not lo <= value <= hi:
        raise ApiError(422, f"{key!r} must be in [{lo}, {hi}], got {value}")
    return value


def text(data: dict[str, Any], key: str, default: str | None = None) -> str | None:
    """A string from ``data[key]``, or ``default`` when absent."""
    value = data.get(key, default)
    if value is not None and not isinstance(value, str):
        raise ApiError(400, f"{key!r} must be a string, got {json.dumps(value)[:40]}")
    return value


def _array(values: Any, key: str, count: int) -> np.ndarray:
    if not isinstance(values, list):
        raise ApiError(400, f"{key!r} must be a list of {count} numbers")
    if len(values) != count:
        raise ApiError(400, f"{key!r} must hold {count} numbers, got {len(values)}")
    try:
        array = np.array(values)  # one pass in C: numbers give an int or float array, anything else does not
    except ValueError:  # lists of different lengths inside
        array = np.array([None])
    if array.ndim != 1 or array.dtype.kind not in "iuf" or bool in set(map(type, values)):
        bad = next((v for v in values if isinstance(v, bool) or not isinstance(v, (int, float))), values[0])
        raise ApiError(400, f"{key!r} must hold numbers only, found {json.dumps(bad)[:40]}")
    array = array.astype(np.float64, copy=False)
    if not np.all(np.isfinite(array)):
        raise ApiError(400, f"{key!r} holds a non-finite number")
    return array


def pixels(data: dict[str, Any]) -> np.ndarray:
    """A drawing -> a float array (height, width) in [0, 255].

    ``width`` and ``height`` (8 to 512) and either ``pixels``, width*height numbers in
    [0, 255] row by row, or ``pixels_base64``, the same as width*height bytes in base64
    (what the page sends: a quarter of the text, and no number to parse).
    """
    width = integer(data, "width", lo=8, hi=512)
    height = integer(data, "height", lo=8, hi=512)
    count = width * height
    if ("pixels" in data) == ("pixels_base64" in data):
        raise ApiError(400, "send the drawing as either 'pixels' (a list of numbers) or 'pixels_base64' (bytes)")
    if "pixels_base64" in data:
        encoded = text(data, "pixels_base64") or ""
        try:
            raw = base64.b64decode(encoded, validate=True)
        except (binascii.Error, ValueError):
            raise ApiError(400, "'pixels_base64' is not base64 text") from None
        if len(raw) != count:
            raise ApiError(400, f"'pixels_base64' must hold {count} bytes ({width}x{height}), got {len(raw)}")
        return np.frombuffer(raw, dtype=np.uint8).astype(np.float64).reshape(height, width)
    array = _array(data.get("pixels"), "pixels", count)
    if array.min() < 0.0 or array.max() > 255.0:
        raise ApiError(422, f"'pixels' must be in [0, 255], got [{array.min():g}, {array.max():g}]")
    return array.reshape(height, width)


def image784(data: dict[str, Any], key: str = "image") -> np.ndarray:
    """A prepared digit: 784 numbers in [0, 1] (28x28 row by row, what the network reads) -> (784,)."""
    array = _array(data.get(key), key, 784)
    if array.min() < 0.0 or array.max() > 1.0:
        raise ApiError(422, f"{key!r} must be in [0, 1], got [{array.min():g}, {array.max():g}]")
    return array
