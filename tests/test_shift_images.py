"""shift_images against a plain per-image loop drawing the same shifts."""

import numpy as np
import pytest

from microgrid.digits.data import load_mnist
from microgrid.digits.train import shift_images


def one_by_one(x, s, rng):
    """Image i moved by (dy[i] - s, dx[i] - s) pixels: down and right for positive, zeros fill in."""
    dy, dx = rng.integers(0, 2 * s + 1, len(x)), rng.integers(0, 2 * s + 1, len(x))
    out = np.zeros_like(x).reshape(-1, 28, 28)
    for i, image in enumerate(x.reshape(-1, 28, 28)):
        for r in range(28):
            for c in range(28):
                src_r, src_c = r + dy[i] - s, c + dx[i] - s
                if 0 <= src_r < 28 and 0 <= src_c < 28:
                    out[i, r, c] = image[src_r, src_c]
    return out.reshape(len(x), 784)


@pytest.mark.parametrize("s", [1, 2, 4])
@pytest.mark.parametrize("dtype", [np.uint8, np.float32])
def test_shift_images_is_the_per_image_shift(s, dtype):
    x = load_mnist().train_images[:40].reshape(40, 784).astype(dtype)
    expected = one_by_one(x, s, np.random.default_rng(s))
    np.testing.assert_array_equal(shift_images(x, s, np.random.default_rng(s)), expected)
