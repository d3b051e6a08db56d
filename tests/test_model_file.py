"""Model files against hostile and damaged inputs: bounded reads, clear errors, one line from the CLI."""

import json
import subprocess
import sys
import zipfile
from pathlib import Path

import numpy as np
import pytest
from memory import peak_mb

from microgrid.digits.fast import FastMLP
from microgrid.digits.model_file import ModelFileError, load_model, save_model, weights_digest

ROOT = Path(__file__).resolve().parents[1]
ROW = {"epoch": 1, "loss": 0.5, "train_accuracy": 0.9, "test_accuracy": 0.8, "seconds": 1.0}


def run(*args):
    return subprocess.run([sys.executable, "-m", "microgrid", *args], capture_output=True, text=True)


def one_line_error(r, *needles):
    """exit 2, exactly one line on stderr, no traceback, naming every needle."""
    lines = r.stderr.strip().splitlines()
    assert r.returncode == 2 and len(lines) == 1 and "Traceback" not in r.stderr, r.stderr
    assert all(n in lines[0] for n in needles), lines[0]


def saved(tmp_path, sizes=(784, 8, 10), **meta):
    net = FastMLP(sizes[0], list(sizes[1:]), "relu", "linear", seed=1, dtype=np.float32)
    config = {"sizes": list(sizes), "activation": "relu", "output_activation": "linear", "loss": "cross_entropy"}
    return save_model(tmp_path / "m.npz", net, {"history": [ROW], "config": config, **meta})


def rewrite(path, out, meta_changes=None, **arrays_changes):
    """A copy of model file ``path`` with meta fields and arrays replaced (checksum untouched)."""
    with np.load(path) as z:
        arrays = dict(z)
    meta = json.loads(str(arrays["meta"]))
    meta.update(meta_changes or {})
    arrays.update(arrays_changes)
    arrays["meta"] = np.array(json.dumps(meta))
    np.savez(out, **arrays)
    return out


def with_member(path, out, name, header, nbytes):
    """A copy of ``path`` plus member ``name``: a .npy ``header``, then ``nbytes`` zeros deflated (small on disk)."""
    with zipfile.ZipFile(path) as src, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as dst:
        for info in src.infolist():
            if info.filename != name:
                dst.writestr(info.filename, src.read(info.filename))
        with dst.open(name, "w", force_zip64=True) as f:
            np.lib.format.write_array_header_1_0(f, header)
            chunk = bytes(2**22)
            for start in range(0, nbytes, len(chunk)):
                f.write(chunk[: min(len(chunk), nbytes - start)])
    return out


def test_unknown_member_is_refused_without_reading_it(tmp_path):
    big = with_member(saved(tmp_path), tmp_path / "big.npz", "zeros.npy", {"descr": "<f8", "fortran_order": False,
                      "shape": (2**25,)}, 2**28)  # fmt: skip
    assert big.stat().st_size < 2 * 2**20  # 256 MiB of zeros inside, under 2 MB on disk

    def load():
        with pytest.raises(ModelFileError, match=r"big.npz: .*unknown members 'zeros.npy'"):
            load_model(big)

    assert peak_mb(load) < 16


def test_weight_member_header_is_checked_before_its_data(tmp_path):
    path = saved(tmp_path)
    header = {"descr": "<f4", "fortran_order": False, "shape": (10**8,)}
    bad = with_member(path, tmp_path / "w1.npz", "W1.npy", header, 4 * 10**8)

    def load():
        with pytest.raises(ModelFileError, match=r"w1.npz: W1 should have shape \(8, 784\), found \(100000000,\)"):
            load_model(bad)

    assert peak_mb(load) < 16
    header = {"descr": "<f8", "fortran_order": False, "shape": (8, 784)}
    wrong_dtype = with_member(path, tmp_path / "f8.npz", "W1.npy", header, 8 * 8 * 784)
    with pytest.raises(ModelFileError, match="W1 has dtype float64, expected float32"):
        load_model(wrong_dtype)
    header = {"descr": "<f4", "fortran_order": False, "shape": (8, 784)}
    short = with_member(path, tmp_path / "short.npz", "W1.npy", header, 100)
    with pytest.raises(ModelFileError, match="W1 holds 100 data bytes, its header says 25,088"):
        load_model(short)


@pytest.mark.parametrize(
    "sizes,message",
    [
        (
            [1e6, 1e6, 10],
            "1000000-1000000-10 give 1,000,011,000,010 weights and biases, more than the limit of 50,000,000",
        ),
        ([784] + [1] * 200 + [10], "give 201 layers, more than the limit of 100"),
        ([784, -16, 10], "positive ints, got -16"),
        ([784, 16.5, 10], "positive ints, got 16.5"),
        ("784-16-10", "meta.sizes is '784-16-10', expected a list"),
    ],
)
def test_architecture_in_meta_is_bounded_before_allocating(tmp_path, sizes, message):
    path = rewrite(saved(tmp_path), tmp_path / "sizes.npz", {"sizes": sizes})
    with pytest.raises(ModelFileError, match=r"sizes.npz: bad model metadata: ") as err:
        load_model(path)
    assert message in str(err.value)


