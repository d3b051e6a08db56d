"""The digit reader and the pictures: as a user runs them, against MNIST's own labels."""

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from microgrid.digits.data import load_mnist, to_inputs
from microgrid.digits.predict import DEFAULT_MODEL, ImageError, default_model, load_image, prepare, read_digit

Image = pytest.importorskip("PIL.Image", reason="reading pictures needs Pillow: pip install 'microgrid[image]'")
ImageDraw = pytest.importorskip("PIL.ImageDraw")
ROOT = Path(__file__).resolve().parents[1]


def run(*args, cwd=None):
    return subprocess.run([sys.executable, "-m", "microgrid", *args], capture_output=True, text=True, cwd=cwd)


@pytest.fixture(scope="module")
def mnist():
    return load_mnist()


def test_prepare_remakes_mnist_digits_faithfully(mnist):
    model, _ = default_model()
    raw = mnist.test_images[:300]
    prepared = np.array([prepare(image.astype(float)) for image in raw])
    exact = sum(np.array_equal(p, r / 255.0) for p, r in zip(prepared, raw))
    assert exact > 150  # most come back pixel for pixel; the rest move by a pixel or rescale slightly
    same = (model.predict(prepared.reshape(-1, 784)) == model.predict(to_inputs(raw))).mean()
    assert same >= 0.98


def test_two_hundred_resized_digits_either_polarity_read_at_least_97_percent(mnist, tmp_path):
    rng = np.random.default_rng(0)
    picks = rng.choice(len(mnist.test_images), 200, replace=False)
    right = 0
    model, meta = default_model()
    for k, i in enumerate(picks):
        image = mnist.test_images[i] if k % 2 == 0 else 255 - mnist.test_images[i]  # half black-on-white
        size = int(rng.integers(28, 281))
        path = tmp_path / f"{k}.png"
        Image.fromarray(image).resize((size, size), Image.Resampling.BICUBIC).save(path)
        right += read_digit(path, model, meta).digit == mnist.test_labels[i]
    assert right / 200 >= 0.97


def draw(kind, size=(400, 440), mode="RGB"):
    background = (0, 0, 0, 0) if mode == "RGBA" else "white"
    image = Image.new(mode, size, background)
    pen = ImageDraw.Draw(image)
    if kind == 7:
        pen.line([(80, 60), (320, 60)], fill="black", width=28)
        pen.line([(320, 60), (170, 380)], fill="black", width=28)
    elif kind == 0:
        pen.ellipse([(110, 50), (290, 370)], outline="black", width=28)
    elif kind == 1:
        pen.line([(200, 50), (200, 380)], fill="black", width=28)
    elif kind == 4:
        pen.line([(230, 50), (90, 260)], fill="black", width=26)
        pen.line([(90, 260), (310, 260)], fill="black", width=26)
        pen.line([(240, 140), (240, 390)], fill="black", width=26)
    return image


@pytest.mark.parametrize("digit", [0, 1, 4, 7])
@pytest.mark.parametrize("fmt,mode", [("png", "RGB"), ("png", "RGBA"), ("jpg", "RGB"), ("bmp", "RGB"), ("gif", "RGB")])
def test_digits_drawn_in_a_paint_program(tmp_path, digit, fmt, mode):
    path = tmp_path / f"d.{fmt}"
    draw(digit, mode=mode).save(path)
    assert read_digit(path).digit == digit


def _arc(cx, cy, r, start, stop, ry=None, steps=30):
    import math

    ry = ry or r
    return [
        (cx + r * math.cos(math.radians(start + (stop - start) * i / steps)),
         cy + ry * math.sin(math.radians(start + (stop - start) * i / steps)))
        for i in range(steps + 1)
    ]  # fmt: skip


