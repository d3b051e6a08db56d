"""Second-order workloads of benchmarks/scalar.py: grad(create_graph=True) against backward(),
and a Hessian-vector product of the moons loss against PyTorch's create_graph.

Each round builds the forward graph afresh and times it apart from the derivative pass, so
a table can give both the pass alone and the whole sample (forward + pass). The passes run
with the cyclic garbage collector off, both of them: grad() pauses it anyway, and a
collection that happens to fall inside one backward() would otherwise decide the ratio.
"""

from __future__ import annotations

import gc
import random
import statistics
import time
from collections.abc import Callable
from typing import Any

import microgrid
from microgrid import grad, hvp
from microgrid.support.toys import two_moons


def _timed(fn: Callable[[], Any], clock: Callable[[], float] = time.perf_counter) -> tuple[float, Any]:
    t0 = clock()
    out = fn()
    return clock() - t0, out


def race(
    forward: Callable[[], Any], passes: dict[str, Callable[[Any], object]], repeats: int
) -> dict[str, tuple[float, ...]]:
    """For each pass: (median pass seconds, fastest pass, median forward + pass), interleaved round by round.

    In CPU time (``time.process_time``): the other processes of a shared machine barely move it."""
    times: dict[str, list[tuple[float, float]]] = {name: [] for name in passes}
    for _ in range(repeats):
        for name, derive in passes.items():
            gc.collect()
            t_f, root = _timed(forward, time.process_time)
            gc.disable()  # grad() pauses the collector itself; backward() does not: time both without it
            try:
                t_d, _ = _timed(lambda derive=derive, root=root: derive(root), time.process_time)  # type: ignore[misc]
            finally:
                gc.enable()
            times[name].append((t_f, t_d))
    out: dict[str, tuple[float, ...]] = {}
    for name, ts in times.items():
        passes = [d for _, d in ts]
        out[name] = (statistics.median(passes), min(passes), statistics.median(f + d for f, d in ts))
    return out


def seed_net() -> tuple[Callable[[], Any], list[Any]]:
    rng = random.Random(2)
    image = [rng.random() for _ in range(784)]
    target = [1.0 if j == 3 else 0.0 for j in range(10)]
    model = microgrid.MLP(784, [16, 16, 10], activation="relu", output_activation="linear", seed=2)

    def forward() -> Any:
        return microgrid.Value.sum([(o - t) ** 2 for o, t in zip(model(image), target)])

    return forward, model.parameters()


def moons() -> tuple[Callable[[], Any], list[Any], Any]:
    xs, ys = two_moons(100)
    model = microgrid.MLP(2, [16, 16, 1], activation="relu", output_activation="linear", seed=1)
    params = model.parameters()

    def forward() -> Any:
        scores = [model(x)[0] for x in xs]
        data_loss = microgrid.Value.sum([(1 + -y * s).relu() for y, s in zip(ys, scores)]) * (1.0 / len(xs))
        return data_loss + 1e-4 * microgrid.Value.sum([p * p for p in params])

    return forward, params, model


def create_graph_rows(repeats: int) -> list[list[object]]:
    rows: list[list[object]] = []
    seed_forward, seed_params = seed_net()
    moons_forward, moons_params, _ = moons()
    for name, forward, params in (
        ("seed-net sample MLP(784,[16,16,10])", seed_forward, seed_params),
        ("moons loss MLP(2,[16,16,1]), 100 pts", moons_forward, moons_params),
    ):
        t = race(
            forward,
            {
                "backward": lambda root: root.backward(),
                "create_graph": lambda root, ps=params: grad(root, ps, create_graph=True),  # type: ignore[misc]
            },
            repeats,
        )
        (db, fb, wb), (dc, fc, wc) = t["backward"], t["create_graph"]
        ratios = [f"{dc / db:.1f}x", f"{fc / fb:.1f}x", f"{wc / wb:.1f}x"]
        rows.append([name, f"{db * 1e3:.2f} ms", f"{dc * 1e3:.2f} ms", *ratios, "<= 3x"])
    return rows


