"""Slope and curvature of the cost, and what Newton's step does with them: python demos/curvature.py

The notes' cost of one neuron, C0 = (a(L) - y)**2 with a(L) = sigmoid(w(L) a(L-1) + b(L)),
as a function of one weight w, then of two weights. Gradient descent steps by the slope
(times a learning rate); Newton's step divides the slope by the curvature, the second
derivative, which microgrid.grad(create_graph=True) gives. Writes docs/images/curvature.png
(or -o PATH): left, C0(w) with both methods' steps and the parabola Newton's step jumps to
the bottom of; right, the two-weight cost with both paths.
"""

from __future__ import annotations

import argparse
import math
from pathlib import Path

from microgrid import Value, grad, hessian, no_grad

A_PREV, BIAS, TARGET = 1.0, 0.0, 0.8  # one neuron: C0(w) = (sigmoid(w * a(L-1) + b) - y)**2
SAMPLES = [(1.0, 0.8), (0.8, 1.0)]  # two inputs a(L-1) per sample, nearly parallel: a long narrow valley
BEST = (1.5, -1.0)
TARGETS = [1.0 / (1.0 + math.exp(-(BEST[0] * x1 + BEST[1] * x2))) for x1, x2 in SAMPLES]


def cost(w: Value) -> Value:
    a = (w * A_PREV + BIAS).sigmoid()
    return (a - TARGET) ** 2


def cost2(w1: Value, w2: Value) -> Value:
    return Value.sum([((w1 * x1 + w2 * x2).sigmoid() - y) ** 2 for (x1, x2), y in zip(SAMPLES, TARGETS)]) * 0.5


def slope_and_curvature(w0: float) -> tuple[float, float]:
    w = Value(w0)
    (slope,) = grad(cost(w), [w], create_graph=True)
    (curvature,) = grad(slope, [w])
    return slope.data, curvature.data


def one_weight_paths(start: float, steps: int, lr: float) -> tuple[list[float], list[float]]:
    descent, newton = [start], [start]
    for _ in range(steps):
        descent.append(descent[-1] - lr * slope_and_curvature(descent[-1])[0])
        s, k = slope_and_curvature(newton[-1])
        newton.append(newton[-1] - s / k)
    return descent, newton


def newton_step_2d(p: tuple[float, float]) -> tuple[float, float]:
    """p - H^-1 g, the 2 x 2 system solved by hand."""
    w1, w2 = Value(p[0]), Value(p[1])
    c = cost2(w1, w2)
    g1, g2 = (g.data for g in grad(c, [w1, w2]))
    (a, b), (_, d) = hessian(c, [w1, w2])
    det = a * d - b * b
    return p[0] - (d * g1 - b * g2) / det, p[1] - (a * g2 - b * g1) / det


def two_weight_paths(steps: int, newton_steps: int, lr: float) -> tuple[list[tuple[float, float]], ...]:
    descent, newton = [(0.0, 0.0)], [(0.0, 0.0)]
    for _ in range(steps):
        w1, w2 = Value(descent[-1][0]), Value(descent[-1][1])
        g1, g2 = (g.data for g in grad(cost2(w1, w2), [w1, w2]))
        descent.append((w1.data - lr * g1, w2.data - lr * g2))
    for _ in range(newton_steps):
        newton.append(newton_step_2d(newton[-1]))
    return descent, newton


def plot(path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, (left, right) = plt.subplots(1, 2, figsize=(11, 4.4))
    ws = [-4 + 8 * i / 400 for i in range(401)]
    with no_grad():
        cs = [cost(Value(w)).data for w in ws]
    left.plot(ws, cs, color="black", lw=2, label="C0(w)")
    bent = [slope_and_curvature(w)[1] < 0 for w in ws]
    runs = [i for i in range(len(ws)) if bent[i] and (i == 0 or not bent[i - 1])]
    for n, i in enumerate(runs):  # shade each stretch where the cost bends down
        j = next((j for j in range(i, len(ws)) if not bent[j]), len(ws) - 1)
        left.axvspan(ws[i], ws[j], color="0.92", label="curvature < 0" if n == 0 else None)
    s, k = slope_and_curvature(0.0)
    c0 = cost(Value(0.0)).data
    near = [w for w in ws if -1.2 <= w <= 2.5]
    left.plot(near, [c0 + s * w for w in near], ":", color="tab:blue", label="slope at w = 0")
    parabola = [c0 + s * w + k * w * w / 2 for w in near]
    left.plot(near, parabola, "--", color="tab:red", label="parabola (slope, curvature)")
    descent, newton = one_weight_paths(0.0, 6, lr=1.0)
    with no_grad():
        left.plot(descent, [cost(Value(w)).data for w in descent], "o-", color="tab:blue", ms=4, label="descent, lr 1")
        left.plot(newton, [cost(Value(w)).data for w in newton], "s-", color="tab:red", ms=4, label="Newton")
    left.set(xlabel="w", ylabel="C0", title="one weight: 6 steps from w = 0", ylim=(-0.02, 0.7))
    left.legend(fontsize=8, loc="upper right")

    g1 = [-0.5 + 3.0 * i / 120 for i in range(121)]
    g2 = [-2.0 + 3.0 * j / 120 for j in range(121)]
    with no_grad():
        z = [[math.log10(cost2(Value(a), Value(b)).data + 1e-6) for a in g1] for b in g2]
    right.contourf(g1, g2, z, levels=20, cmap="Greys_r")
    d_path, n_path = two_weight_paths(30, 4, lr=8.0)
    right.plot(*zip(*d_path), "o-", color="tab:blue", ms=3, label="descent, lr 8: 30 steps")
    right.plot(*zip(*n_path), "s-", color="tab:red", ms=4, label="Newton: 4 steps")
    right.plot(*BEST, "*", color="gold", ms=14, mec="black", label="minimum (1.5, -1)")
    right.set(xlabel="w1", ylabel="w2", title="two weights: log10 of the cost")
    right.legend(fontsize=8, loc="lower left")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    default = Path(__file__).resolve().parents[1] / "docs" / "images" / "curvature.png"
    parser.add_argument("-o", "--output", type=Path, default=default, help="the PNG to write")
    args = parser.parse_args()
    descent, newton = one_weight_paths(0.0, 6, lr=1.0)
    print(f"one weight, 6 steps from w = 0: descent w = {descent[-1]:.4f}, Newton w = {newton[-1]:.6f}")
    print(f"  (the minimum is at sigmoid(w) = {TARGET}: w = ln 4 = {math.log(4):.6f})")
    d_path, n_path = two_weight_paths(30, 4, lr=8.0)
    with no_grad():
        d_cost = cost2(Value(d_path[-1][0]), Value(d_path[-1][1])).data
        n_cost = cost2(Value(n_path[-1][0]), Value(n_path[-1][1])).data
    print(f"two weights: descent after 30 steps at ({d_path[-1][0]:.3f}, {d_path[-1][1]:.3f}), cost {d_cost:.1e}")
    print(f"             Newton after 4 steps at ({n_path[-1][0]:.3f}, {n_path[-1][1]:.3f}), cost {n_cost:.1e}")
    plot(args.output)
    print(f"wrote {args.output}")


if __name__ == "__main__":
    main()
