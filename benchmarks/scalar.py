"""microgrid's scalar engine against micrograd 0.1.0, side by side in one process.

    pip install -e ".[bench]"   # micrograd==0.1.0
    python benchmarks/scalar.py [--repeats 7]

Workloads (the same code drives both engines; each uses its own Value and MLP):
  chain      a 10,000-op chain y = y * 1.0001 + 0.0001, built and backpropagated
  moons      one full step of MLP(2, [16, 16, 1]) on 100 two-moons points: forward,
             hinge loss + 1e-4 L2, backward, SGD update (micrograd's demo)
  seed-net   one sample through MLP(784, [16, 16, 10]) with MSE and backward
  memory     bytes per graph node while the chain graph is alive (tracemalloc)
  deepest    the longest chain each backpropagates under the default recursion limit

Second order (microgrid alone, and against PyTorch when it is installed):
  create_graph   grad(loss, params, create_graph=True) against loss.backward() on the
                 seed-net sample and the moons loss: the derivative pass alone (medians,
                 and the fastest of each), and the whole sample (forward + pass); aim <= 3x
  H v            forward + one Hessian-vector product of the moons loss (grad with
                 create_graph, then grad of sum(g * v)), against PyTorch's create_graph on
                 the same loss written batched (X @ W.T) and node for node (one dot per
                 neuron and point, the graph microgrid builds)

    python benchmarks/scalar.py --second-order-only   # skips micrograd

micrograd's recursive topological sort needs a raised recursion limit for the 10,000-op
chain; the benchmark raises it for that workload only and says so.
"""

from __future__ import annotations

import argparse
import random
import sys
import tracemalloc
from collections.abc import Callable
from typing import Any

from _common import interleaved_medians, table
from _second_order import create_graph_rows, hvp_rows

import microgrid
from microgrid.support.toys import two_moons

try:
    import micrograd.engine
    import micrograd.nn
except ImportError:  # pragma: no cover
    micrograd = None

CHAIN_OPS = 10_000