@pytest.mark.parametrize(
    "change,message",
    [
        ({"history": [{}]}, "history[0] is {}: it lacks epoch, loss"),
        ({"history": 5}, "history is 5, expected a list"),
        ({"history": [ROW, ROW]}, "history[1].epoch is 1, expected a whole number above 1"),
        ({"history": [{**ROW, "loss": "x"}]}, "history[0].loss is 'x', expected a number"),
        ({"config": {"batch_size": "x"}}, "config.batch_size is 'x', expected int"),
        ({"config": {"lr": [1]}}, "config.lr is [1], expected float"),
        ({"config": {"limit": True}}, "config.limit is True, expected int | None"),
        ({"config": 5}, "config is 5, expected an object"),
        ({"dtype": "int8"}, "dtype is 'int8', expected float32 or float64"),
        ({"activation": 3}, "activation is 3, expected a string"),
    ],
)
def test_meta_fields_of_the_wrong_type_are_named(tmp_path, change, message):
    path = rewrite(saved(tmp_path), tmp_path / "meta.npz", change)
    with pytest.raises(ModelFileError, match="meta.npz: bad model metadata") as err:
        load_model(path)
    assert message in str(err.value)


@pytest.mark.parametrize("meta", [5, [1, 2], "x", None])
def test_meta_that_is_not_an_object(tmp_path, meta):
    path = saved(tmp_path)
    with np.load(path) as z:
        arrays = dict(z)
    arrays["meta"] = np.array(json.dumps(meta))
    np.savez(tmp_path / "m5.npz", **arrays)
    with pytest.raises(ModelFileError, match=r"m5.npz: not a microgrid model file \(its meta is ") as err:
        load_model(tmp_path / "m5.npz")
    assert json.dumps(meta) in str(err.value)


def nan_model(tmp_path, value=np.nan):
    """A model file whose W2 holds one non-finite number, with a checksum that matches it."""
    path = saved(tmp_path)
    net, meta = load_model(path)
    net.weights[1].data[3, 4] = value
    meta["weights_sha256"] = weights_digest(net)
    arrays = {p.name: p.data for p in net.parameters()}
    np.savez(tmp_path / "nan.npz", meta=np.array(json.dumps(meta)), **arrays)
    return tmp_path / "nan.npz"


@pytest.mark.parametrize("value", [np.nan, np.inf, -np.inf])
def test_non_finite_weights_are_refused_at_load_and_at_save(tmp_path, value):
    with pytest.raises(ModelFileError, match="nan.npz: W2 holds 1 NaN or infinite values of 80"):
        load_model(nan_model(tmp_path, value))
    net = FastMLP(4, [3], seed=0)
    net.biases[0].data[1] = value
    with pytest.raises(ModelFileError, match="not saved: b1 holds 1 NaN or infinite"):
        save_model(tmp_path / "x.npz", net)
    assert not (tmp_path / "x.npz").exists()


def test_fortran_and_big_endian_members_load_exactly(tmp_path):
    path = saved(tmp_path)
    net, _ = load_model(path)
    w1 = net.weights[0].data
    be = rewrite(path, tmp_path / "be.npz", W1=np.asfortranarray(w1).astype(">f4"))
    again, _ = load_model(be)
    assert np.array_equal(again.weights[0].data, w1)


def test_cli_one_line_for_bad_model_files(tmp_path):
    seven = str(ROOT / "demos" / "digits" / "7.png")
    np.save(tmp_path / "some.npy", np.zeros(3))
    path = saved(tmp_path)
    one_line_error(run("predict", "--model", str(tmp_path / "some.npy"), seven), "some.npy", "not a microgrid model")
    for meta in (5, [1, 2]):
        with np.load(path) as z:
            arrays = {**dict(z), "meta": np.array(json.dumps(meta))}
        np.savez(tmp_path / "m5.npz", **arrays)
        one_line_error(run("predict", "--model", str(tmp_path / "m5.npz"), seven), "m5.npz", json.dumps(meta))
    empty_row = rewrite(path, tmp_path / "h.npz", {"history": [{}]})
    one_line_error(run("train", "--resume", str(empty_row), "--epochs", "1", "-o", str(tmp_path / "o.npz")),
                   "h.npz", "history[0] is {}")  # fmt: skip
    one_line_error(run("show", "curves", "--model", str(empty_row), "-o", str(tmp_path / "c.png")),
                   "h.npz", "history[0] is {}")  # fmt: skip
    bad_config = rewrite(path, tmp_path / "c.npz", {"config": {"batch_size": "x"}})
    one_line_error(run("train", "--resume", str(bad_config), "--epochs", "1", "-o", str(tmp_path / "o.npz")),
                   "c.npz", "config.batch_size is 'x'")  # fmt: skip
    one_line_error(run("train", "--resume", str(nan_model(tmp_path)), "--epochs", "1", "-o", str(tmp_path / "o.npz")),
                   "nan.npz", "W2 holds 1 NaN")  # fmt: skip
    one_line_error(run("predict", "--model", str(nan_model(tmp_path)), seven), "nan.npz", "NaN")
    assert not (tmp_path / "o.npz").exists() and not (tmp_path / "c.png").exists()