CURVED = {
    2: [_arc(200, 140, 90, 200, 380) + [(110, 380), (300, 380)]],
    3: [_arc(195, 130, 85, 210, 450), _arc(195, 300, 95, 270, 510)],
    5: [[(290, 60), (130, 60), (120, 200)] + _arc(200, 280, 95, 220, 500)],
    6: [[(270, 50)] + _arc(200, 290, 90, 250, 610)],
    8: [_arc(200, 130, 70, 0, 360), _arc(200, 300, 90, 0, 360)],
    9: [_arc(200, 140, 80, 0, 360), [(280, 140), (270, 390)]],
}


@pytest.mark.parametrize("digit", sorted(CURVED))
def test_curved_digits_drawn_with_a_thick_pen(tmp_path, digit):
    image = Image.new("RGB", (400, 440), "white")
    pen = ImageDraw.Draw(image)
    for stroke in CURVED[digit]:
        pen.line(stroke, fill="black", width=26, joint="curve")
    image.save(tmp_path / "digit.png")
    assert read_digit(tmp_path / "digit.png").digit == digit


def test_pgm_and_npy_and_arrays(tmp_path, mnist):
    image = mnist.test_images[0]
    Image.fromarray(image).save(tmp_path / "d.pgm")
    np.save(tmp_path / "d.npy", image)
    label = mnist.test_labels[0]
    assert read_digit(tmp_path / "d.pgm").digit == label
    assert read_digit(tmp_path / "d.npy").digit == label
    assert read_digit(image / 255.0).digit == label
    colour = np.stack([255 - image] * 3, axis=-1)  # black ink on white, RGB
    assert read_digit(colour).digit == label


def test_prediction_matches_the_model_on_mnist(mnist):
    model, meta = default_model()
    x = np.array([prepare(image.astype(float)) for image in mnist.test_images[:20]]).reshape(20, 784)
    expected = model(x.astype(model.dtype))
    for i in range(20):
        p = read_digit(mnist.test_images[i], model, meta)
        assert p.digit == int(expected[i].argmax())
        # float32 logits of size ~10 carry ~1e-6 of rounding, whichever BLAS routine computed them
        assert np.allclose(p.activations, expected[i], rtol=1e-5, atol=1e-5)
        assert abs(sum(p.probabilities) - 1.0) < 1e-9


def test_bundled_model_records_how_it_was_made():
    _, meta = default_model()
    assert meta["command"].startswith("python -m microgrid train --preset best")
    assert meta["data"]["sha256"]["train-images-idx3-ubyte"].startswith("ba891046")
    assert meta["history"][-1]["test_accuracy"] >= 0.98


def test_bad_pictures(tmp_path):
    (tmp_path / "text.png").write_text("not an image")
    with pytest.raises(ImageError, match="not an image"):
        load_image(tmp_path / "text.png")
    with pytest.raises(ImageError, match="no such file"):
        load_image(tmp_path / "missing.png")
    Image.new("L", (50, 50), 200).save(tmp_path / "flat.png")
    with pytest.raises(ImageError, match="all one colour"):
        read_digit(tmp_path / "flat.png")
    with pytest.raises(ImageError, match="empty"):
        prepare(np.zeros((0, 0)))
    with pytest.raises(ImageError, match="shape"):
        read_digit(np.zeros((2, 3, 4, 5)))


def test_cli_predict_reads_all_images_and_reports_bad_ones(tmp_path):
    draw(7).save(tmp_path / "seven.png")
    draw(1).save(tmp_path / "one.jpg")
    (tmp_path / "bad.png").write_text("no")
    r = run(
        "predict",
        str(tmp_path / "seven.png"),
        str(tmp_path / "bad.png"),
        str(tmp_path / "nope.png"),
        str(tmp_path / "one.jpg"),
    )
    assert r.returncode == 1
    assert "seven.png: 7" in r.stdout and "one.jpg: 1" in r.stdout
    errors = r.stderr.strip().splitlines()
    assert len(errors) == 2 and "bad.png" in errors[0] and "nope.png" in errors[1]
    assert "Traceback" not in r.stderr