def _torch_moons(torch: Any, model: Any) -> tuple[list[Any], Callable[[list[Any]], Any], Callable[[list[Any]], Any]]:
    """The moons loss in PyTorch: batched (X @ W.T) and node for node (one dot per neuron and point)."""
    xs, ys = two_moons(100)
    X, Y = torch.tensor(xs, dtype=torch.float64), torch.tensor(ys, dtype=torch.float64)
    rows = [[[*(w.data for w in n.w), n.b.data] for n in layer.neurons] for layer in model.layers]
    params = [torch.tensor(r, dtype=torch.float64, requires_grad=True) for r in rows]

    def reg(ps: list[Any]) -> Any:
        return 1e-4 * sum((p * p).sum() for p in ps)

    def batched(ps: list[Any]) -> Any:
        h = X
        for k, p in enumerate(ps):
            h = h @ p[:, :-1].T + p[:, -1]
            h = torch.relu(h) if k < len(ps) - 1 else h
        return torch.relu(1 - Y * h[:, 0]).mean() + reg(ps)

    def node_for_node(ps: list[Any]) -> Any:
        losses = []
        for x, y in zip(X, Y):
            acts = list(x)
            for k, p in enumerate(ps):
                a = torch.stack(acts)
                zs = [torch.dot(p[j, :-1], a) + p[j, -1] for j in range(p.shape[0])]
                acts = [torch.relu(z) for z in zs] if k < len(ps) - 1 else zs
            losses.append(torch.relu(1 - y * acts[0]))
        return torch.stack(losses).mean() + reg(ps)

    return params, batched, node_for_node


def hvp_rows(repeats: int) -> tuple[list[list[object]], float]:
    """Forward + Hessian-vector product of the moons loss: microgrid, PyTorch batched, PyTorch node for node.

    Returns the rows and the largest difference between microgrid's H v and PyTorch's.
    """
    import torch

    forward, params, model = moons()
    rng = random.Random(3)
    v = [rng.uniform(-1, 1) for _ in params]
    tparams, batched, node_for_node = _torch_moons(torch, model)
    flat_v = torch.tensor(v, dtype=torch.float64)
    tv = [chunk.view(p.shape) for chunk, p in zip(flat_v.split([p.numel() for p in tparams]), tparams)]

    def torch_hvp(loss_fn: Callable[[list[Any]], Any]) -> list[float]:
        loss = loss_fn(tparams)
        gs = torch.autograd.grad(loss, tparams, create_graph=True)
        hv = torch.autograd.grad(sum((g * w).sum() for g, w in zip(gs, tv)), tparams)
        return [x for h in hv for x in h.flatten().tolist()]

    ours = hvp(forward(), params, v)
    worst = max(abs(a - b) for a, b in zip(ours, torch_hvp(batched)))
    worst = max(worst, max(abs(a - b) for a, b in zip(ours, torch_hvp(node_for_node))))
    fns = {
        "microgrid": lambda: hvp(forward(), params, v),
        "torch batched": lambda: torch_hvp(batched),
        "torch node for node": lambda: torch_hvp(node_for_node),
    }
    times: dict[str, list[float]] = {name: [] for name in fns}
    for _ in range(repeats):
        for name, fn in fns.items():
            gc.collect()
            times[name].append(_timed(fn)[0])
    med = {name: statistics.median(ts) for name, ts in times.items()}
    row = [
        "moons loss: forward + H v (337 params)",
        f"{med['microgrid'] * 1e3:.1f} ms",
        f"{med['torch batched'] * 1e3:.2f} ms",
        f"{med['torch node for node'] * 1e3:.1f} ms",
        f"{med['microgrid'] / med['torch node for node']:.2f}x",
    ]
    return [row], worst
