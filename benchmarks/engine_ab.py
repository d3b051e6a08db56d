"""The scalar engine of two checkouts, before and after a change, in CPU time.

    git worktree add /tmp/base 9d0f6e7
    python benchmarks/engine_ab.py --before /tmp/base --rounds 6

Each round runs one child process per checkout, in turn (before, after, before, ...), so
machine noise hits both alike; a child imports only its checkout's ``microgrid`` and times
each workload with ``time.process_time`` (CPU time of the process: other processes on a
shared machine barely move it, unlike wall time). Printed: per workload, the median over
all rounds of each child's median, the fastest pass, and after/before.

Workloads (the public API only, so any checkout runs them):
  chain         a 10,000-op chain y = y * 1.0001 + 0.0001, built and backpropagated
  seed-net      one sample through MLP(784, [16, 16, 10]) with MSE, forward + backward
  moons         MLP(2, [16, 16, 1]) on 100 two-moons points: forward, hinge loss + L2, backward
  seed-net cg   grad(loss, params, create_graph=True) / loss.backward() on the seed net, the pass alone
  moons cg      the same ratio on the moons loss
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
from pathlib import Path

CHILD = r"""
import gc, json, random, statistics, sys, time
import microgrid
from microgrid import MLP, Value, grad
try:
    from microgrid.support.toys import two_moons
except ImportError:
    from microgrid.toys import two_moons

def timed(build, run, n):
    out = []
    for _ in range(n):
        gc.collect(); x = build(); gc.disable()
        t = time.process_time(); run(x); out.append(time.process_time() - t)
        gc.enable()
    return out

def chain():
    y = Value(1.0)
    for _ in range(5000):
        y = y * 1.0001 + 0.0001
    return y

rng = random.Random(2)
image = [rng.random() for _ in range(784)]
target = [1.0 if j == 3 else 0.0 for j in range(10)]
seed = MLP(784, [16, 16, 10], activation="relu", output_activation="linear", seed=2)
def seed_loss():
    return Value.sum([(o - t) ** 2 for o, t in zip(seed(image), target)])
xs, ys = two_moons(100)
moons = MLP(2, [16, 16, 1], activation="relu", output_activation="linear", seed=1)
def moons_loss():
    scores = [moons(x)[0] for x in xs]
    data = Value.sum([(1 + -y * s).relu() for y, s in zip(ys, scores)]) * (1.0 / len(xs))
    return data + 1e-4 * Value.sum([p * p for p in moons.parameters()])

n = int(sys.argv[1])
r = {
    "chain": timed(lambda: None, lambda _: chain().backward(), n),
    "seed-net": timed(lambda: None, lambda _: seed_loss().backward(), n),
    "moons": timed(lambda: None, lambda _: moons_loss().backward(), n),
}
for name, loss, params in (("seed-net", seed_loss, seed.parameters()), ("moons", moons_loss, moons.parameters())):
    r[name + " backward"] = timed(loss, lambda root: root.backward(), n)
    r[name + " create_graph"] = timed(loss, lambda root: grad(root, params, create_graph=True), n)
print(json.dumps({"file": microgrid.__file__, "times": r}))
"""


def run_child(tree: Path, repeats: int) -> dict[str, list[float]]:
    env = {**os.environ, "PYTHONPATH": str(tree)}
    command = [sys.executable, "-c", CHILD, str(repeats)]
    done = subprocess.run(command, env=env, capture_output=True, text=True, cwd=tree)
    if done.returncode != 0:
        sys.exit(f"{tree}: {done.stderr.strip().splitlines()[-1]}")
    out = json.loads(done.stdout)
    if not out["file"].startswith(str(tree.resolve())):
        sys.exit(f"{tree}: imported {out['file']}, not this checkout's microgrid")
    return out["times"]  # type: ignore[no-any-return]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--before", type=Path, required=True, help="a checkout of the code before (git worktree add)")
    here = Path(__file__).resolve().parents[1]
    parser.add_argument("--after", type=Path, default=here, help="a checkout of the code after (default: this one)")
    parser.add_argument("--rounds", type=int, default=6, help="child processes per checkout, alternating")
    parser.add_argument("--repeats", type=int, default=9, help="timed passes per workload in each child")
    args = parser.parse_args()
    trees = {"before": args.before.resolve(), "after": args.after.resolve()}
    medians: dict[str, dict[str, list[float]]] = {k: {} for k in trees}
    fastest: dict[str, dict[str, float]] = {k: {} for k in trees}
    for _ in range(args.rounds):
        for key, tree in trees.items():
            for name, ts in run_child(tree, args.repeats).items():
                medians[key].setdefault(name, []).append(statistics.median(ts))
                fastest[key][name] = min(fastest[key].get(name, float("inf")), min(ts))
    med = {k: {n: statistics.median(v) for n, v in d.items()} for k, d in medians.items()}
    print(f"CPU time, median of {args.rounds} alternating child processes x {args.repeats} passes (fastest pass)")
    print("| workload | before | after | after / before |")
    print("|---|---|---|---|")
    for name in ("chain", "seed-net", "moons"):
        b, a = med["before"][name], med["after"][name]
        fb, fa = fastest["before"][name], fastest["after"][name]
        before, after = f"{b * 1e3:.2f} ms ({fb * 1e3:.2f})", f"{a * 1e3:.2f} ms ({fa * 1e3:.2f})"
        print(f"| {name} | {before} | {after} | {a / b:.2f}x ({fa / fb:.2f}x) |")
    print("\ngrad(create_graph=True) / backward(), the pass alone: median (fastest passes); aim <= 3x")
    print("| workload | before | after |")
    print("|---|---|---|")
    for name in ("seed-net", "moons"):
        cells = []
        for key in trees:
            ratio = med[key][name + " create_graph"] / med[key][name + " backward"]
            fast = fastest[key][name + " create_graph"] / fastest[key][name + " backward"]
            cells.append(f"{ratio:.2f}x ({fast:.2f}x)")
        print(f"| {name} | {cells[0]} | {cells[1]} |")


if __name__ == "__main__":
    main()