def test_cli_predict_json(tmp_path):
    draw(0).save(tmp_path / "zero.png")
    r = run("predict", "--json", str(tmp_path / "zero.png"))
    assert r.returncode == 0, r.stderr
    obj = json.loads(r.stdout)
    assert obj["digit"] == 0 and len(obj["activations"]) == 10


def test_cli_predict_refuses_foreign_or_tampered_models(tmp_path):
    draw(7).save(tmp_path / "seven.png")
    np.savez(tmp_path / "foreign.npz", a=np.zeros(3))
    with np.load(DEFAULT_MODEL) as z:
        arrays = dict(z)
    arrays["W1"] = arrays["W1"] * 1.01
    np.savez(tmp_path / "tampered.npz", **arrays)
    for name, message in [("foreign.npz", "not a microgrid model"), ("tampered.npz", "checksum")]:
        r = run("predict", "--model", str(tmp_path / name), str(tmp_path / "seven.png"))
        assert r.returncode == 2 and message in r.stderr and "Traceback" not in r.stderr


def _png_stats(path):
    image = np.asarray(Image.open(path).convert("L"), dtype=float)
    return image.shape, image.std()


@pytest.mark.parametrize(
    "args,default_name,min_size",
    [
        (["show", "weights"], "weights.png", (600, 600)),
        (["show", "curves"], "curves.png", (300, 800)),
        (["show", "confusion"], "confusion.png", (500, 600)),
        (["show", "mistakes"], "mistakes.png", (300, 600)),
    ],
)
def test_show_writes_non_blank_pictures(tmp_path, args, default_name, min_size):
    pytest.importorskip("matplotlib", reason="show needs matplotlib: pip install 'microgrid[viz]'")
    r = run(*args, cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    assert f"wrote {default_name}" in r.stdout
    shape, spread = _png_stats(tmp_path / default_name)
    assert shape[0] >= min_size[0] and shape[1] >= min_size[1]
    assert spread > 10  # not a blank page


def test_show_activations_and_errors(tmp_path):
    pytest.importorskip("matplotlib", reason="show needs matplotlib: pip install 'microgrid[viz]'")
    draw(4).save(tmp_path / "four.png")
    r = run("show", "activations", str(tmp_path / "four.png"), "-o", str(tmp_path / "a.png"))
    assert r.returncode == 0, r.stderr
    assert _png_stats(tmp_path / "a.png")[1] > 10
    r = run("show", "activations", cwd=tmp_path)
    assert r.returncode == 2 and "needs an IMAGE" in r.stderr
    r = run("show", "weights", "-o", str(tmp_path / "no" / "w.png"))
    assert r.returncode == 2 and "does not exist" in r.stderr


def test_viz_api_returns_figures(mnist):
    pytest.importorskip("matplotlib", reason="viz needs matplotlib: pip install 'microgrid[viz]'")
    from matplotlib.figure import Figure

    from microgrid.pictures import figures as viz

    model, meta = default_model()
    assert isinstance(viz.plot_weights(model), Figure)
    assert isinstance(viz.plot_curves(meta), Figure)
    assert isinstance(viz.plot_activations(model, mnist.test_images[0] / 255.0), Figure)


def _png_claiming(path, width, height):
    """A PNG whose header claims width x height greyscale pixels, with almost no data (74 bytes)."""
    import struct
    import zlib

    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(b"\0" * 100)))
    return path


