"""gradcheck: passes on correct gradients, explains a wrong one, flags kinks."""

from dataclasses import replace

import pytest

from microgrid import Value, gradcheck, ops
from microgrid.support.gradcheck import GradcheckError, numeric_grad


def test_passes_on_a_correct_function():
    assert gradcheck(lambda a, b: (a * b).tanh() + b.exp(), [0.3, -0.7])


def test_numeric_grad_central_differences():
    g = numeric_grad(lambda a: a * a * a, [2.0])
    assert g[0] == pytest.approx(12.0, rel=1e-8)


def test_mismatch_names_input_values_and_says_no_kink(monkeypatch):
    monkeypatch.setitem(ops.OPS, "tanh", replace(ops.OPS["tanh"], partials=lambda x, out: (2.0,)))  # a wrong rule
    with pytest.raises(GradcheckError) as err:
        gradcheck(lambda a, b: a.tanh() * b, [Value(0.5, label="w"), 2.0])
    msg = str(err.value)
    assert "'w'" not in msg and "w (at 0.5)" in msg
    assert "backward() gives 4.0" in msg
    assert "no relu/abs kink" in msg


def test_mismatch_at_a_kink_says_so():
    with pytest.raises(GradcheckError, match=r"sits on a kink \(relu\(0.0\)\)"):
        gradcheck(lambda a: a.relu(), [0.0])
    with pytest.raises(GradcheckError, match="kink"):
        gradcheck(lambda a: (a * 3).relu() + a, [0.0])
    assert gradcheck(lambda a: a.abs(), [0.0])  # symmetric kink: both sides agree on 0


def test_rejects_bad_inputs():
    with pytest.raises(TypeError, match="str"):
        gradcheck(lambda a: a, ["x"])
    with pytest.raises(TypeError, match="must return a Value"):
        gradcheck(lambda a: 1.0, [1.0])
