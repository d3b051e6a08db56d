"""``python -m microgrid draw``: draw a computation graph with the chain rule on its edges."""

from __future__ import annotations

import argparse
import math
import sys
from pathlib import Path
from typing import Any

from ...engine import Value
from ..errors import UserError

MAX_ORDER = 6


def _parse_assignments(items: list[str]) -> dict[str, float]:
    values: dict[str, float] = {}
    for item in items:
        name, sep, number = item.partition("=")
        if not sep or not name.isidentifier():
            raise UserError(f"--set expects NAME=VALUE, got {_shown(item)!r}")
        try:
            values[name] = float(number)
        except ValueError:
            raise UserError(f"--set {_shown(name)}: expected a number, got {_shown(number)!r}") from None
        if not math.isfinite(values[name]):
            raise UserError(f"--set {_shown(name)}: expected a finite number, got {_shown(number)!r}")
    return values


def _wrap(label: str) -> str:
    return f"({label})"


def _derivative(root: Value, leaves: dict[str, Value], args: argparse.Namespace) -> Value:
    """The args.order-th derivative of root by args.wrt, a Value whose graph can be drawn."""
    from ...autodiff import grad

    if not 0 <= args.order <= MAX_ORDER:
        raise UserError(f"--order must be 0 to {MAX_ORDER}, got {args.order}")
    if args.wrt is None:
        if len(leaves) != 1:
            raise UserError(f"--order needs --wrt NAME: the expression has variables {', '.join(leaves) or 'none'}")
        args.wrt = next(iter(leaves))
    if args.wrt not in leaves:
        raise UserError(f"--wrt {args.wrt!r} is not a variable of the expression ({', '.join(leaves) or 'none'})")
    x = leaves[args.wrt]
    d = root
    for _ in range(args.order):
        (d,) = grad(d, [x], create_graph=True)
    d.label = f"d/d{args.wrt}" if args.order == 1 else f"d{args.order}/d{args.wrt}{args.order}"
    return d


def _shown(text: str, limit: int = 120) -> str:
    """``text``, or its ends and its length when longer than ``limit`` (a huge expression is not echoed)."""
    if len(text) <= limit:
        return text
    return f"{text[: limit // 2]} ... {text[-limit // 2 :]} ({len(text):,} characters)"


def add_parser(sub: Any) -> None:
    p = sub.add_parser(
        "draw",
        help="draw a computation graph: the notes' chain rule, a layer, or any small expression",
        description="Draw a computation graph with every local derivative on its edge. "
        "'chain' is the notes' one-neuron-per-layer chain a(L-1) -> z(L) -> a(L) -> C0; 'layer' the case with "
        "indices j and k; both also print their report: each derivative by its chain-rule formula beside the "
        "engine's. 'expr' is any expression over named variables, e.g. "
        'draw expr "tanh(w*x + b)" --set w=0.5 x=2 b=-1 -o expr.svg; with --order 2 it draws the graph that '
        "backpropagation builds for the second derivative d2/dx2 (grad with create_graph=True, twice), and "
        "--text then explains the backward pass through that graph, whose result is the next derivative",
    )
    p.add_argument("what", choices=["chain", "layer", "expr"])
    p.add_argument("expression", nargs="?", help='for expr: e.g. "tanh(w*x + b)"')
    p.add_argument("--set", nargs="*", default=[], metavar="NAME=VALUE", help="values of the expression's variables")
    p.add_argument("--highlight", metavar="NAME", help="variable whose chain-rule paths to colour")
    p.add_argument("-o", "--output", type=Path, help="file to write (svg, png, pdf or dot; default WHAT.svg)")
    p.add_argument("--format", choices=["svg", "png", "pdf", "dot"], help="output format (default: from -o)")
    p.add_argument(
        "--order",
        type=int,
        default=0,
        metavar="N",
        help="for expr: draw the N-th derivative by --wrt instead of the expression (0 to 6; default 0)",
    )
    p.add_argument(
        "--wrt", metavar="NAME", help="for --order: the variable to differentiate by (default: the only one)"
    )
    p.add_argument("--text", action="store_true", help="also print the backward pass in words (no graphviz needed)")
    p.add_argument("--rankdir", choices=["LR", "TB"], default="LR")


def run(args: argparse.Namespace) -> int:
    from ...pictures.draw import draw_dot, render
    from ...pictures.explain import explain_text
    from ...support.chain import one_neuron_chain, two_neuron_layers
    from ...support.expr import parse_expression

    if args.what == "expr":
        if not args.expression:
            raise UserError('draw expr needs an expression, e.g. draw expr "tanh(w*x + b)" --set w=0.5 x=2 b=-1')
        assigned = _parse_assignments(args.set)
        root, leaves = parse_expression(args.expression, assigned)
        unknown = [name for name in assigned if name not in leaves]
        if unknown:
            raise UserError(
                f"--set {_shown(unknown[0])}: not a variable of the expression ({_shown(', '.join(leaves)) or 'none'})"
            )
        if args.highlight and args.highlight not in leaves:
            raise UserError(
                f"--highlight {_shown(args.highlight)!r} is not a variable of the expression "
                f"({_shown(', '.join(leaves))})"
            )
        try:
            derivative = _derivative(root, leaves, args) if args.order else None
            (derivative or root).backward()
        except (ArithmeticError, ValueError) as err:  # a derivative that cannot be computed at these values
            raise UserError(f"cannot backpropagate through {_shown(args.expression)!r}: {err}") from None
        print(f"{_shown(args.expression)} = {root.data:.6g}")
        if derivative is not None:
            print(f"{derivative.label} {_shown(args.expression)} = {derivative.data:.6g}")
            root = derivative
        highlight = leaves.get(args.highlight) if args.highlight else None
        if highlight is not None and all(node is not highlight for node in root.topological_order()):
            raise UserError(f"--highlight {args.highlight}: the derivative does not depend on it")
        for name, leaf in leaves.items():
            print(f"d{_wrap(root.label)}/d{name} = {leaf.grad:.6g}" if args.order else f"d/d{name} = {leaf.grad:.6g}")
    else:
        if args.order or args.wrt:
            raise UserError("--order and --wrt are for 'draw expr'")
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