def test_pictures_past_the_pixel_limit_are_refused_from_their_header(tmp_path):
    big = tmp_path / "big.png"
    Image.new("L", (8000, 8000), 255).save(big, compress_level=1)  # 64 megapixels, a real PNG
    code = (  # peak memory of this process alone (VmHWM: ru_maxrss would count the forking parent's)
        "import re, sys\nfrom microgrid.digits.predict import ImageError, load_image\n"
        "try:\n    load_image(sys.argv[1])\nexcept ImageError as err:\n    print(err)\n"
        "status = open('/proc/self/status').read()\n"
        "print(int(re.search(r'VmHWM:\\s*(\\d+) kB', status).group(1)) // 1024)"
    )
    r = subprocess.run([sys.executable, "-c", code, str(big)], capture_output=True, text=True)
    message, peak_mb = r.stdout.splitlines()
    assert message.endswith("big.png: 8000x8000: 64,000,000 pixels, more than the limit of 50,000,000")
    assert int(peak_mb) < 150  # decoding it takes 64 MB more, and converting it 512 MB more
    with pytest.raises(ImageError, match=r"10,000,000,000 pixels, more than the limit of 50,000,000"):
        load_image(_png_claiming(tmp_path / "claims.png", 100_000, 100_000))
    with open(tmp_path / "claims.npy", "wb") as f:
        np.lib.format.write_array_header_1_0(f, {"descr": "<f8", "fortran_order": False, "shape": (100_000, 100_000)})
    with pytest.raises(ImageError, match=r"claims.npy: 100000x100000: 10,000,000,000 pixels, more than the limit"):
        load_image(tmp_path / "claims.npy")
    with pytest.raises(ImageError, match=r"the array: 1x60000000: 60,000,000 pixels"):
        load_image(np.zeros((60_000_000, 1), dtype=np.uint8))
    # Pillow itself only warns at 12000x12000: the CLI says one line, no warning
    r = run("predict", str(_png_claiming(tmp_path / "twelve.png", 12000, 12000)))
    assert r.returncode == 1 and r.stderr.strip().splitlines() == [
        f"microgrid predict: error: {tmp_path / 'twelve.png'}: 12000x12000: 144,000,000 pixels, more than the limit "
        "of 50,000,000"
    ]


@pytest.mark.parametrize(
    "mode,suffix,convert",
    [
        ("I;16", "png", lambda g: g.astype(np.uint16) * 257),  # 16-bit greyscale PNG
        ("F", "tif", lambda g: g.astype(np.float32) / 255),  # 32-bit float TIFF in [0, 1]
        ("F", "tif", lambda g: g.astype(np.float32) * 257),  # 32-bit float TIFF in [0, 65535]
        ("I", "tif", lambda g: (g.astype(np.int64) * (2**31 - 1) // 255).astype(np.int32)),  # 32-bit int TIFF
        ("I", "tif", lambda g: g.astype(np.int32) * 257),  # 32-bit int TIFF holding 16-bit values
    ],
)
def test_deep_greyscale_reads_as_the_8_bit_picture(tmp_path, mode, suffix, convert):
    eight = ROOT / "demos" / "digits" / "7.png"
    grey = np.asarray(Image.open(eight).convert("L"))
    deep = tmp_path / f"seven.{suffix}"
    Image.fromarray(convert(grey)).save(deep)
    assert Image.open(deep).mode == mode
    expected, found = read_digit(eight), read_digit(deep)
    assert expected.digit == found.digit == 7 and expected.probabilities[7] > 0.99
    np.testing.assert_allclose(found.probabilities, expected.probabilities, atol=1e-6)
    np.testing.assert_allclose(load_image(deep), grey, atol=0.01)


def test_predict_json_is_strict_json_when_a_model_overflows(tmp_path):
    from microgrid.digits.fast import FastMLP
    from microgrid.digits.model_file import save_model

    net = FastMLP(784, [4, 10], "relu", "linear", dtype=np.float32)
    for w in net.weights:
        w.data = 1e30  # finite weights whose products overflow float32: inf and NaN outputs
    model = save_model(tmp_path / "overflow.npz", net, {"config": {"loss": "cross_entropy"}})
    draw(7).save(tmp_path / "seven.png")
    r = run("predict", "--json", "--model", str(model), str(tmp_path / "seven.png"))
    assert r.returncode == 0, r.stderr

    def refuse(constant):
        raise AssertionError(f"not strict JSON: {constant}")

    obj = json.loads(r.stdout, parse_constant=refuse)
    assert None in obj["activations"] and None in obj["probabilities"]
    assert all(v is None or isinstance(v, float) for v in obj["activations"] + obj["probabilities"])