def chain(V: Any, n_ops: int) -> tuple[Any, Any]:
    x = V(1.0)
    y = x
    for _ in range(n_ops // 2):
        y = y * 1.0001 + 0.0001
    return x, y


def parents_of(node: Any) -> Any:
    """A node's parents: microgrid's public accessor, micrograd's own attribute."""
    return node.parents if isinstance(node, microgrid.Value) else node._prev  # micrograd


def count_nodes(root: Any) -> int:
    seen = {id(root)}
    stack = [root]
    while stack:
        for p in parents_of(stack.pop()):
            if id(p) not in seen:
                seen.add(id(p))
                stack.append(p)
    return len(seen)


def moons_step(model: Any, xs: list[list[float]], ys: list[float]) -> float:
    scores = [model(x) for x in xs]
    scores = [s[0] if isinstance(s, list) else s for s in scores]
    losses = [(1 + -yi * si).relu() for yi, si in zip(ys, scores)]
    data_loss = sum(losses) * (1.0 / len(losses))
    reg_loss = 1e-4 * sum(p * p for p in model.parameters())
    total = data_loss + reg_loss
    model.zero_grad()
    total.backward()
    for p in model.parameters():
        p.data -= 0.01 * p.grad
    return float(total.data)


def seed_net_sample(model: Any, x: list[float], y: list[float]) -> None:
    out = model(x)
    out = out if isinstance(out, list) else [out]
    loss = sum((o - t) ** 2 for o, t in zip(out, y))
    model.zero_grad()
    loss.backward()


def bytes_per_node(V: Any) -> float:
    tracemalloc.start()
    before = tracemalloc.get_traced_memory()[0]
    x, y = chain(V, CHAIN_OPS)
    after = tracemalloc.get_traced_memory()[0]
    tracemalloc.stop()
    return (after - before) / count_nodes(y)


def deepest_chain(V: Any, limit: int = 1_000_000) -> int:
    """Largest n (doubling, then bisecting, up to limit) whose n-op chain backpropagates."""

    def ok(n: int) -> bool:
        x = V(1.0)
        y = x
        for _ in range(n):
            y = y * 1.0
        try:
            y.backward()
        except RecursionError:
            return False
        return True

    lo, hi = 0, 64
    while hi <= limit and ok(hi):
        lo, hi = hi, hi * 2
    if hi > limit:
        return limit
    while hi - lo > 1:
        mid = (lo + hi) // 2
        lo, hi = (mid, hi) if ok(mid) else (lo, mid)
    return lo


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeats", type=int, default=7, help="timed runs per workload and engine (median kept)")
    parser.add_argument("--second-order-only", action="store_true", help="only the second-order tables")
    args = parser.parse_args()
    if not args.second_order_only:
        micrograd_table(args)
    second_order_tables(args.repeats)


def second_order_tables(repeats: int) -> None:
    print(f"\nsecond order, medians of {repeats} interleaved runs")
    headers = [
        "workload",
        "backward()",
        "grad(create_graph=True)",
        "ratio (pass)",
        "ratio (fastest passes)",
        "ratio (forward + pass)",
        "aim",
    ]
    print(table(headers, create_graph_rows(repeats)))
    try:
        import torch
    except ImportError:
        print("\nPyTorch is not installed: the H v comparison is skipped (pip install torch)")
        return
    torch.set_num_threads(1)
    rows, worst = hvp_rows(repeats)
    print(
        f"\nH v of the moons loss, PyTorch {torch.__version__} on one thread, float64 "
        f"(largest |microgrid - PyTorch| over the 337 entries: {worst:.1e})"
    )
    print(
        table(["workload", "microgrid", "PyTorch batched", "PyTorch node for node", "microgrid / node for node"], rows)
    )


def micrograd_table(args: argparse.Namespace) -> None:
    if micrograd is None:
        sys.exit("micrograd is missing: pip install micrograd==0.1.0 (or pip install -e '.[bench]')")
    ours, theirs = microgrid.Value, micrograd.engine.Value
    rows: list[list[object]] = []

    def compare(name: str, mine: Callable[[], object], peer: Callable[[], object], target: str) -> None:
        t = interleaved_medians({"microgrid": mine, "micrograd": peer}, args.repeats)
        ratio = t["micrograd"] / t["microgrid"]
        rows.append([name, f"{t['microgrid'] * 1e3:.2f} ms", f"{t['micrograd'] * 1e3:.2f} ms", f"{ratio:.1f}x", target])

    old_limit = sys.getrecursionlimit()
    sys.setrecursionlimit(max(old_limit, 4 * CHAIN_OPS))  # micrograd recurses once per node
    compare(
        "chain 10,000 ops (build + backward)",
        lambda: chain(ours, CHAIN_OPS)[1].backward(),
        lambda: chain(theirs, CHAIN_OPS)[1].backward(),
        ">= 2x",
    )
    sys.setrecursionlimit(old_limit)

    xs, ys = two_moons(100)
    random.seed(1)
    mine = microgrid.MLP(2, [16, 16, 1], activation="relu", output_activation="linear", seed=1)
    peer = micrograd.nn.MLP(2, [16, 16, 1])
    compare(
        "moons step MLP(2,[16,16,1]), 100 pts",
        lambda: moons_step(mine, xs, ys),
        lambda: moons_step(peer, xs, ys),
        ">= 3x",
    )

    rng = random.Random(2)
    image = [rng.random() for _ in range(784)]
    target = [1.0 if j == 3 else 0.0 for j in range(10)]
    mine784 = microgrid.MLP(784, [16, 16, 10], activation="relu", output_activation="linear", seed=2)
    peer784 = micrograd.nn.MLP(784, [16, 16, 10])
    compare(
        "seed-net sample MLP(784,[16,16,10])",
        lambda: seed_net_sample(mine784, image, target),
        lambda: seed_net_sample(peer784, image, target),
        ">= 5x",
    )

    mem_ours, mem_theirs = bytes_per_node(ours), bytes_per_node(theirs)
    rows.append(
        [
            "memory per graph node",
            f"{mem_ours:.0f} B",
            f"{mem_theirs:.0f} B",
            f"{mem_ours / mem_theirs:.2f}x",
            "<= 0.33x",
        ]
    )
    deep_ours, deep_theirs = deepest_chain(ours), deepest_chain(theirs)
    rows.append(
        [
            f"deepest chain (recursion limit {old_limit})",
            f">= {deep_ours:,}" if deep_ours == 1_000_000 else f"{deep_ours:,}",
            f"{deep_theirs:,}",
            "",
            "",
        ]
    )
    print(f"Python {sys.version.split()[0]}, medians of {args.repeats} interleaved runs")
    print(table(["workload", "microgrid", "micrograd 0.1.0", "speed-up / ratio", "target"], rows))


if __name__ == "__main__":
    main()
