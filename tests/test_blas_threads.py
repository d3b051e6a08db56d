"""The BLAS thread limit: where it applies, that it applies, and that it changes no number."""

import numpy as np
import pytest

from microgrid.digits.blas_threads import SMALL_PRODUCT, blas_threads, largest_product, threads_for
from microgrid.digits.fast import FastMLP


def test_small_networks_get_one_thread_large_ones_the_default():
    assert largest_product([784, 16, 16, 10], 100) == 100 * 784 * 16
    assert threads_for([784, 16, 16, 10], 100) == 1  # the notes' net
    assert threads_for([784, 256, 10], 128) is None  # the best preset
    at_limit = -(-SMALL_PRODUCT // (784 * 16))  # the smallest batch whose product reaches the limit
    assert threads_for([784, 16, 10], at_limit - 1) == 1
    assert threads_for([784, 16, 10], at_limit) is None


def test_the_limit_holds_inside_the_block_and_is_undone_after():
    threadpoolctl = pytest.importorskip("threadpoolctl")

    def blas_threads_now() -> list[int]:
        return [info["num_threads"] for info in threadpoolctl.threadpool_info() if info["user_api"] == "blas"]

    before = blas_threads_now()
    assert before, "NumPy's BLAS should be visible to threadpoolctl"
    with blas_threads(1):
        assert blas_threads_now() == [1] * len(before)
    assert blas_threads_now() == before
    with blas_threads(None):
        assert blas_threads_now() == before


def test_one_thread_computes_the_same_gradients():
    rng = np.random.default_rng(5)
    x, y = rng.random((64, 300)), rng.integers(0, 10, 64)
    net = FastMLP(300, [200, 10], "relu", "linear", seed=5)
    net.loss_and_backward(x, y, "cross_entropy")
    default = [p.grad.copy() for p in net.parameters()]
    with blas_threads(1):
        net.loss_and_backward(x, y, "cross_entropy")
    for g, p in zip(default, net.parameters()):
        assert np.allclose(p.grad, g, rtol=1e-12, atol=1e-15), p.name
