"""``python -m microgrid check``: check the fast path against the scalar engine."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from ..errors import UserError


def add_parser(sub: Any) -> None:
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


def run(args: argparse.Namespace) -> int:
    import random

    from ...digits.crosscheck import compare_gradients, compare_training, random_architecture
    from ...digits.data import load_mnist, to_inputs
    from ...nn import MLP

    if args.batch < 1 or args.cases < 0:
        raise UserError(f"--batch must be at least 1 and --cases at least 0, got {args.batch} and {args.cases}")
    data = load_mnist(args.data)
    most = len(data.train_images) // 20
    if args.batch > most:
        raise UserError(
            f"--batch {args.batch} is too large: check trains on 20 mini-batches of distinct training images and "
            f"the data has {len(data.train_images):,}, so --batch can be at most {most:,}"
        )
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
