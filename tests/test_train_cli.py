"""Training loop, model files and the train/check commands, run as a user runs them."""

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from microgrid.app.cli import main
from microgrid.digits.data import load_mnist
from microgrid.digits.model_file import ModelFileError, load_model, save_model
from microgrid.digits.train import Diverged, TrainConfig, batch_order, train

ROOT = Path(__file__).resolve().parents[1]


def run(*args, cwd=None):
    return subprocess.run([sys.executable, "-m", "microgrid", *args], capture_output=True, text=True, cwd=cwd)


@pytest.fixture(scope="module")
def mnist():
    return load_mnist()


def test_batch_order_is_a_seeded_permutation():
    a = batch_order(0, 1, 100)
    assert sorted(a.tolist()) == list(range(100))
    assert np.array_equal(a, batch_order(0, 1, 100)) and not np.array_equal(a, batch_order(0, 2, 100))


def test_fast_training_learns_and_history(mnist):
    cfg = TrainConfig(sizes=[784, 32, 10], activation="relu", output_activation="linear", loss="cross_entropy",
                      optimizer="adam", lr=2e-3, epochs=2, limit=5000, init="default")  # fmt: skip
    lines = []
    model, history = train(cfg, mnist, progress=False, log=lines.append)
    assert [h["epoch"] for h in history] == [1, 2]
    assert history[1]["loss"] < history[0]["loss"]
    assert history[1]["test_accuracy"] > 0.85
    assert len(lines) == 2 and "test" in lines[0]


def test_scalar_and_fast_engines_end_on_the_same_weights(mnist):
    from microgrid.digits.crosscheck import relative_difference
    from microgrid.digits.fast import FastMLP

    base = dict(sizes=[784, 8, 10], limit=60, batch_size=10, epochs=2, dtype="float64", lr=1.0)
    scalar, _ = train(TrainConfig(**base, engine="scalar"), mnist, progress=False, log=lambda s: None)
    fast, _ = train(TrainConfig(**base, engine="fast"), mnist, progress=False, log=lambda s: None)
    for a, b in zip(FastMLP.from_scalar(scalar).parameters(), fast.parameters()):
        assert relative_difference(a.data, b.data) <= 1e-9


def test_training_reads_uint8_pixels_and_refuses_other_images(mnist):
    from dataclasses import replace

    floats = replace(mnist, train_images=mnist.train_images / 255.0)
    with pytest.raises(ValueError, match="training images must be uint8 pixels \\(0-255\\), got dtype float64"):
        train(TrainConfig(epochs=1, limit=100), floats, progress=False, log=lambda s: None)


def test_divergence_raises_with_last_good_model(mnist):
    cfg = TrainConfig(sizes=[784, 8, 10], activation="linear", lr=1e6, epochs=2, limit=500)
    with pytest.raises(Diverged, match="loss became") as err:
        train(cfg, mnist, progress=False, log=lambda s: None)
    assert err.value.last_good is None  # diverged in the first epoch: nothing good yet


def test_model_file_round_trip_and_atomic_write(tmp_path):
    from microgrid.digits.fast import FastMLP

    net = FastMLP(784, [16, 10], seed=1)
    row = {"epoch": 1, "loss": 0.5, "train_accuracy": 0.9, "test_accuracy": 0.8, "seconds": 1.0}
    path = save_model(tmp_path / "m.npz", net, {"history": [row], "command": "x"})
    loaded, meta = load_model(path)
    assert meta["sizes"] == [784, 16, 10] and meta["history"] == [row]
    assert all(np.array_equal(a.data, b.data) for a, b in zip(net.parameters(), loaded.parameters()))
    assert [p.name for p in tmp_path.iterdir()] == ["m.npz"]  # no temp file left behind
    with np.load(path, allow_pickle=False) as z:
        assert "meta" in z.files


