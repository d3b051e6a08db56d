"""IDX reading, the bundled MNIST and its checksums, clear errors for bad files."""

import gzip
import hashlib

import numpy as np
import pytest
from memory import peak_mb

from microgrid.digits import data
from microgrid.digits.data import DataError, load_mnist, one_hot, read_idx, to_inputs


def write_idx(path, array, magic=None, gz=False, cut=0):
    array = np.asarray(array, dtype=np.uint8)
    magic = magic if magic is not None else (0x0803 if array.ndim == 3 else 0x0801)
    raw = magic.to_bytes(4, "big") + b"".join(d.to_bytes(4, "big") for d in array.shape) + array.tobytes()
    raw = raw[: len(raw) - cut] if cut else raw
    if gz:
        with gzip.open(path, "wb") as f:
            f.write(raw)
    else:
        path.write_bytes(raw)
    return path


def make_set(directory, n_train=5, n_test=3, gz=False):
    rng = np.random.default_rng(0)
    suffix = ".gz" if gz else ""
    write_idx(directory / f"train-images-idx3-ubyte{suffix}", rng.integers(0, 256, (n_train, 28, 28)), gz=gz)
    write_idx(directory / f"train-labels-idx1-ubyte{suffix}", rng.integers(0, 10, n_train), gz=gz)
    write_idx(directory / f"t10k-images-idx3-ubyte{suffix}", rng.integers(0, 256, (n_test, 28, 28)), gz=gz)
    write_idx(directory / f"t10k-labels-idx1-ubyte{suffix}", rng.integers(0, 10, n_test), gz=gz)


def test_bundled_mnist_shapes_and_checksums():
    d = load_mnist()
    assert d.train_images.shape == (60000, 28, 28) and d.train_images.dtype == np.uint8
    assert d.test_images.shape == (10000, 28, 28) and d.test_labels.shape == (10000,)
    assert set(np.unique(d.train_labels)) == set(range(10))
    for name, digest in data.MNIST_SHA256.items():
        raw = gzip.open(data.BUNDLED_MNIST / f"{name}.gz").read()
        assert hashlib.sha256(raw).hexdigest() == digest


def test_unpacks_and_validation_split():
    train_x, train_y, test_x, test_y = load_mnist()
    d = load_mnist(validation=10000)
    assert d.train_images.shape[0] == 50000 and d.validation_images.shape[0] == 10000
    assert np.array_equal(d.validation_labels, train_y[50000:])
    with pytest.raises(ValueError, match="validation"):
        load_mnist(validation=60000)


@pytest.mark.parametrize("gz", [False, True])
def test_any_directory_of_idx_files(tmp_path, gz):
    make_set(tmp_path, gz=gz)
    d = load_mnist(tmp_path)
    assert d.train_images.shape == (5, 28, 28) and d.test_labels.shape == (3,)


def test_fashion_mnist_if_installed():
    from pathlib import Path

    root = Path("/usr/share/datasets/fashion-mnist")
    if not root.is_dir():
        pytest.skip("Debian's dataset-fashion-mnist is not installed (apt-get install dataset-fashion-mnist)")
    d = load_mnist(root)
    assert d.train_images.shape == (60000, 28, 28)


def test_wrong_magic_names_the_file(tmp_path):
    make_set(tmp_path)
    write_idx(tmp_path / "train-labels-idx1-ubyte", np.zeros((5, 28, 28)), magic=0x0803)
    with pytest.raises(DataError, match=r"train-labels-idx1-ubyte: wrong magic number 0x00000803, expected 0x00000801"):
        load_mnist(tmp_path)


def test_truncated_file(tmp_path):
    make_set(tmp_path)
    write_idx(tmp_path / "t10k-images-idx3-ubyte", np.zeros((3, 28, 28)), cut=10)
    with pytest.raises(DataError, match=r"t10k-images-idx3-ubyte: truncated: .*2352 data bytes, found 2342"):
        load_mnist(tmp_path)


def test_count_mismatch(tmp_path):
    make_set(tmp_path)
    write_idx(tmp_path / "train-labels-idx1-ubyte", np.zeros(4))
    with pytest.raises(DataError, match="5 images but .*train-labels-idx1-ubyte holds 4 labels"):
        load_mnist(tmp_path)


