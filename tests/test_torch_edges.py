"""Numeric edge cases checked against PyTorch 2.13.0 (issue 13, items 7 and 8): nan, inf,
overflow and underflow give what torch gives, value and gradients."""

import math

import pytest

from microgrid import Value

torch = pytest.importorskip("torch", reason="PyTorch is the oracle here: pip install torch==2.13.0")


def same(ours, theirs):
    """Equal floats, nan equal to nan, inf to inf of the same sign."""
    if math.isnan(theirs):
        return math.isnan(ours)
    return ours == pytest.approx(theirs, rel=1e-12, abs=0.0)


def tensors(*xs):
    return [torch.tensor(x, dtype=torch.float64, requires_grad=True) for x in xs]


@pytest.mark.parametrize("x", [math.nan, math.inf, -math.inf, 0.0, -0.0, 2.5, -2.5])
def test_relu_value_and_gradient_match_torch(x):
    v = Value(x)
    out = v.relu()
    out.backward()
    (t,) = tensors(x)
    tout = torch.relu(t)
    tout.backward()
    assert same(out.data, tout.item()) and same(v.grad, t.grad.item())


def test_zero_grad_clears_inf_and_nan_grads_as_torch_does():
    from microgrid import SGD

    start, bad = [1.0, -2.0, 3.0], [math.inf, math.nan, -math.inf]
    ps = [Value(x) for x in start]
    (tp,) = tensors(start)
    opt, topt = SGD(ps, lr=0.1), torch.optim.SGD([tp], lr=0.1)
    for p, g in zip(ps, bad):
        p.grad = g
    tp.grad = torch.tensor(bad, dtype=torch.float64)
    opt.zero_grad()
    topt.zero_grad(set_to_none=False)
    assert [p.grad for p in ps] == tp.grad.tolist() == [0.0, 0.0, 0.0]
    for p in ps:
        p.grad += 0.5
    tp.grad += 0.5
    opt.step()
    topt.step()
    assert [p.data for p in ps] == tp.tolist()


def test_zero_grad_clears_non_finite_array_grads():
    np = pytest.importorskip("numpy")
    from microgrid import Adam
    from microgrid.digits.fast import Param

    p = Param(np.ones((2, 2)), "w")
    p.grad = np.array([[np.inf, np.nan], [-np.inf, 1.0]])
    opt = Adam([p], lr=0.1)  # its moments start at 0, not at grad * 0 (nan)
    opt.zero_grad()
    assert np.array_equal(p.grad, np.zeros((2, 2)))
    p.grad = np.full((2, 2), 0.5)
    opt.step()
    (tp,) = tensors(np.ones((2, 2)).tolist())
    topt = torch.optim.Adam([tp], lr=0.1)
    tp.grad = torch.full((2, 2), 0.5, dtype=torch.float64)
    topt.step()
    assert np.allclose(p.data, tp.detach().numpy(), rtol=1e-14)


@pytest.mark.parametrize("xs", [[1e308, 1e308], [-1e308, -1e308], [math.inf, -math.inf], [1e308, 1e308, -1e308]])
def test_sum_overflows_to_inf_and_nan_as_torch_does(xs):
    vs = [Value(x) for x in xs]
    out = Value.sum(vs)
    out.backward()
    (t,) = tensors(xs)
    tout = t.sum()
    tout.backward()
    assert same(out.data, tout.item())
    assert [v.grad for v in vs] == t.grad.tolist()


def test_mse_and_batch_cross_entropy_of_huge_values_match_torch():
    from microgrid import cross_entropy, mse

    outs = [Value(1e154), Value(-1e154)]
    loss = mse(outs, [0.0, 0.0])  # each square is 1e308: their sum overflowed fsum
    loss.backward()
    (z,) = tensors([1e154, -1e154])
    tl = (z**2).sum()
    tl.backward()
    assert same(loss.data, tl.item()) and [o.grad for o in outs] == z.grad.tolist()

    logits = [[Value(0.0), Value(-1e308)], [Value(0.0), Value(-1e308)]]
    loss = cross_entropy(logits, [1, 1])  # each loss is 1e308
    loss.backward()
    (z,) = tensors([[0.0, -1e308], [0.0, -1e308]])
    tl = torch.nn.functional.cross_entropy(z, torch.tensor([1, 1]))
    tl.backward()
    assert same(loss.data, tl.item())
    assert [[v.grad for v in row] for row in logits] == z.grad.tolist()


@pytest.mark.parametrize("a,b", [(1.0, 1e-200), (1e200, 1e200), (-3.0, 1e-160), (1e-300, 1e300), (2.0, -7.0)])
def test_division_gradients_match_torch_without_squaring_b(a, b):
    va, vb = Value(a), Value(b)
    (va / vb).backward()
    ta, tb = tensors(a, b)
    (ta / tb).backward()
    assert same(va.grad, ta.grad.item()) and same(vb.grad, tb.grad.item())


@pytest.mark.parametrize(
    "logits,y",
    [
        ([1e17, 1e17], 0),
        ([1e12, 1e12], 0),
        ([1e12, 1e12 + 1.0, 1e12 - 2.0], 2),
        ([-1e15, -1e15 + 3.0], 1),
        ([1e308, -1e308], 1),
        ([1e308, -1e308], 0),
        ([0.5, -1.5, 2.0], 1),
    ],
)
def test_cross_entropy_matches_torch_for_any_finite_logits(logits, y):
    from microgrid import cross_entropy

    z = [Value(v) for v in logits]
    loss = cross_entropy(z, y)
    loss.backward()
    (t,) = tensors(logits)
    tl = torch.nn.functional.cross_entropy(t[None], torch.tensor([y]))
    tl.backward()
    assert same(loss.data, tl.item())
    assert [v.grad for v in z] == pytest.approx(t.grad.tolist(), rel=1e-12, abs=1e-15)


def test_pow_backward_at_zero_matches_torch():
    for upstream in (0.0, 1.0, -2.0):
        x = Value(0.0)
        (x**0.5 * upstream).backward()
        (t,) = tensors(0.0)
        (t**0.5 * upstream).backward()
        assert same(x.grad, t.grad.item()), upstream  # nan, inf, -inf
    x = Value(0.0)
    (x**0).backward()
    (t,) = tensors(0.0)
    (t**0).backward()
    assert x.grad == t.grad.item() == 0.0


@pytest.mark.parametrize("exponent", [-1, -0.5, -math.inf, -1e-300])
def test_zero_to_a_negative_power_raises_like_division_by_zero(exponent):
    """The one documented departure from torch (which gives inf): 0 ** -c is 1 / 0 ** c, and
    the engine raises on division by zero. Before, ** -inf gave inf while ** -1 raised."""
    assert torch.tensor(0.0, dtype=torch.float64).pow(exponent).item() == math.inf
    with pytest.raises(ZeroDivisionError, match=r"0\.0 cannot be raised to a negative power .*'z'"):
        Value(0.0, label="z") ** exponent
    with pytest.raises(ZeroDivisionError, match="division by zero"):
        Value(1.0) / Value(0.0)