def test_model_file_errors(tmp_path):
    from microgrid.digits.fast import FastMLP

    with pytest.raises(ModelFileError, match="no such model file"):
        load_model(tmp_path / "missing.npz")
    junk = tmp_path / "junk.npz"
    junk.write_bytes(b"hello")
    with pytest.raises(ModelFileError, match="junk.npz: not a microgrid model file"):
        load_model(junk)
    other = tmp_path / "other.npz"
    np.savez(other, a=np.zeros(3))
    with pytest.raises(ModelFileError, match="not a microgrid model file"):
        load_model(other)
    path = save_model(tmp_path / "m.npz", FastMLP(4, [3], seed=0))
    with np.load(path) as z:
        arrays = dict(z)
    arrays["W1"] = arrays["W1"] + 1e-3
    np.savez(tmp_path / "tampered.npz", **arrays)
    with pytest.raises(ModelFileError, match="do not match the checksum"):
        load_model(tmp_path / "tampered.npz")


def test_cli_train_writes_model_and_resume_continues(tmp_path):
    out = tmp_path / "m.npz"
    r = run("train", "--arch", "784,16,10", "--epochs", "1", "--limit", "2000", "-o", str(out), "--no-progress")
    assert r.returncode == 0, r.stderr
    assert "epoch   1" in r.stdout and out.exists()
    model, meta = load_model(out)
    assert meta["command"].startswith("python -m microgrid train --arch 784,16,10")
    assert meta["config"]["limit"] == 2000 and len(meta["history"]) == 1
    assert meta["data"]["sha256"]["t10k-labels-idx1-ubyte"].startswith("ff7bcfd4")
    r = run("train", "--resume", str(out), "--epochs", "1", "-o", str(out), "--no-progress")
    assert r.returncode == 0, r.stderr
    assert "epoch   2" in r.stdout
    _, meta = load_model(out)
    assert [h["epoch"] for h in meta["history"]] == [1, 2]


def test_cli_nan_stops_and_keeps_last_good_model(tmp_path):
    out = tmp_path / "m.npz"
    first = run(
        "train",
        "--arch",
        "784,8,10",
        "--activation",
        "linear",
        "--init",
        "default",
        "--lr",
        "0.001",
        "--epochs",
        "1",
        "--limit",
        "500",
        "-o",
        str(out),
    )
    assert first.returncode == 0, first.stderr
    before = out.read_bytes()
    r = run("train", "--resume", str(out), "--lr", "1e9", "--epochs", "2", "-o", str(out), "--no-progress")
    assert r.returncode == 1
    assert "loss became" in r.stderr and "kept the last good model" in r.stderr and "Traceback" not in r.stderr
    model, meta = load_model(out)
    assert all(np.isfinite(p.data).all() for p in model.parameters())
    assert out.read_bytes() != b"" and len(meta["history"]) == 1
    assert before  # the earlier file was readable throughout


@pytest.mark.parametrize(
    "args,message",
    [
        (["train", "--arch", "784,x"], "expected layer sizes"),
        (["train", "--data", "/nonexistent"], "no such directory"),
        (["train", "--batch-size", "0", "--epochs", "1"], "batch_size must be at least 1"),
        (["train", "--resume", "/nonexistent.npz"], "no such model file"),
        (
            ["train", "--resume", str(ROOT / "microgrid" / "digits" / "models" / "digits.npz"), "--arch", "784,5,10"],
            "--resume model is",
        ),
        (["train", "-o", "/nonexistent/dir/m.npz", "--epochs", "1", "--limit", "100"], "does not exist"),
    ],
)
def test_cli_errors_are_one_line(args, message):
    r = run(*args, "--no-progress")
    assert r.returncode == 2
    assert message in r.stderr and "Traceback" not in r.stderr


def test_check_command_passes(capsys):
    assert main(["check", "--cases", "2", "--batch", "5"]) == 0
    out = capsys.readouterr().out
    assert "4 of 4 cases within bounds" in out and "784-16-16-10" in out


