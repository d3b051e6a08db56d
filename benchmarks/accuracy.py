"""Test accuracy of every training preset over several seeds: median, min, max and seconds.

    python benchmarks/accuracy.py [--presets notes,best] [--seeds 0,1,2,3,4] [--jobs 1] [--set KEY=VALUE ...]

Each preset is trained once per seed exactly as ``python -m microgrid train --preset P
--seed S`` trains it (the fast engine, float32, the bundled MNIST), and the test accuracy
after its last epoch is kept. The table gives, per preset, the median, the lowest and the
highest of those accuracies, and the median seconds of one run (training plus the
accuracy evaluated after every epoch; the machine's load shows in it, and so does
``--jobs N``, which trains N runs at a time in separate processes: the accuracies do
not change, each run's seconds grow when the runs share cores).

``--set KEY=VALUE`` overrides a field of TrainConfig in every preset run (``--set
epochs=60 --set momentum=0.9``): how the presets' recipes were chosen.
"""

from __future__ import annotations

import argparse
import ast
import statistics
import time
from concurrent.futures import ProcessPoolExecutor
from dataclasses import fields
from typing import Any

from _common import table

from microgrid.digits.data import Dataset, load_mnist
from microgrid.digits.train import PRESETS, TrainConfig, train


def run_one(recipe: dict[str, Any], seed: int, data: Dataset | None = None) -> tuple[float, float]:
    """(test accuracy after the last epoch, seconds) of one training run of ``recipe`` with ``seed``."""
    config = TrainConfig(**{**recipe, "seed": seed})
    data = load_mnist() if data is None else data
    t0 = time.perf_counter()
    _, history = train(config, data, progress=False, log=lambda line: None)
    return history[-1]["test_accuracy"], time.perf_counter() - t0


def run_seeds(recipe: dict[str, Any], seeds: list[int], data: Dataset) -> list[tuple[float, float]]:
    """(test accuracy after the last epoch, seconds) of one training run per seed."""
    return [run_one(recipe, seed, data) for seed in seeds]


def _override(text: str) -> tuple[str, Any]:
    """KEY=VALUE with VALUE a Python literal (a number, a list) or else a string."""
    key, sep, value = text.partition("=")
    names = {f.name for f in fields(TrainConfig)}
    if not sep or key not in names:
        raise argparse.ArgumentTypeError(f"expected KEY=VALUE with KEY one of {', '.join(sorted(names))}, got {text!r}")
    try:
        return key, ast.literal_eval(value)
    except (ValueError, SyntaxError):
        return key, value


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--presets", default=",".join(PRESETS), help="comma-separated preset names (all)")
    parser.add_argument("--seeds", default="0,1,2,3,4", help="comma-separated seeds (0,1,2,3,4)")
    parser.add_argument("--jobs", type=int, default=1, help="training runs at a time, in processes (1)")
    parser.add_argument("--set", type=_override, action="append", default=[], metavar="KEY=VALUE")
    args = parser.parse_args()
    seeds = [int(s) for s in args.seeds.split(",")]
    names = args.presets.split(",")
    unknown = [name for name in names if name not in PRESETS]
    if unknown:
        parser.error(f"unknown preset(s) {', '.join(unknown)}: expected some of {', '.join(PRESETS)}")
    recipes = {name: {**PRESETS[name], **dict(args.set)} for name in names}
    tasks = [(recipes[name], seed) for name in names for seed in seeds]
    if args.jobs > 1:
        with ProcessPoolExecutor(args.jobs) as pool:
            done = list(pool.map(run_one, *zip(*tasks)))
    else:
        data = load_mnist()
        done = [run_one(recipe, seed, data) for recipe, seed in tasks]
    rows = []
    for i, name in enumerate(names):
        results = done[i * len(seeds) : (i + 1) * len(seeds)]
        accs = [acc for acc, _ in results]
        print(f"{name}: " + ", ".join(f"seed {s} {a:.2%}" for s, a in zip(seeds, accs)), flush=True)
        rows.append(
            [
                name,
                f"{statistics.median(accs):.2%}",
                f"{min(accs):.2%}",
                f"{max(accs):.2%}",
                f"{statistics.median(s for _, s in results):.1f}",
            ]
        )
    extra = " ".join(f"--set {k}={v!r}" for k, v in args.set)
    print(f"seeds {args.seeds}{' ' + extra if extra else ''}: test accuracy after the last epoch")
    print(table(["preset", "median", "min", "max", "median seconds"], rows))


if __name__ == "__main__":
    main()
