"""The notes' chain rule, step by step: python demos/chain_rule.py [-o chain.svg]

The one-neuron-per-layer network a(L-1) -> z(L) = w(L) a(L-1) + b(L) -> a(L) = sigma(z(L))
-> C0 = (a(L) - y)^2. It prints each derivative worked out by hand beside the engine's,
walks the backward pass in words, and draws the graph with the path from w(L) to C0
highlighted (every edge labelled with its local derivative).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from microgrid.pictures.explain import explain_text
from microgrid.support.chain import one_neuron_chain


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument(
        "-o", "--output", type=Path, default=Path("chain.svg"), help="picture to write (svg/png/pdf/dot)"
    )
    args = parser.parse_args()
    example = one_neuron_chain()
    print(example.report())
    print()
    print(explain_text(example.cost))
    try:
        from microgrid.pictures.draw import draw_dot, render

        render(draw_dot(example.cost, highlight=example.highlight), args.output)
        print(f"\nwrote {args.output}")
    except (RuntimeError, ValueError) as err:
        print(f"\nno picture: {err}", file=sys.stderr)
        return 1
    return 0 if example.worst_difference() <= 1e-12 else 1


if __name__ == "__main__":
    sys.exit(main())
