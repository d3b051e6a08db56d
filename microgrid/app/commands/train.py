"""``python -m microgrid train``: train an MLP on MNIST and save it as a model file."""

from __future__ import annotations

import argparse
import os
import re
import shlex
import signal
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from ...init import ACTIVATIONS, INITS
from ..errors import UserError

# the names of microgrid.digits.train.PRESETS (not imported here: the CLI starts without NumPy)
PRESET_NAMES = ["notes", "notes-plain", "notes-best", "best"]


def _sizes(text: str) -> list[int]:
    """Layer sizes separated by commas or dashes: "784,16,16,10" or "784-16-16-10".

    Every part must be a whole number of at least 1: "784,-16,10" is refused (splitting on
    the dash would silently read it as 784-16-10).
    """
    parts = [part.strip() for part in re.split("[,-]", text)]
    if len(parts) < 2 or not all(part.isdigit() for part in parts) or min(int(part) for part in parts) < 1:
        raise argparse.ArgumentTypeError(
            f"expected layer sizes: two or more positive whole numbers separated by commas, like 784,16,16,10, "
            f"got {text[:100]!r}"
        )
    return [int(part) for part in parts]


def _natural(text: str) -> int:
    """A whole number >= 0 (a seed)."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number >= 0, got {text[:100]!r}") from None
    if value < 0:
        raise argparse.ArgumentTypeError(f"expected a whole number >= 0, got {value}")
    return value


@contextmanager
def _no_interrupt() -> Iterator[None]:
    """Ignore Ctrl-C while a model file is written (a moment): a second Ctrl-C cannot lose it."""
    try:
        previous = signal.signal(signal.SIGINT, signal.SIG_IGN)
    except ValueError:  # not the main thread: signals cannot be changed here
        yield
        return
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)


def _save_interrupted(
    output: Path, resume: Path | None, last: tuple[Any, list[dict[str, float]]] | None, meta: dict[str, Any],
    history: list[dict[str, float]],
) -> int:  # fmt: skip
    """After Ctrl-C: save the last completed epoch's model, say where in one line; exit code 130.

    It goes to ``output``, unless that is an older file (not the one being resumed): that file
    is kept, and the model goes beside it as NAME.interrupted.npz.
    """
    from ...digits.model_file import save_model

    if last is None:
        print("microgrid: interrupted before an epoch completed; nothing saved", file=sys.stderr)
        return 130
    model, rows = last
    target, kept = output, ""
    if output.exists() and not (resume is not None and resume.exists() and os.path.samefile(output, resume)):
        target = output.with_name(f"{output.stem}.interrupted{output.suffix or '.npz'}")
        kept = f" ({output} is kept as it was)"
    with _no_interrupt():
        save_model(target, model, {**meta, "history": history + rows})
    epoch = rows[-1]["epoch"]
    print(
        f"microgrid: interrupted in epoch {epoch + 1}; saved the model of epoch {epoch} to {target}{kept}",
        file=sys.stderr,
    )
    return 130


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
        "best: 784-256-10 relu, cross-entropy, Adam, the fastest to 98% we found. "
        "Flags given after a preset override it.",
    )
    p.add_argument("--preset", choices=PRESET_NAMES, help="start from a named recipe (see above)")
    p.add_argument(
        "--arch",
        type=_sizes,
        dest="sizes",
        help="layer sizes, e.g. 784,16,16,10 (at most 50,000,000 weights and biases and 100 layers)",
    )
    p.add_argument("--activation", choices=ACTIVATIONS, help="hidden activation")
    p.add_argument("--output-activation", choices=ACTIVATIONS)
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
    p.add_argument("--seed", type=_natural, help="seed of the weights, shuffles and shifts (>= 0)")
    p.add_argument(
        "--init",
        choices=INITS,
        help="default: scaled to the activation; normal: N(0,1); uniform: micrograd's U(-1,1)",
    )
    p.add_argument("--dtype", choices=["float32", "float64"], help="fast engine precision")
    p.add_argument("--engine", choices=["fast", "scalar"], help="fast (NumPy, default) or scalar (Values)")
    p.add_argument("--limit", type=int, help="train on the first N training images only")
    p.add_argument("--data", type=Path, help="directory of IDX files (default: the bundled MNIST)")
    p.add_argument(
        "-o",
        "--output",
        default="model.npz",
        help="model file to write (model.npz); checked before training. Ctrl-C saves the last completed epoch to it "
        "(or, if it is an older file, beside it as NAME.interrupted.npz)",
    )
    p.add_argument("--resume", type=Path, help="continue training a model file")
    p.add_argument("--no-progress", action="store_true", help="no progress bar")


def run(args: argparse.Namespace) -> int:
    from dataclasses import asdict, fields

    from ... import __version__
    from ...digits.data import MNIST_SHA256, load_mnist
    from ...digits.fast import FastMLP
    from ...digits.model_file import load_model, save_model
    from ...digits.train import PRESETS, Diverged, TrainConfig, check_data, train
    from ...support.atomic import check_writable

    try:
        output = check_writable(args.output)  # before any work: a bad -o fails now, not after training
    except ValueError as err:
        raise UserError(f"-o {err}") from None
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
    data = load_mnist(args.data)
    source = "the bundled MNIST" if args.data is None else str(args.data)
    if config.limit is not None and config.limit > len(data.train_images):
        available = len(data.train_images)
        raise UserError(f"--limit {config.limit} is more than the {available:,} training images of {source}")
    check_data(config, data, source)
    meta = {
        "config": asdict(config),
        "command": "python -m microgrid " + shlex.join(args.argv),
        "data": {"source": "bundled MNIST" if args.data is None else str(args.data)},
        "microgrid_version": __version__,
    }
    if args.data is None:
        meta["data"]["sha256"] = MNIST_SHA256
    completed: dict[str, tuple[FastMLP, list[dict[str, float]]]] = {}  # the last epoch done, set in one step
    interrupted = False
    try:  # from the first line on, Ctrl-C ends in one line, never a traceback
        print(
            f"training {'-'.join(map(str, config.sizes))} {config.activation}/{config.loss} with {config.optimizer} "
            f"lr={config.lr} batch={config.batch_size} on {config.limit or len(data.train_images)} images "
            f"({config.engine} engine) -> {output}"
        )
        trained, new_history = train(
            config,
            data,
            model,
            start_epoch=start_epoch,
            progress=False if args.no_progress else None,
            on_epoch=lambda done, rows: completed.__setitem__("last", (done, rows)),
        )
    except KeyboardInterrupt:
        interrupted = True  # saved below, once the traceback (and a progress bar it holds) is gone
    except Diverged as err:
        if err.last_good is not None:
            with _no_interrupt():
                save_model(output, err.last_good, {**meta, "history": history + err.history})
            print(f"microgrid: {err}; kept the last good model in {output}", file=sys.stderr)
        else:
            print(f"microgrid: {err}; no good model to keep", file=sys.stderr)
        return 1
    if interrupted:
        return _save_interrupted(output, args.resume, completed.get("last"), meta, history)
    fast = trained if isinstance(trained, FastMLP) else FastMLP.from_scalar(trained)
    with _no_interrupt():
        save_model(output, fast, {**meta, "history": history + new_history})
    final = new_history[-1]
    print(f"test accuracy {final['test_accuracy']:.2%}; saved {output}")
    return 0
