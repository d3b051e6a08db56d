"""The command line: ``python -m microgrid {train,check,predict,draw,show}``.

Every user error (a bad flag value, a missing or damaged file) ends in one line on stderr
and a non-zero exit code, never a traceback.
"""

from __future__ import annotations

import argparse
import shlex
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

__all__ = ["main"]


class UserError(Exception):
    """An error to report as one line, exit code 2."""


def _sizes(text: str) -> list[int]:
    try:
        sizes = [int(part) for part in text.replace("-", ",").split(",") if part.strip()]
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected layer sizes like 784,16,16,10, got {text!r}") from None
    if len(sizes) < 2 or min(sizes) < 1:
        raise argparse.ArgumentTypeError(f"expected at least two positive layer sizes like 784,16,16,10, got {text!r}")
    return sizes


def _add_train(sub: Any) -> None:
    p = sub.add_parser(
        "train",
        help="train an MLP on MNIST (or another IDX dataset)",
        description="Train an MLP on MNIST. --preset notes is the notes' recipe (784-16-16-10, sigmoid, MSE, "
        "mini-batch SGD); --preset notes-best the same layers with relu, cross-entropy and Adam; "
        "--preset best is the fastest configuration we found that reaches 98%%. "
        "Flags given after a preset override it.",
    )
    p.add_argument("--preset", choices=["notes", "notes-best", "best"], help="start from a named recipe")
    p.add_argument("--arch", type=_sizes, dest="sizes", help="layer sizes, e.g. 784,16,16,10")
    p.add_argument("--activation", choices=["sigmoid", "relu", "tanh", "linear"], help="hidden activation")
    p.add_argument("--output-activation", choices=["sigmoid", "relu", "tanh", "linear"])
    p.add_argument("--loss", choices=["mse", "cross_entropy"])
    p.add_argument("--optimizer", choices=["sgd", "adam"])
    p.add_argument("--lr", type=float, help="learning rate")
    p.add_argument("--momentum", type=float, help="SGD momentum in [0, 1)")
    p.add_argument("--lr-decay", type=float, help="multiply the learning rate by this each epoch")
    p.add_argument(
        "--augment", type=int, metavar="PIXELS", help="shift training images randomly by up to this many pixels"
    )
    p.add_argument("--batch-size", type=int)
    p.add_argument("--epochs", type=int)
    p.add_argument("--seed", type=int)
    p.add_argument("--init", choices=["default", "normal"], help="default: scaled to the activation; normal: N(0,1)")
    p.add_argument("--dtype", choices=["float32", "float64"], help="fast engine precision")
    p.add_argument("--engine", choices=["fast", "scalar"], help="fast (NumPy, default) or scalar (Values)")
    p.add_argument("--limit", type=int, help="train on the first N training images only")
    p.add_argument("--data", type=Path, help="directory of IDX files (default: the bundled MNIST)")
    p.add_argument("-o", "--output", type=Path, default=Path("model.npz"), help="model file to write (model.npz)")
    p.add_argument("--resume", type=Path, help="continue training a model file")
    p.add_argument("--no-progress", action="store_true", help="no progress bar")


def _cmd_train(args: argparse.Namespace) -> int:
    from dataclasses import asdict, fields

    from . import __version__
    from .data import MNIST_SHA256, load_mnist
    from .model_file import load_model, save_model
    from .train import PRESETS, Diverged, TrainConfig, train

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
    from .fast import FastMLP

    fast = trained if isinstance(trained, FastMLP) else FastMLP.from_scalar(trained)
    save_model(args.output, fast, {**meta, "history": history + new_history})
    final = new_history[-1]
    print(f"test accuracy {final['test_accuracy']:.2%}; saved {args.output}")
    return 0


def _add_check(sub: Any) -> None:
    p = sub.add_parser(
        "check",
        help="check the fast path against the scalar engine",
        description="On a mini-batch of real MNIST images, the fast path's loss and every gradient must equal the "
        "scalar engine's to 1e-10 relative (float64), for random small architectures and for 784-16-16-10; after "
        "20 SGD steps from the same weights both engines' weights must agree to 1e-9. Exits 1 if a bound fails.",
    )
    p.add_argument("--cases", type=int, default=6, help="random architectures to try (default 6)")
    p.add_argument("--batch", type=int, default=10, help="images per mini-batch (default 10)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--data", type=Path, help="directory of IDX files (default: the bundled MNIST)")


