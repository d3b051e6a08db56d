"""``python -m microgrid train``: train an MLP on MNIST and save it as a model file."""

from __future__ import annotations

import argparse
import shlex
import sys
from pathlib import Path
from typing import Any

from ..errors import UserError

# the names of microgrid.digits.train.PRESETS (not imported here: the CLI starts without NumPy)
PRESET_NAMES = ["notes", "notes-plain", "notes-best", "best"]


def _sizes(text: str) -> list[int]:
    try:
        sizes = [int(part) for part in text.replace("-", ",").split(",") if part.strip()]
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected layer sizes like 784,16,16,10, got {text!r}") from None
    if len(sizes) < 2 or min(sizes) < 1:
        raise argparse.ArgumentTypeError(f"expected at least two positive layer sizes like 784,16,16,10, got {text!r}")
    return sizes


def add_parser(sub: Any) -> None:
    p = sub.add_parser(
        "train",
        help="train an MLP on MNIST (or another IDX dataset)",
        description="Train an MLP on MNIST. Presets (test accuracy: median over seeds 0-4, "
        "python benchmarks/accuracy.py): "
        "notes: the notes' network and ingredients, 784-16-16-10, sigmoid, MSE, mini-batch SGD, with what the notes "
        "leave open (scaled initial weights, a decaying learning rate, 60 epochs, digits shifted by up to a pixel, "
        "L2 weight decay); "
        "notes-plain: the notes' recipe as written, N(0,1) weights, lr 3, batch 100, 30 epochs; "
        "notes-best: the same layers with relu, cross-entropy, Adam and shifted digits; "
        "best: 784-256-10 relu, cross-entropy, Adam, the fastest to 98%% we found. "
        "Flags given after a preset override it.",
    )
    p.add_argument("--preset", choices=PRESET_NAMES, help="start from a named recipe (see above)")
    p.add_argument("--arch", type=_sizes, dest="sizes", help="layer sizes, e.g. 784,16,16,10")
    p.add_argument("--activation", choices=["sigmoid", "relu", "tanh", "linear"], help="hidden activation")
    p.add_argument("--output-activation", choices=["sigmoid", "relu", "tanh", "linear"])
    p.add_argument("--loss", choices=["mse", "cross_entropy"])
    p.add_argument("--optimizer", choices=["sgd", "adam"])
    p.add_argument("--lr", type=float, help="learning rate")
    p.add_argument("--momentum", type=float, help="SGD momentum in [0, 1)")
    p.add_argument("--lr-decay", type=float, help="multiply the learning rate by this each epoch")
    p.add_argument(
        "--weight-decay",
        type=float,
        metavar="LAMBDA",
        help="L2 weight decay: every step adds LAMBDA * w to each weight's and bias's gradient",
    )
    p.add_argument(
        "--augment", type=int, metavar="PIXELS", help="shift training images randomly by up to this many pixels"
    )
    p.add_argument("--batch-size", type=int)
    p.add_argument("--epochs", type=int)
    p.add_argument("--seed", type=int)
    p.add_argument(
        "--init",
        choices=["default", "normal", "uniform"],
        help="default: scaled to the activation; normal: N(0,1); uniform: micrograd's U(-1,1)",
    )
    p.add_argument("--dtype", choices=["float32", "float64"], help="fast engine precision")
    p.add_argument("--engine", choices=["fast", "scalar"], help="fast (NumPy, default) or scalar (Values)")
    p.add_argument("--limit", type=int, help="train on the first N training images only")
    p.add_argument("--data", type=Path, help="directory of IDX files (default: the bundled MNIST)")
    p.add_argument("-o", "--output", type=Path, default=Path("model.npz"), help="model file to write (model.npz)")
    p.add_argument("--resume", type=Path, help="continue training a model file")
    p.add_argument("--no-progress", action="store_true", help="no progress bar")


def run(args: argparse.Namespace) -> int:
    from dataclasses import asdict, fields

    from ... import __version__
    from ...digits.data import MNIST_SHA256, load_mnist
    from ...digits.model_file import load_model, save_model
    from ...digits.train import PRESETS, Diverged, TrainConfig, train

    base: dict[str, Any] = {}
    start_epoch, history, model = 0, [], None
    if args.resume:
        model, meta = load_model(args.resume)
        base = dict(meta.get("config", {}))
        history = list(meta.get("history", []))
        start_epoch = int(history[-1]["epoch"]) if history else 0
    if args.preset:
        base.update(PRESETS[args.preset])
    for f in fields(TrainConfig):
        value = getattr(args, f.name, None)
        if value is not None:
            base[f.name] = value
    config = TrainConfig(**{k: v for k, v in base.items() if k in {f.name for f in fields(TrainConfig)}}).check()
    if model is not None:
        wanted = (config.sizes, config.activation, config.output_activation or config.activation)
        found = (model.sizes, model.activation, model.output_activation)
        if wanted != found:
            raise UserError(f"--resume model is {found} (layers, activation, output activation), not {wanted}")
    if not args.output.parent.is_dir():
        raise UserError(f"cannot write {args.output}: directory {args.output.parent} does not exist")
    data = load_mnist(args.data)
    print(
        f"training {'-'.join(map(str, config.sizes))} {config.activation}/{config.loss} with {config.optimizer} "
        f"lr={config.lr} batch={config.batch_size} on {config.limit or len(data.train_images)} images "
        f"({config.engine} engine) -> {args.output}"
    )
    meta = {
        "config": asdict(config),
        "command": "python -m microgrid " + shlex.join(args.argv),
        "data": {"source": "bundled MNIST" if args.data is None else str(args.data)},
        "microgrid_version": __version__,
    }
    if args.data is None:
        meta["data"]["sha256"] = MNIST_SHA256
    try:
        trained, new_history = train(
            config, data, model, start_epoch=start_epoch, progress=False if args.no_progress else None
        )
    except Diverged as err:
        if err.last_good is not None:
            save_model(args.output, err.last_good, {**meta, "history": history + err.history})
            print(f"microgrid: {err}; kept the last good model in {args.output}", file=sys.stderr)
        else:
            print(f"microgrid: {err}; no good model to keep", file=sys.stderr)
        return 1
    from ...digits.fast import FastMLP

    fast = trained if isinstance(trained, FastMLP) else FastMLP.from_scalar(trained)
    save_model(args.output, fast, {**meta, "history": history + new_history})
    final = new_history[-1]
    print(f"test accuracy {final['test_accuracy']:.2%}; saved {args.output}")
    return 0
