"""Losses and optimizers against hand-computed values."""

import math

import pytest

from microgrid import SGD, Adam, Value, cross_entropy, mse


def vals(*xs):
    return [Value(x) for x in xs]


def test_mse_one_example_is_sum_of_squares():
    a = vals(0.2, 0.9, 0.1)
    loss = mse(a, [0.0, 1.0, 0.0])
    assert loss.data == pytest.approx(0.04 + 0.01 + 0.01, rel=1e-14)
    loss.backward()
    assert [x.grad for x in a] == pytest.approx([0.4, -0.2, 0.2], rel=1e-14)


def test_mse_class_index_is_one_hot_and_batch_is_averaged():
    a, b = vals(0.5, 0.5), vals(1.0, 0.0)
    loss = mse([a, b], [1, [1.0, 0.0]])
    assert loss.data == pytest.approx((0.25 + 0.25 + 0.0) / 2, rel=1e-14)
    loss.backward()
    assert [x.grad for x in a] == pytest.approx([0.5, -0.5])


def test_cross_entropy_matches_formula_and_is_stable():
    z = vals(1.0, 2.0, 3.0)
    loss = cross_entropy(z, 2)
    lse = math.log(sum(math.exp(v) for v in (1.0, 2.0, 3.0)))
    assert loss.data == pytest.approx(lse - 3.0, rel=1e-14)
    loss.backward()
    soft = [math.exp(v - lse) for v in (1.0, 2.0, 3.0)]
    assert [x.grad for x in z] == pytest.approx([soft[0], soft[1], soft[2] - 1.0], rel=1e-12)
    big = cross_entropy(vals(1e4, -1e4), 1)
    assert big.data == 2e4


def test_loss_errors():
    with pytest.raises(ValueError, match="class index"):
        cross_entropy(vals(1.0, 2.0), 5)
    with pytest.raises(ValueError, match="3 numbers for 2 outputs"):
        mse(vals(1.0, 2.0), [1.0, 2.0, 3.0])
    with pytest.raises(ValueError, match="2 predictions but targets of length 1"):
        mse([vals(1.0), vals(2.0)], [1.0])
    with pytest.raises(ValueError, match="none"):
        mse([], [])


def test_sgd_and_momentum_by_hand():
    p = Value(1.0)
    opt = SGD([p], lr=0.1, momentum=0.9)
    p.grad = 2.0
    opt.step()
    assert p.data == pytest.approx(1.0 - 0.1 * 2.0)
    opt.step()  # v = 0.9*2 + 2 = 3.8
    assert p.data == pytest.approx(0.8 - 0.1 * 3.8)
    opt.zero_grad()
    assert p.grad == 0.0


def test_adam_first_steps_by_hand():
    p = Value(1.0)
    opt = Adam([p], lr=0.01)
    p.grad = 0.5
    opt.step()
    # bias-corrected first step moves by lr * g / (|g| + eps')
    first = 1.0 - 0.01 * 0.5 / (0.5 + 1e-8)
    assert p.data == pytest.approx(first, rel=1e-15)
    p.grad = -0.5
    opt.step()
    m = 0.9 * 0.05 + 0.1 * -0.5
    v = 0.999 * 0.00025 + 0.001 * 0.25
    expected = first - 0.01 * (m / (1 - 0.81)) / (math.sqrt(v / (1 - 0.999**2)) + 1e-8)
    assert p.data == pytest.approx(expected, rel=1e-12)


def test_optimizer_errors():
    with pytest.raises(ValueError, match="empty"):
        SGD([], lr=0.1)
    with pytest.raises(ValueError, match="learning rate"):
        SGD([Value(1.0)], lr=-1)
    with pytest.raises(ValueError, match="momentum"):
        SGD([Value(1.0)], lr=0.1, momentum=1.5)


def test_numpy_labels_are_class_indices():
    np = pytest.importorskip("numpy")
    z = vals(0.1, 0.2, 0.7)
    assert cross_entropy(z, np.int64(2)).data == cross_entropy(z, 2).data
    assert mse(z, np.int64(1)).data == mse(z, 1).data
    assert mse([z, z], np.array([0, 2])).data == mse([z, z], [0, 2]).data


def test_cross_entropy_is_exact_for_huge_equal_logits():
    """Two equal logits: the loss is log 2 and the grads -1/2, 1/2 at any magnitude
    (before: 0.0 and [0.0, 1.0] at 1e17, a relative error of 5e-5 at 1e12)."""
    for big in (1e12, 1e17, 1e300):
        z = vals(big, big)
        loss = cross_entropy(z, 0)
        loss.backward()
        assert loss.data == math.log(2.0)
        assert [x.grad for x in z] == [-0.5, 0.5]


def test_losses_of_huge_values_overflow_to_inf_instead_of_raising():
    outs = vals(1e154, 1e154)
    loss = mse(outs, [0.0, 0.0])
    loss.backward()
    assert loss.data == math.inf and [x.grad for x in outs] == [2e154, 2e154]
    assert cross_entropy([vals(0.0, -1e308), vals(0.0, -1e308)], [1, 1]).data == math.inf


def test_zero_grad_clears_inf_and_nan():
    ps = vals(1.0, 2.0, 3.0)
    for p, g in zip(ps, (math.inf, math.nan, -math.inf)):
        p.grad = g
    SGD(ps, lr=0.1).zero_grad()
    assert [p.grad for p in ps] == [0.0, 0.0, 0.0]
