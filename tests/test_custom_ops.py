"""Ops of your own: sin, softplus and gelu defined as a user would, checked with check_op; a wrong
derivative is caught; the ops work with backward, grad, draw_dot, explain, gradcheck and pickle."""

import math
import pickle
import subprocess
import sys
import textwrap

import pytest

from microgrid import Value, define_op, draw_dot, grad, gradcheck, hessian
from microgrid.custom_ops import get_op
from microgrid.pictures.explain import explain_text
from microgrid.support.gradcheck import GradcheckError
from microgrid.support.testing import check_op

# -- defined exactly as a user would ---------------------------------------------------------

sin = define_op("sin", forward=math.sin, derivative=lambda x: cos(x))
cos = define_op("cos", forward=math.cos, derivative=lambda x: -sin(x))
softplus = define_op(
    "softplus",
    forward=lambda x: math.log1p(math.exp(-abs(x))) + max(x, 0.0),  # log(1 + e**x), without overflow
    derivative=lambda x: x.sigmoid(),
)
normal_cdf = define_op(
    "normal_cdf",
    forward=lambda x: 0.5 * (1.0 + math.erf(x / math.sqrt(2.0))),
    derivative=lambda x: (-0.5 * x * x).exp() / math.sqrt(2.0 * math.pi),
)
gelu = define_op(
    "gelu",
    forward=lambda x: x * 0.5 * (1.0 + math.erf(x / math.sqrt(2.0))),
    derivative=lambda x: normal_cdf(x) + x * (-0.5 * x * x).exp() / math.sqrt(2.0 * math.pi),
)
hypot = define_op("hypot", forward=math.hypot, derivative=lambda a, b: (a / hypot(a, b), b / hypot(a, b)), arity=2)


def test_user_ops_pass_check_op():
    check_op(sin, domain=(-10.0, 10.0))
    check_op(softplus, domain=(-20.0, 20.0))
    check_op(gelu, domain=(-6.0, 6.0))
    check_op(hypot, domain=[(0.5, 5.0), (-5.0, 5.0)])


def test_a_wrong_derivative_is_caught_with_the_failing_input():
    wrong = define_op("softplus_wrong", forward=softplus.forward, derivative=lambda x: x.tanh())
    with pytest.raises(GradcheckError, match=r"gradient of input 0 \(at .*\) disagrees: backward\(\) gives"):
        check_op(wrong, domain=(-3.0, 3.0))


def test_a_derivative_written_with_floats_is_caught_at_second_order():
    """Right numbers, but no graph: the first derivative passes, the second is 0 and is caught."""
    floaty = define_op(
        "softplus_floaty", forward=softplus.forward, derivative=lambda x: 1.0 / (1.0 + math.exp(-x.data))
    )
    check_op(floaty, order=1, domain=(-3.0, 3.0))
    with pytest.raises(GradcheckError, match=r"second derivative d2/d\(input 0\) d\(input 0\) .* gives 0.0"):
        check_op(floaty, domain=(-3.0, 3.0))


def test_ops_work_on_numbers_and_values():
    assert sin(0.5) == math.sin(0.5) and isinstance(sin(0.5), float)
    y = sin(Value(0.5, label="x"))
    assert isinstance(y, Value) and y.op == "sin" and y.data == math.sin(0.5)
    assert hypot(3, Value(4.0)).data == 5.0