def _cmd_check(args: argparse.Namespace) -> int:
    import random

    from .crosscheck import compare_gradients, compare_training, random_architecture
    from .data import load_mnist, to_inputs
    from .nn import MLP

    if args.batch < 1 or args.cases < 0:
        raise UserError("--batch must be at least 1 and --cases at least 0")
    data = load_mnist(args.data)
    rng = random.Random(args.seed)
    pick = rng.sample(range(len(data.train_images)), 20 * args.batch)
    x, y = to_inputs(data.train_images[pick]), data.train_labels[pick]
    cases = [(MLP(784, [16, 16, 10], "sigmoid", init="normal", seed=args.seed), "mse")]
    cases += [(MLP(784, [16, 16, 10], "relu", "linear", seed=args.seed + 1), "cross_entropy")]
    cases += [random_architecture(rng) for _ in range(args.cases)]
    grad_bound, weight_bound = 1e-10, 1e-9
    print(f"{'case':58s} {'loss':>9s} {'grads':>9s} {'weights':>9s}  (largest differences relative to each W, b)")
    failed = 0
    for mlp, loss in cases:
        name = f"{'-'.join(map(str, mlp.sizes))} {mlp.activation}/{mlp.output_activation} {loss}"
        g = compare_gradients(mlp, x[: args.batch], y[: args.batch], loss)
        t = compare_training(mlp, x, y, loss, steps=20, batch=args.batch)
        ok = g.loss <= grad_bound and g.gradient <= grad_bound and t.weights <= weight_bound and t.loss <= grad_bound
        failed += not ok
        print(f"{name:58s} {g.loss:9.1e} {g.gradient:9.1e} {t.weights:9.1e}  {'ok' if ok else 'FAIL'}")
    print(
        f"{len(cases) - failed} of {len(cases)} cases within bounds (loss and gradients {grad_bound:g}, "
        f"weights after 20 SGD steps {weight_bound:g})"
    )
    return 1 if failed else 0


def _add_draw(sub: Any) -> None:
    p = sub.add_parser(
        "draw",
        help="draw a computation graph: the notes' chain rule, a layer, or any small expression",
        description="Draw a computation graph with every local derivative on its edge. "
        "'chain' is the notes' one-neuron-per-layer chain a(L-1) -> z(L) -> a(L) -> C0; 'layer' the case with "
        "indices j and k; 'expr' any expression over named variables, e.g. "
        'draw expr "tanh(w*x + b)" --set w=0.5 x=2 b=-1 -o expr.svg',
    )
    p.add_argument("what", choices=["chain", "layer", "expr"])
    p.add_argument("expression", nargs="?", help='for expr: e.g. "tanh(w*x + b)"')
    p.add_argument("--set", nargs="*", default=[], metavar="NAME=VALUE", help="values of the expression's variables")
    p.add_argument("--highlight", metavar="NAME", help="variable whose chain-rule paths to colour")
    p.add_argument("-o", "--output", type=Path, help="file to write (svg, png, pdf or dot; default WHAT.svg)")
    p.add_argument("--format", choices=["svg", "png", "pdf", "dot"], help="output format (default: from -o)")
    p.add_argument("--text", action="store_true", help="also print the backward pass in words (no graphviz needed)")
    p.add_argument("--rankdir", choices=["LR", "TB"], default="LR")


def _parse_assignments(items: list[str]) -> dict[str, float]:
    values: dict[str, float] = {}
    for item in items:
        name, sep, number = item.partition("=")
        if not sep or not name.isidentifier():
            raise UserError(f"--set expects NAME=VALUE, got {item!r}")
        try:
            values[name] = float(number)
        except ValueError:
            raise UserError(f"--set {name}: expected a number, got {number!r}") from None
    return values