def test_missing_file_and_directory(tmp_path):
    make_set(tmp_path)
    (tmp_path / "t10k-labels-idx1-ubyte").unlink()
    with pytest.raises(DataError, match="t10k-labels-idx1-ubyte: no such file"):
        load_mnist(tmp_path)
    with pytest.raises(DataError, match="no such directory"):
        load_mnist(tmp_path / "nope")


def test_bad_gzip(tmp_path):
    (tmp_path / "x.gz").write_bytes(b"not gzip at all")
    with pytest.raises(DataError, match="x.gz: cannot be read"):
        read_idx(tmp_path / "x.gz")


def test_checksum_mismatch_on_bundled_data(tmp_path, monkeypatch):
    fake = tmp_path / "mnist"
    fake.mkdir()
    make_set(fake, gz=True)
    monkeypatch.setattr(data, "BUNDLED_MNIST", fake)
    monkeypatch.setattr(data, "_verified", set())
    with pytest.raises(DataError, match="checksum mismatch"):
        load_mnist()


def test_to_inputs_and_one_hot():
    images = np.array([[[0, 255], [51, 102]]], dtype=np.uint8)
    x = to_inputs(images)
    assert x.shape == (1, 4) and x.dtype == np.float64
    assert x.tolist() == [[0.0, 1.0, 0.2, 0.4]]
    assert to_inputs(images, np.float32).dtype == np.float32
    assert one_hot(np.array([2, 0]), 3).tolist() == [[0, 0, 1], [1, 0, 0]]
    with pytest.raises(ValueError, match="labels must be in"):
        one_hot(np.array([3]), 3)


def _gzip_zeros(path, head, nbytes):
    """``head`` then ``nbytes`` zero bytes, gzipped (about 1 MB on disk per GB)."""
    with gzip.open(path, "wb", compresslevel=1) as f:
        f.write(head)
        chunk = bytes(2**22)
        for start in range(0, nbytes, len(chunk)):
            f.write(chunk[: min(len(chunk), nbytes - start)])
    return path


def test_gzip_bomb_with_a_wrong_magic_is_refused_from_its_first_bytes(tmp_path):
    bomb = _gzip_zeros(tmp_path / "train-images-idx3-ubyte.gz", b"", 2**28)  # 256 MiB of zeros
    assert bomb.stat().st_size < 2 * 2**20

    def read():
        with pytest.raises(DataError, match=r"train-images-idx3-ubyte.gz: wrong magic number 0x00000000"):
            read_idx(bomb, 0x0803)

    assert peak_mb(read) < 16


def test_idx_reads_no_more_than_its_header_declares(tmp_path):
    head = (0x0803).to_bytes(4, "big") + b"".join(d.to_bytes(4, "big") for d in (2, 28, 28))
    padded = _gzip_zeros(tmp_path / "padded.gz", head, 2 * 784 + 2**28)

    def read():
        with pytest.raises(DataError, match=r"padded.gz: too long: header \(2, 28, 28\) needs 1568 data bytes"):
            read_idx(padded, 0x0803)

    assert peak_mb(read) < 16
    raw = tmp_path / "padded"
    raw.write_bytes(head)
    with raw.open("r+b") as f:
        f.truncate(len(head) + 2**30)  # 1 GiB of zeros, sparse: nothing on disk

    def read_raw():
        with pytest.raises(DataError, match=r"padded: too long: header \(2, 28, 28\) needs 1568 data bytes, found 10"):
            read_idx(raw, 0x0803)

    assert peak_mb(read_raw) < 16


@pytest.mark.parametrize("gz", [False, True])
def test_idx_header_declaring_more_than_the_limit(tmp_path, gz):
    dims = (2**31, 28, 28)
    head = (0x0803).to_bytes(4, "big") + b"".join(d.to_bytes(4, "big") for d in dims) + bytes(100)
    path = tmp_path / ("huge.gz" if gz else "huge")
    if gz:
        _gzip_zeros(path, head, 0)
    else:
        path.write_bytes(head)
    expected = rf"huge{'.gz' if gz else ''}: header \(2147483648, 28, 28\) declares 1,683,627,180,032 data bytes, "
    with pytest.raises(DataError, match=expected + r"more than the limit of 2,147,483,648"):
        read_idx(path, 0x0803)
