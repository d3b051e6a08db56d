"""The fast path against PyTorch 2.13.0 (CPU) and a Nielsen-style per-sample loop.

    python benchmarks/mnist.py [--epochs-notes 3] [--repeats 3]

Same architecture, initial weights (copied from one FastMLP), batch order and optimizer
for every peer, one process:

  notes   784-16-16-10 sigmoid, MSE, SGD lr 3.0, batch 100: seconds per epoch
          (medians over epochs, interleaved), plus the per-sample loop (backprop of one
          example at a time, as in Nielsen's network.py) on the same batches
  best    the `--preset best` recipe: seconds until the test accuracy reaches 98.0%
          (evaluated after each epoch; evaluation time not counted)
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from collections.abc import Callable

import numpy as np
from _common import table

from microgrid.data import load_mnist, to_inputs
from microgrid.fast import FastMLP
from microgrid.optim import SGD, Adam
from microgrid.train import PRESETS, batch_order

try:
    import torch
except ImportError:  # pragma: no cover
    sys.exit("PyTorch is the peer here: pip install torch==2.13.0")

torch.set_num_threads(max(1, torch.get_num_threads()))


def torch_model(fast: FastMLP) -> tuple[list[torch.Tensor], Callable[[torch.Tensor], torch.Tensor]]:
    params = []
    for w, b in zip(fast.weights, fast.biases):
        params += [torch.tensor(w.data.copy(), requires_grad=True), torch.tensor(b.data.copy(), requires_grad=True)]
    acts = {"sigmoid": torch.sigmoid, "relu": torch.relu, "tanh": torch.tanh, "linear": lambda z: z}
    names = fast.activations

    def forward(x: torch.Tensor) -> torch.Tensor:
        for i in range(0, len(params), 2):
            x = acts[names[i // 2]](torch.addmm(params[i + 1], x, params[i].T))
        return x

    return params, forward


def epoch_runner_fast(fast: FastMLP, preset: dict, x: np.ndarray, y: np.ndarray) -> Callable[[int], None]:
    opt = (
        Adam(fast.parameters(), lr=preset["lr"])
        if preset["optimizer"] == "adam"
        else SGD(fast.parameters(), lr=preset["lr"])
    )
    bs = preset["batch_size"]

    def run(epoch: int) -> None:
        opt.lr = preset["lr"] * preset.get("lr_decay", 1.0) ** (epoch - 1)
        order = batch_order(0, epoch, len(x))
        for start in range(0, len(x), bs):
            idx = order[start : start + bs]
            fast.loss_and_backward(np.take(x, idx, axis=0), np.take(y, idx), preset["loss"], check=False)
            opt.step()

    return run


def epoch_runner_torch(fast: FastMLP, preset: dict, x: np.ndarray, y: np.ndarray):  # type: ignore[no-untyped-def]
    params, forward = torch_model(fast)
    tx, ty = torch.from_numpy(x), torch.from_numpy(y.astype(np.int64))
    onehot = torch.nn.functional.one_hot(ty, 10).to(tx.dtype)
    opt = (
        torch.optim.Adam(params, lr=preset["lr"])
        if preset["optimizer"] == "adam"
        else torch.optim.SGD(params, lr=preset["lr"])
    )
    bs = preset["batch_size"]

    def run(epoch: int) -> None:
        for group in opt.param_groups:
            group["lr"] = preset["lr"] * preset.get("lr_decay", 1.0) ** (epoch - 1)
        order = torch.from_numpy(batch_order(0, epoch, len(x)))
        for start in range(0, len(x), bs):
            idx = order[start : start + bs]
            out = forward(tx[idx])
            if preset["loss"] == "mse":
                loss = ((out - onehot[idx]) ** 2).sum(dim=1).mean()
            else:
                loss = torch.nn.functional.cross_entropy(out, ty[idx])
            opt.zero_grad()
            loss.backward()
            opt.step()

    def accuracy(tx_test: torch.Tensor, y_test: np.ndarray) -> float:
        with torch.no_grad():
            return float((forward(tx_test).argmax(1).numpy() == y_test).mean())

    return run, accuracy


def epoch_runner_per_sample(fast: FastMLP, preset: dict, x: np.ndarray, y: np.ndarray) -> Callable[[int], None]:
    """Nielsen's network.py shape: a Python loop over the examples of each mini-batch."""
    ws = [w.data for w in fast.weights]
    bs_ = [b.data for b in fast.biases]
    lr, bsize = preset["lr"], preset["batch_size"]

    def sig(z: np.ndarray) -> np.ndarray:
        return 1.0 / (1.0 + np.exp(-z))  # type: ignore[no-any-return]

    def run(epoch: int) -> None:
        order = batch_order(0, epoch, len(x))
        for start in range(0, len(x), bsize):
            idx = order[start : start + bsize]
            gw = [np.zeros_like(w) for w in ws]
            gb = [np.zeros_like(b) for b in bs_]
            for i in idx:
                acts = [x[i]]
                for w, b in zip(ws, bs_):
                    acts.append(sig(w @ acts[-1] + b))
                target = np.zeros(10, dtype=x.dtype)
                target[y[i]] = 1.0
                delta = 2.0 * (acts[-1] - target) * acts[-1] * (1 - acts[-1])
                for layer in range(len(ws) - 1, -1, -1):
                    gw[layer] += np.outer(delta, acts[layer])
                    gb[layer] += delta
                    if layer:
                        delta = (ws[layer].T @ delta) * acts[layer] * (1 - acts[layer])
            for layer in range(len(ws)):
                ws[layer] -= lr / len(idx) * gw[layer]
                bs_[layer] -= lr / len(idx) * gb[layer]

    return run


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--epochs-notes", type=int, default=3, help="timed epochs of the notes' net per peer")
    parser.add_argument("--max-epochs-best", type=int, default=10)
    args = parser.parse_args()
    data = load_mnist()
    rows: list[list[object]] = []

    # -- the notes' net: seconds per epoch --------------------------------------------------
    notes = dict(PRESETS["notes"])
    dtype = np.float32
    x, y = to_inputs(data.train_images, dtype), data.train_labels.astype(np.intp)
    start = FastMLP(784, [16, 16, 10], "sigmoid", init="normal", seed=0, dtype=dtype)
    fast_run = epoch_runner_fast(start, notes, x, y)
    torch_run, _ = epoch_runner_torch(
        FastMLP(784, [16, 16, 10], "sigmoid", init="normal", seed=0, dtype=dtype), notes, x, y
    )
    per_sample = epoch_runner_per_sample(
        FastMLP(784, [16, 16, 10], "sigmoid", init="normal", seed=0, dtype=dtype), notes, x, y
    )
    times: dict[str, list[float]] = {"microgrid fast": [], "PyTorch": [], "per-sample loop": []}
    for epoch in range(1, args.epochs_notes + 1):
        for name, run in (("microgrid fast", fast_run), ("PyTorch", torch_run), ("per-sample loop", per_sample)):
            if name == "per-sample loop" and epoch > 1:
                continue  # one epoch of the slow peer is enough
            t0 = time.perf_counter()
            run(epoch)
            times[name].append(time.perf_counter() - t0)
    med = {k: statistics.median(v) for k, v in times.items()}
    for name in ("microgrid fast", "PyTorch", "per-sample loop"):
        rows.append(
            ["notes 784-16-16-10, s/epoch", name, f"{med[name]:.3f}", f"{med[name] / med['microgrid fast']:.2f}x", ""]
        )
    rows[1][4] = ">= 4x"

    # -- best: time to 98% ------------------------------------------------------------------
    best = dict(PRESETS["best"])
    test_x = to_inputs(data.test_images, dtype)
    results = {}
    fast_model = FastMLP(
        784, best["sizes"][1:], best["activation"], best["output_activation"], init="default", seed=0, dtype=dtype
    )
    torch_start = FastMLP(
        784, best["sizes"][1:], best["activation"], best["output_activation"], init="default", seed=0, dtype=dtype
    )
    fast_best = epoch_runner_fast(fast_model, best, x, y)
    torch_best, torch_acc = epoch_runner_torch(torch_start, best, x, y)
    tx_test = torch.from_numpy(test_x)
    for name, run, acc in (
        ("microgrid fast", fast_best, lambda: float((fast_model.predict(test_x) == data.test_labels).mean())),
        ("PyTorch", torch_best, lambda: torch_acc(tx_test, data.test_labels)),
    ):
        spent, reached, accuracy = 0.0, None, 0.0
        for epoch in range(1, args.max_epochs_best + 1):
            t0 = time.perf_counter()
            run(epoch)
            spent += time.perf_counter() - t0
            accuracy = acc()
            if accuracy >= 0.98:
                reached = epoch
                break
        results[name] = (spent, reached, accuracy)
    for name, (spent, reached, accuracy) in results.items():
        ratio = spent / results["microgrid fast"][0]
        label = f"{spent:.2f} s ({reached} epochs, {accuracy:.2%})" if reached else f"not reached ({accuracy:.2%})"
        rows.append(
            [
                "best: time to 98.0% test",
                name,
                label,
                f"{ratio:.2f}x",
                "<= 0.7x of PyTorch" if name != "PyTorch" else "",
            ]
        )
    print(f"NumPy {np.__version__}, PyTorch {torch.__version__} ({torch.get_num_threads()} threads), float32")
    print(table(["workload", "peer", "time", "ratio to microgrid", "target"], rows))


if __name__ == "__main__":
    main()
