"""Every bad input of issue 13 (item 4), run as a user runs it: exit code 2, one line on
stderr naming the value, no traceback, and nothing trained or written before the error."""

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from microgrid.digits.data import load_mnist
from microgrid.digits.fast import FastMLP
from microgrid.digits.model_file import save_model

ROOT = Path(__file__).resolve().parents[1]
DIGIT = str(ROOT / "demos" / "digits" / "7.png")
# argv longer than the kernel's 128 kB per argument goes through stdin to the same main()
RUNNER = "import json, sys; from microgrid.app.cli import main; sys.exit(main(json.load(sys.stdin)))"


def write_idx(path, array):
    array = np.asarray(array, dtype=np.uint8)
    magic = 0x0803 if array.ndim == 3 else 0x0801
    path.write_bytes(magic.to_bytes(4, "big") + b"".join(d.to_bytes(4, "big") for d in array.shape) + array.tobytes())


def idx_set(directory, train_images, train_labels, test_images, test_labels):
    directory.mkdir()
    write_idx(directory / "train-images-idx3-ubyte", train_images)
    write_idx(directory / "train-labels-idx1-ubyte", train_labels)
    write_idx(directory / "t10k-images-idx3-ubyte", test_images)
    write_idx(directory / "t10k-labels-idx1-ubyte", test_labels)
    return directory


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    """The bad data sets and model files the cases name, built once."""
    tmp = tmp_path_factory.mktemp("bad")
    mnist = load_mnist()
    images, labels = mnist.train_images[:60], mnist.train_labels[:60]
    labels_255 = labels[40:].copy()
    labels_255[3] = 255
    paths = {
        "no_train": idx_set(tmp / "no_train", images[:0], labels[:0], images[40:], labels[40:]),
        "no_test": idx_set(tmp / "no_test", images[:40], labels[:40], images[:0], labels[:0]),
        "labels_255": idx_set(tmp / "labels_255", images[:40], labels[:40], images[40:], labels_255),
        "small": idx_set(tmp / "small", images[:40, 4:24, 4:24], labels[:40], images[40:, 4:24, 4:24], labels[40:]),
        "mixed": idx_set(tmp / "mixed", images[:40], labels[:40], images[40:, 4:24, 4:24], labels[40:]),
    }
    np.save(tmp / "some.npy", np.zeros((3, 3)))
    paths["npy"] = tmp / "some.npy"
    for name, meta in (("meta_5", 5), ("meta_list", [1, 2])):
        np.savez(tmp / f"{name}.npz", meta=np.array(json.dumps(meta)))
        paths[name] = tmp / f"{name}.npz"
    model = FastMLP(784, [16, 16, 10], seed=0)
    good = save_model(tmp / "good.npz", model, {"history": [], "config": {}})
    # save_model refuses bad metadata, so these are written by hand (the weights' checksum stays valid)
    paths["history"] = with_meta(good, tmp / "history.npz", history=[{}])
    paths["config"] = with_meta(good, tmp / "config.npz", config={"batch_size": "x"})
    return paths


def with_meta(path, out, **changes):
    """A copy of model file ``path`` with some meta fields replaced."""
    with np.load(path) as archive:
        arrays = dict(archive)
    meta = {**json.loads(str(arrays["meta"])), **changes}
    np.savez(out, **{**arrays, "meta": np.array(json.dumps(meta))})
    return out


def expression_terms(n):
    return "+".join(["x"] * n)


# (id, argv, what stderr must say); "{name}" is replaced by the path of files[name]
CASES = [
    ("draw 1/0", ["draw", "expr", "1/0"], ["division by zero", "'1 / 0'"]),
    ("draw 1/x at x=0", ["draw", "expr", "1/x", "--set", "x=0"], ["division by zero", "'1 / x'", "'x' is 0"]),
    ("draw 0**-1", ["draw", "expr", "0**-1"], ["'0 ** (-1)'", "negative power"]),
    ("draw 300 hex digits", ["draw", "expr", "0x" + "f" * 300], ["0xffffffffff", "(302 characters) is too large"]),
    (
        "draw 100,000 terms",
        ["draw", "expr", expression_terms(100_000), "--set", "x=1"],
        ["100000 values", "max_nodes=500"],
    ),
    (
        "draw 100,000 terms with a bad end",
        ["draw", "expr", expression_terms(100_000) + ".y", "--set", "x=1"],
        ["attribute access not allowed", "at character 200000"],
    ),
    ("train --arch 784,-16,10", ["train", "--arch", "784,-16,10"], ["'784,-16,10'", "positive whole numbers"]),
    ("train --limit 100000000", ["train", "--limit", "100000000"], ["--limit 100000000", "60,000 training images"]),
    ("check --batch 5000", ["check", "--batch", "5000"], ["--batch 5000", "at most 3,000"]),
    ("train --seed -1", ["train", "--seed", "-1"], ["--seed", "got -1"]),
    ("train 0 training images", ["train", "--data", "{no_train}"], ["no_train has no training images"]),
    ("train 0 test images", ["train", "--data", "{no_test}"], ["no_test has no test images"]),
    ("train test label 255", ["train", "--data", "{labels_255}"], ["test labels", "from 0 to 255", "10 neurons"]),
    ("train 20x20 images", ["train", "--data", "{small}"], ["training images", "20x20 = 400 pixels", "784"]),
    ("train 20x20 test images", ["train", "--data", "{mixed}"], ["test images", "20x20 = 400 pixels", "784"]),
    pytest.param("predict --model some.npy", ["predict", "--model", "{npy}", DIGIT], ["some.npy"]),
    pytest.param("predict meta 5", ["predict", "--model", "{meta_5}", DIGIT], ["meta_5.npz"]),
    pytest.param("predict meta [1,2]", ["predict", "--model", "{meta_list}", DIGIT], ["meta_list.npz"]),
    pytest.param("train --resume history [{}]", ["train", "--resume", "{history}"], ["history.npz"]),
    pytest.param("show curves history [{}]", ["show", "curves", "--model", "{history}"], ["history.npz"]),
    pytest.param("train --resume batch_size 'x'", ["train", "--resume", "{config}"], ["batch_size", "'x'"]),
]


PARAMS = [
    case if hasattr(case, "values") else pytest.param(*case, id=case[0]) for case in CASES
]  # fmt: skip
PARAMS = [pytest.param(*p.values, id=p.id or p.values[0], marks=p.marks) for p in PARAMS]


@pytest.mark.parametrize("name,argv,messages", PARAMS)
def test_bad_input_is_one_line_naming_the_value(name, argv, messages, files, tmp_path):
    argv = [arg.format(**{k: str(v) for k, v in files.items()}) if "{" in arg else arg for arg in argv]
    if argv[0] == "train":
        argv += ["--no-progress", "--epochs", "1", "-o", str(tmp_path / "out.npz")]
    env = {"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin", "MPLBACKEND": "Agg"}
    if sum(map(len, argv)) > 100_000:
        command, stdin = [sys.executable, "-c", RUNNER], json.dumps(argv)
    else:
        command, stdin = [sys.executable, "-m", "microgrid", *argv], None
    done = subprocess.run(command, input=stdin, capture_output=True, text=True, cwd=tmp_path, env=env, timeout=300)
    assert done.returncode == 2, (done.returncode, done.stderr[-3000:])
    assert "Traceback" not in done.stderr
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1, done.stderr[-3000:]
    assert len(lines[0]) < 400, lines[0]  # no long echo of the input
    for message in messages:
        assert message in lines[0]
    assert "training " not in done.stdout  # refused before training starts
    assert not (tmp_path / "out.npz").exists()
