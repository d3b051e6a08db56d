"""``python -m microgrid show``: matplotlib pictures of what a model learned."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from ..errors import UserError


def add_parser(sub: Any) -> None:
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


def run(args: argparse.Namespace) -> int:
    from ...digits.model_file import load_model
    from ...digits.predict import default_model, load_image, prepare

    try:
        from ...pictures import figures as viz
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
        from ...digits.data import load_mnist

        data = load_mnist(args.data)
        plot = viz.plot_confusion if args.what == "confusion" else viz.plot_mistakes
        fig, default = plot(model, data), Path(f"{args.what}.png")
    path = viz.save_figure(fig, args.output or default)
    print(f"wrote {path}")
    return 0