def test_check_command_fails_when_the_engines_disagree(monkeypatch, capsys):
    from dataclasses import replace

    from microgrid import ops

    wrong = replace(ops.OPS["sigmoid"], partials=lambda x, out: (out,))  # a wrong derivative
    monkeypatch.setitem(ops.OPS, "sigmoid", wrong)
    assert main(["check", "--cases", "0", "--batch", "5"]) == 1
    assert "FAIL" in capsys.readouterr().out


def test_demo_scalar_vs_fast_agrees():
    r = subprocess.run([sys.executable, str(ROOT / "demos" / "scalar_vs_fast.py"), "--limit", "100"],
                       capture_output=True, text=True)  # fmt: skip
    assert r.returncode == 0, r.stderr
    assert "the engines agree" in r.stdout


def test_json_meta_is_plain_json(tmp_path):
    from microgrid.digits.fast import FastMLP

    path = save_model(tmp_path / "m.npz", FastMLP(4, [2]), {"note": "é"})
    with np.load(path, allow_pickle=False) as z:
        assert json.loads(str(z["meta"]))["note"] == "é"


def test_shift_images_moves_digits_and_zero_is_identity():
    from microgrid.digits.train import shift_images

    rng = np.random.default_rng(0)
    x = np.zeros((3, 784))
    x[:, 14 * 28 + 14] = 1.0  # one lit pixel in the middle
    assert np.array_equal(shift_images(x, 0, rng), x)
    moved = shift_images(x, 2, np.random.default_rng(1))
    for row in moved:
        (pos,) = np.flatnonzero(row)
        assert abs(pos // 28 - 14) <= 2 and abs(pos % 28 - 14) <= 2 and row.sum() == 1.0


def start_training(*args, cwd=None):
    """``python -m microgrid train ...`` as a process that Ctrl-C can reach (SIGINT at its default)."""
    import os
    import signal

    return subprocess.Popen(
        [sys.executable, "-m", "microgrid", "train", "--no-progress", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=cwd,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),  # a test runner may ignore it
    )


def interrupt_after(proc, prefix, wait=0.0):
    """Send SIGINT ``wait`` seconds after a stdout line starts with prefix; returns (exit code, stdout lines,
    stderr lines)."""
    import signal
    import time

    lines = []
    for line in proc.stdout:
        lines.append(line.rstrip("\n"))
        if line.startswith(prefix):
            time.sleep(wait)
            proc.send_signal(signal.SIGINT)
            break
    out, err = proc.communicate(timeout=120)
    return proc.returncode, lines + out.splitlines(), err.strip().splitlines()


def test_ctrl_c_saves_the_last_completed_epoch(tmp_path, mnist):
    out = tmp_path / "m.npz"
    proc = start_training("--arch", "784,16,10", "--epochs", "1000", "--limit", "2000", "-o", str(out))
    code, lines, errors = interrupt_after(proc, "epoch   2")
    epochs = [int(line.split()[1]) for line in lines if line.startswith("epoch")]
    assert code == 130 and len(errors) == 1, errors
    last = epochs[-1]
    assert errors[0] == f"microgrid: interrupted in epoch {last + 1}; saved the model of epoch {last} to {out}"
    model, meta = load_model(out)
    assert [h["epoch"] for h in meta["history"]] == epochs and epochs[:2] == [1, 2]
    # the weights are those of that epoch's end: they give the test accuracy it printed
    predicted = model.predict(mnist.test_images.reshape(-1, 784), input_scale=1 / 255)
    assert np.mean(predicted == mnist.test_labels) == meta["history"][-1]["test_accuracy"]
    assert [p.name for p in tmp_path.iterdir()] == ["m.npz"]

    # resuming it and pressing Ctrl-C again continues the same file
    proc = start_training("--resume", str(out), "--epochs", "1000", "-o", str(out))
    code, lines, errors = interrupt_after(proc, f"epoch {epochs[-1] + 1:3d}")
    assert code == 130 and len(errors) == 1 and errors[0].endswith(f"to {out}"), errors
    _, meta = load_model(out)
    assert [h["epoch"] for h in meta["history"]][: len(epochs) + 1] == epochs + [epochs[-1] + 1]


def test_ctrl_c_keeps_an_older_file_at_the_output_path(tmp_path):
    older = tmp_path / "m.npz"
    save_model(older, load_model(ROOT / "microgrid" / "digits" / "models" / "digits.npz")[0])
    before = older.read_bytes()
    proc = start_training("--arch", "784,16,10", "--epochs", "1000", "--limit", "2000", "-o", str(older))
    code, _, errors = interrupt_after(proc, "epoch   1")
    beside = tmp_path / "m.interrupted.npz"
    assert code == 130 and len(errors) == 1 and errors[0].endswith(f"to {beside} ({older} is kept as it was)"), errors
    assert older.read_bytes() == before and load_model(beside)[1]["history"][0]["epoch"] == 1


def test_ctrl_c_before_an_epoch_completes_saves_nothing(tmp_path):
    # an epoch of a network this wide takes seconds, so the signal lands inside it on any machine
    proc = start_training("--arch", "784,1024,1024,10", "--epochs", "1", "-o", str(tmp_path / "m.npz"))
    code, lines, errors = interrupt_after(proc, "training", wait=0.3)  # in epoch 1 (of 60,000 images)
    assert code == 130 and errors == ["microgrid: interrupted before an epoch completed; nothing saved"], errors
    assert not any(line.startswith("epoch") for line in lines) and list(tmp_path.iterdir()) == []


def _unwritable_dir(tmp_path):
    import os

    if os.geteuid() == 0:  # root writes through any mode bits; sysfs refuses new files even to root
        return Path("/sys")
    locked = tmp_path / "locked"
    locked.mkdir(mode=0o500)
    return locked


@pytest.mark.parametrize("kind", ["directory", "empty", "slash", "unwritable", "fifo"])
def test_bad_output_paths_fail_before_training(tmp_path, kind):
    import os

    os.mkfifo(tmp_path / "fifo")
    raw, message = {
        "directory": (str(tmp_path), "is a directory: expected a file name, such as"),
        "empty": ("", "'' is empty: expected a file name"),
        "slash": (f"{tmp_path}/newdir/", "ends with a slash: expected a file name, such as"),
        "unwritable": (str(_unwritable_dir(tmp_path) / "m.npz"), "cannot write in directory"),
        "fifo": (str(tmp_path / "fifo"), "exists and is not a regular file"),
    }[kind]
    r = run("train", "--epochs", "1", "--limit", "100", "--no-progress", "-o", raw)
    errors = r.stderr.strip().splitlines()
    assert r.returncode == 2 and len(errors) == 1, r.stderr
    assert errors[0].startswith(f"microgrid train: error: -o {raw!r}") and message in errors[0]
    assert "training" not in r.stdout and ".tmp" not in r.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) in (["fifo"], ["fifo", "locked"])  # nothing written


def test_arch_past_the_parameter_limit_fails_before_allocating():
    r = run("train", "--arch", "784,1000000000,10", "--no-progress")
    assert r.returncode == 2 and "Traceback" not in r.stderr and "training" not in r.stdout
    assert r.stderr.strip() == (
        "microgrid train: error: sizes 784-1000000000-10 give 795,000,000,010 weights and biases, "
        "more than the limit of 50,000,000"
    )
    assert "50,000,000" in run("train", "--help").stdout  # the help states the limit


def test_show_activations_takes_its_image_after_the_options(tmp_path):
    """The image may come after --model (argparse alone would call it an unrecognized argument)."""
    model = ROOT / "microgrid" / "digits" / "models" / "notes.npz"
    out = tmp_path / "a.png"
    r = run("show", "activations", "--model", str(model), "-o", str(out), str(ROOT / "demos" / "digits" / "5.png"))
    assert r.returncode == 0, r.stderr
    assert out.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    r = run("show", "weights", "--model", str(model), "extra1", "extra2")
    assert r.returncode == 2 and "unrecognized arguments: extra1 extra2" in r.stderr