def _cmd_draw(args: argparse.Namespace) -> int:
    from .chain import one_neuron_chain, two_neuron_layers
    from .draw import draw_dot, render
    from .explain import explain_text
    from .expr import parse_expression

    if args.what == "expr":
        if not args.expression:
            raise UserError('draw expr needs an expression, e.g. draw expr "tanh(w*x + b)" --set w=0.5 x=2 b=-1')
        root, leaves = parse_expression(args.expression, _parse_assignments(args.set))
        root.backward()
        if args.highlight and args.highlight not in leaves:
            raise UserError(f"--highlight {args.highlight!r} is not a variable of the expression ({', '.join(leaves)})")
        highlight = leaves.get(args.highlight) if args.highlight else None
        print(f"{args.expression} = {root.data:.6g}")
        for name, leaf in leaves.items():
            print(f"d/d{name} = {leaf.grad:.6g}")
    else:
        example = one_neuron_chain() if args.what == "chain" else two_neuron_layers()
        root, highlight = example.cost, example.highlight
        print(example.report())
        if example.worst_difference() > 1e-12:
            print("the engine and the hand derivation DISAGREE", file=sys.stderr)
            return 1
    if args.text:
        print(explain_text(root))
    if args.output is None and args.text:
        return 0
    output = args.output or Path(f"{args.what}.{args.format or 'svg'}")
    graph = draw_dot(root, rankdir=args.rankdir, highlight=highlight)
    render(graph, output, args.format)
    print(f"wrote {output}")
    return 0


def _add_predict(sub: Any) -> None:
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


def _cmd_predict(args: argparse.Namespace) -> int:
    import json

    from .model_file import load_model
    from .predict import ImageError, default_model, read_digit

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
            print(json.dumps(result.as_dict()))
        else:
            shown = result.probabilities or result.activations
            kind = "probabilities" if result.probabilities else "activations"
            values = "  ".join(f"{j}:{v:.3f}" for j, v in enumerate(shown))
            print(f"{path}: {result.digit}    {kind} {values}")
    return 1 if failures else 0


def _add_show(sub: Any) -> None:
    p = sub.add_parser(
        "show",
        help="pictures of what a model learned (PNG)",
        description="weights: the first layer's weights as 28x28 pictures; activations IMAGE: every layer lighting "
        "up for one picture; curves: cost and accuracy per epoch; confusion: the test-set confusion matrix; "
        "mistakes: misread test digits.",
    )
    p.add_argument("what", choices=["weights", "activations", "curves", "confusion", "mistakes"])
    p.add_argument("image", nargs="?", type=Path, help="for activations: the picture to read")
    p.add_argument("--model", type=Path, help="a model file written by train (default: the bundled model)")
    p.add_argument("-o", "--output", type=Path, help="PNG to write (default: WHAT.png, or WHAT-IMAGE.png)")
    p.add_argument("--data", type=Path, help="directory of IDX files for confusion/mistakes (default: bundled MNIST)")


def _cmd_show(args: argparse.Namespace) -> int:
    from .model_file import load_model
    from .predict import default_model, load_image, prepare

    try:
        from . import viz
    except ImportError as err:
        raise UserError(f"show needs matplotlib: pip install 'microgrid[viz]' ({err})") from None
    model, meta = load_model(args.model) if args.model else default_model()
    if args.what == "activations":
        if args.image is None:
            raise UserError("show activations needs an IMAGE to read")
        field = prepare(load_image(args.image), str(args.image))
        fig = viz.plot_activations(model, field)
        default = Path(f"activations-{args.image.stem}.png")
    elif args.what == "weights":
        fig, default = viz.plot_weights(model), Path("weights.png")
    elif args.what == "curves":
        fig, default = viz.plot_curves(meta), Path("curves.png")
    else:
        from .data import load_mnist

        data = load_mnist(args.data)
        plot = viz.plot_confusion if args.what == "confusion" else viz.plot_mistakes
        fig, default = plot(model, data), Path(f"{args.what}.png")
    path = viz.save_figure(fig, args.output or default)
    print(f"wrote {path}")
    return 0


COMMANDS = {
    "train": (_add_train, _cmd_train),
    "check": (_add_check, _cmd_check),
    "draw": (_add_draw, _cmd_draw),
    "predict": (_add_predict, _cmd_predict),
    "show": (_add_show, _cmd_show),
}


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m microgrid",
        description="microgrid: a scalar autograd engine you can see, and a fast path that trains MNIST.",
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for add, _ in COMMANDS.values():
        add(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run one command; returns the exit code (0 ok, 1 a check or training failed, 2 bad input)."""
    argv = list(sys.argv[1:] if argv is None else argv)
    args = build_parser().parse_args(argv)
    args.argv = argv
    try:
        return COMMANDS[args.command][1](args)
    except KeyboardInterrupt:
        print("microgrid: interrupted", file=sys.stderr)
        return 130
    except (UserError, ValueError, OSError, RuntimeError) as err:
        print(f"microgrid {args.command}: error: {err}", file=sys.stderr)
        return 2
