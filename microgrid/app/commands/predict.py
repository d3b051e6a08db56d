"""``python -m microgrid predict``: read the digit in one or more pictures."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any


def add_parser(sub: Any) -> None:
    p = sub.add_parser(
        "predict",
        help="read the digit in one or more pictures",
        description="Read handwritten digits: PNG, JPEG, BMP, GIF, PGM or .npy, any size, colour or greyscale, "
        "dark ink on light paper or light on dark. Each picture is prepared the way MNIST was made, then the "
        "model's most active output neuron is the digit.",
    )
    p.add_argument("images", nargs="+", type=Path, metavar="IMAGE")
    p.add_argument("--model", type=Path, help="a model file written by train (default: the bundled model)")
    p.add_argument("--json", action="store_true", help="print one JSON object per image")


def run(args: argparse.Namespace) -> int:
    import json

    from ...digits.model_file import load_model
    from ...digits.predict import ImageError, default_model, read_digit

    model, meta = load_model(args.model) if args.model else default_model()
    failures = 0
    for path in args.images:
        try:
            result = read_digit(path, model, meta)
        except ImageError as err:
            print(f"microgrid predict: error: {err}", file=sys.stderr)
            failures += 1
            continue
        if args.json:
            print(json.dumps(result.as_dict(), allow_nan=False))  # strict JSON: NaN and inf are null
        else:
            shown = result.probabilities or result.activations
            kind = "probabilities" if result.probabilities else "activations"
            values = "  ".join(f"{j}:{v:.3f}" for j, v in enumerate(shown))
            print(f"{path}: {result.digit}    {kind} {values}")
    return 1 if failures else 0