def test_backward_grad_hessian_and_gradcheck_through_user_ops():
    x = Value(0.7)
    out = softplus(sin(x) * 2.0)
    out.backward()
    s = 1 / (1 + math.exp(-2 * math.sin(0.7)))
    assert x.grad == pytest.approx(s * 2 * math.cos(0.7), rel=1e-14)
    (g,) = grad(out, [x], create_graph=True)
    assert g.data == pytest.approx(x.grad, rel=1e-15)
    d2 = hessian(sin(x), [x])[0][0]
    assert d2 == pytest.approx(-math.sin(0.7), rel=1e-15)
    d = sin(x)
    for k in range(1, 9):  # sin's derivatives cycle cos, -sin, -cos, sin: through the two user ops
        (d,) = grad(d, [x], create_graph=True)
        assert d.data == pytest.approx([math.sin, math.cos][k % 2](0.7) * (-1) ** (k // 2), rel=1e-14)
    assert gradcheck(lambda a, b: gelu(a * b) + hypot(a, b), [0.3, -1.1], order=2)


def test_draw_dot_and_explain_show_the_op_and_its_local_derivative():
    x = Value(0.5, label="x")
    y = softplus(x)
    y.label = "y"
    y.backward()
    sig = 1 / (1 + math.exp(-0.5))
    source = draw_dot(y).source
    assert "softplus" in source and f"× {sig:.4f}" in source
    text = explain_text(y)
    assert "y  [softplus]" in text and f"local dy/dx = {sig:.6g}" in text


def test_errors_are_clear():
    with pytest.raises(ValueError, match="'tanh' is a built-in op; an op is defined once"):
        define_op("tanh", forward=math.tanh, derivative=lambda x: 1 - x.tanh() ** 2)
    with pytest.raises(ValueError, match="must be an identifier"):
        define_op("soft plus", forward=math.tanh, derivative=lambda x: x)
    with pytest.raises(TypeError, match="takes \\*args; pass arity="):
        define_op("anything", forward=lambda *xs: sum(xs), derivative=lambda *xs: (1.0,) * len(xs))
    with pytest.raises(TypeError, match=r"softplus\(\) takes 1 input\(s\), got 2"):
        softplus(Value(1.0), 2.0)
    with pytest.raises(TypeError, match="input 0 must be a number or a Value, got str"):
        softplus("1")
    two_terms = define_op("times", forward=lambda a, b: a * b, derivative=lambda a, b: b)
    out = two_terms(Value(2.0), Value(3.0))
    with pytest.raises(ValueError, match=r"times: derivative must return one term per input \(2\), got a Value"):
        out.backward()
    three = define_op("times3", forward=lambda a, b: a * b, derivative=lambda a, b: (b, a, a))
    with pytest.raises(ValueError, match="got 3 terms"):
        a = Value(2.0)
        grad(three(a, Value(3.0)), [a], create_graph=True)
    not_a_number = define_op("nan_maker", forward=lambda x: "x", derivative=lambda x: 1.0)
    with pytest.raises(TypeError, match="forward must return a number, got str"):
        not_a_number(Value(1.0))
    with pytest.raises(LookupError, match="no op named 'nope' is defined in this process"):
        get_op("nope")


def test_user_ops_pickle_and_unpickling_needs_the_definition(tmp_path):
    (tmp_path / "myops.py").write_text(
        textwrap.dedent(
            """
            import math
            from microgrid import define_op
            softplus = define_op(
                "softplus", forward=lambda x: math.log1p(math.exp(x)), derivative=lambda x: x.sigmoid()
            )
            """
        )
    )
    make = "import pickle, myops; from microgrid import Value; x = Value(0.5, label='x'); " + (
        "open('g.pkl', 'wb').write(pickle.dumps((myops.softplus(x * 2.0), myops.softplus)))"
    )
    use = (
        "import pickle, sys; from microgrid import grad\n"
        "if sys.argv[1] == 'define': import myops\n"
        "y, op = pickle.loads(open('g.pkl', 'rb').read())\n"
        "x = y.parents[0].parents[0]; y.backward(); print(x.grad, op(0.0))\n"
    )

    def run(*args):
        return subprocess.run([sys.executable, "-c", *args], cwd=tmp_path, capture_output=True, text=True)

    assert run(make).returncode == 0
    without = run(use, "no")
    assert without.returncode != 0
    assert "no op named 'softplus' is defined in this process" in without.stderr
    done = run(use, "define")
    assert done.returncode == 0, done.stderr
    grad_x, at_zero = map(float, done.stdout.split())
    assert grad_x == pytest.approx(2 / (1 + math.exp(-1.0)), rel=1e-15) and at_zero == math.log(2)
    graph_only = "import pickle; g = pickle.loads(open('g2.pkl', 'rb').read()); g.backward()"
    y = softplus(Value(0.5))
    (tmp_path / "g2.pkl").write_bytes(pickle.dumps(y))
    failed = run(graph_only)
    assert "no derivative rule for op 'softplus'" in failed.stderr and "define it again" in failed.stderr
    assert pickle.loads(pickle.dumps(softplus)) is softplus


def test_drawing_a_graph_whose_op_is_not_defined_says_so():
    node = Value(1.0)
    ghost = Value(2.0, "", (node,), "ghost_op")  # what unpickling a graph of an op never defined here gives
    with pytest.raises(NotImplementedError, match="no derivative rule for op 'ghost_op'.*define it again"):
        draw_dot(ghost)
    with pytest.raises(NotImplementedError, match="no derivative rule for op 'ghost_op'"):
        explain_text(ghost)
    with pytest.raises(NotImplementedError, match="no derivative rule for op 'ghost_op'"):
        grad(ghost, [node])
