"""The table of ops (microgrid.ops): one rule per op, read by first and second order alike.

Each op's one rule against central differences (first and second order) on random DAGs
made of it; a rule planted in the table changes backward() and grad(create_graph=True)
together (the two can no longer disagree); an op name is defined once; everything that
lists ops reads the table; every op's Hessian against hand formulas; tanh's derivatives up
to order 6 against their closed forms.
"""

import math
from dataclasses import replace

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from microgrid import Value, define_op, grad, gradcheck, hessian
from microgrid.ops import BUILTIN, OPS, register
from microgrid.pictures.draw import symbol
from microgrid.support import testing
from microgrid.support.expr import FUNCTIONS, parse_expression
from microgrid.support.testing import expression_dags, finite_floats

PER_OP = settings(max_examples=min(settings.default.max_examples, 500))  # 32 tests: 500 cases each in CI


def test_the_strategies_draw_every_op_of_the_table():
    assert set(testing.OPS) == set(BUILTIN) and len(testing.OPS) == len(BUILTIN)


@pytest.mark.parametrize("op", sorted(BUILTIN))
@PER_OP
@given(data=st.data())
def test_each_rule_matches_central_differences_to_second_order(op, data):
    """The one rule of ``op``, on floats (backward) and on Values (grad of grad), on random DAGs made of it."""
    dag = data.draw(expression_dags(ops=[op], min_steps=1, max_steps=4))
    assert gradcheck(dag, list(dag.inputs), order=2, eps=1e-6, rtol=1e-4, atol=1e-6)


def test_first_and_second_order_read_the_same_rule(monkeypatch):
    """A wrong rule planted in the table shows in backward(), grad() and grad(create_graph=True) alike:
    there is no second table that could keep the right one (the bug the old two tables allowed)."""
    monkeypatch.setitem(OPS, "tanh", replace(OPS["tanh"], partials=lambda x, out: (2.0 * out,)))  # wrong on purpose
    x = Value(0.5)
    y = x.tanh()
    y.backward()
    (first,) = grad(y, [x])
    (as_value,) = grad(y, [x], create_graph=True)
    assert x.grad == first.data == as_value.data == 2.0 * math.tanh(0.5)
    (second,) = grad(as_value, [x])  # d/dx (2 out) goes through the planted rule again: 2 * 2 out
    assert second.data == pytest.approx(4.0 * math.tanh(0.5), rel=1e-12)


def test_a_planted_dot_rule_shows_in_both_orders_too(monkeypatch):
    """grad(create_graph=True) applies dot's rule inline for speed, but only while the table holds that rule:
    a changed dot rule is called like any other, in first and second order alike."""
    monkeypatch.setitem(OPS, "dot", replace(OPS["dot"], partials=lambda w, x, b, out: (3.0 * x, w, 1.0)))
    w, x, b = Value(0.5), Value(2.0), Value(0.25)
    y = Value.dot([w], [x], b)
    z = y * y  # so that the gradient reaching the dot node is a Value (2y), as in a network
    z.backward()
    (as_value,) = grad(z, [w], create_graph=True)
    assert w.grad == as_value.data == 2.0 * y.data * 3.0 * 2.0


def test_an_op_name_is_defined_once():
    with pytest.raises(ValueError, match=r"^op 'tanh' is a built-in op: an op is defined once, choose another name$"):
        register("tanh", forward=math.tanh, partials=lambda x, out: (0.0,))
    with pytest.raises(ValueError, match=r"^define_op: 'tanh' is a built-in op; an op is defined once"):
        define_op("tanh", forward=math.tanh, derivative=lambda x: 1 - x.tanh() ** 2)
    twice = define_op("twice_once", forward=lambda x: 2.0 * x, derivative=lambda x: 2.0)
    y = twice(Value(3.0, label="x"))
    with pytest.raises(ValueError, match=r"^define_op: 'twice_once' is already defined in this process; an op is"):
        define_op("twice_once", forward=lambda x: 2.0 * x, derivative=lambda x: 5.0)  # would change y's gradient
    y.backward()
    (g,) = grad(y, list(y.parents), create_graph=True)
    assert y.parents[0].grad == g.data == 2.0


def test_everything_that_lists_ops_reads_the_table():
    assert FUNCTIONS == tuple(name for name, op in OPS.items() if op.function)
    for name in FUNCTIONS:  # a function op is a Value method and a function of the expression parser
        assert getattr(Value(0.5), name)().op == name
        assert parse_expression(f"{name}(x)", {"x": 0.5})[0].op == name
    assert symbol("*") == "×" and symbol("sigmoid") == "σ" and symbol("tanh") == "tanh"
    assert {name for name, op in OPS.items() if op.kink} == {"relu", "abs"}
    with pytest.raises(Exception, match=r"kink \(relu\(0.0\)\)"):  # gradcheck finds kinks by the table
        gradcheck(lambda a: Value.apply("relu", a), [0.0])


def _softmax_hessian(*xs):
    m = max(xs)
    e = [math.exp(x - m) for x in xs]
    p = [v / sum(e) for v in e]
    return [[(p[i] if i == j else 0.0) - p[i] * p[j] for j in range(len(xs))] for i in range(len(xs))]


def _powv_hessian(a, b):
    la = math.log(a)
    mixed = a ** (b - 1) * (1 + b * la)
    return [[b * (b - 1) * a ** (b - 2), mixed], [mixed, a**b * la * la]]


pos = finite_floats(0.2, 4.0)
anyx = finite_floats(-3.0, 3.0)
offzero = anyx.filter(lambda x: abs(x) > 1e-3)
# name: (f on Values, hand-derived Hessian on floats, strategy of each input)
SECOND = {
    "+": (lambda a, b: a + b, lambda a, b: [[0, 0], [0, 0]], [anyx, anyx]),
    "-": (lambda a, b: a - b, lambda a, b: [[0, 0], [0, 0]], [anyx, anyx]),
    "*": (lambda a, b: a * b, lambda a, b: [[0, 1], [1, 0]], [anyx, anyx]),
    "/": (lambda a, b: a / b, lambda a, b: [[0, -1 / b**2], [-1 / b**2, 2 * a / b**3]], [anyx, pos]),
    "neg": (lambda a: -a, lambda a: [[0]], [anyx]),
    "** 3": (lambda a: a**3, lambda a: [[6 * a]], [anyx]),
    "** 0.5": (lambda a: a**0.5, lambda a: [[-0.25 * a**-1.5]], [pos]),
    "** -2": (lambda a: a**-2, lambda a: [[6 * a**-4]], [pos]),
    "**v": (lambda a, b: a**b, _powv_hessian, [pos, anyx]),
    "exp": (lambda a: a.exp(), lambda a: [[math.exp(a)]], [anyx]),
    "log": (lambda a: a.log(), lambda a: [[-1 / a**2]], [pos]),
    "tanh": (lambda a: a.tanh(), lambda a: [[-2 * math.tanh(a) * (1 - math.tanh(a) ** 2)]], [anyx]),
    "sigmoid": (
        lambda a: a.sigmoid(),
        lambda a: [[(s := 1 / (1 + math.exp(-a))) * (1 - s) * (1 - 2 * s)]],
        [anyx],
    ),
    "relu": (lambda a: a.relu(), lambda a: [[0]], [offzero]),
    "abs": (lambda a: a.abs(), lambda a: [[0]], [offzero]),
    "dot": (
        lambda w1, w2, x1, x2, b: Value.dot([w1, w2], [x1, x2], b),
        lambda *_: [[1 if {i, j} in ({0, 2}, {1, 3}) else 0 for j in range(5)] for i in range(5)],
        [anyx] * 5,
    ),
    "sum": (lambda a, b, c: Value.sum([a, b, c]), lambda *_: [[0] * 3] * 3, [anyx] * 3),
    "logsumexp": (lambda a, b, c: Value.logsumexp([a, b, c]), _softmax_hessian, [anyx] * 3),
}


def test_every_op_has_a_second_derivative_case():
    assert {name.split()[0] for name in SECOND} == set(BUILTIN)


@pytest.mark.parametrize("name", list(SECOND))
@PER_OP
@given(data=st.data())
def test_second_derivatives_match_hand_formulas_and_central_differences(name, data):
    f, hand, strategies = SECOND[name]
    point = [data.draw(s) for s in strategies]
    xs = [Value(x) for x in point]
    h = hessian(f(*xs), xs)
    expected = hand(*point)
    for row, want in zip(h, expected):
        assert row == pytest.approx(want, rel=1e-10, abs=1e-12)
    assert gradcheck(f, point, order=2, eps=1e-6, rtol=1e-5, atol=1e-6)


TANH_DERIVATIVES = [  # d^k/dx^k tanh(x) as polynomials in t = tanh(x), derived by hand: d/dx P(t) = P'(t) (1 - t^2)
    lambda t: 1 - t**2,
    lambda t: -2 * t + 2 * t**3,
    lambda t: -2 + 8 * t**2 - 6 * t**4,
    lambda t: 16 * t - 40 * t**3 + 24 * t**5,
    lambda t: 16 - 136 * t**2 + 240 * t**4 - 120 * t**6,
    lambda t: -272 * t + 1232 * t**3 - 1680 * t**5 + 720 * t**7,
]


@given(finite_floats(-4.0, 4.0))
def test_tanh_derivatives_up_to_order_6_match_the_closed_forms(x0):
    x = Value(x0)
    d = x.tanh()
    t = math.tanh(x0)
    for k, closed in enumerate(TANH_DERIVATIVES, start=1):
        (d,) = grad(d, [x], create_graph=True)
        assert d.data == pytest.approx(closed(t), rel=1e-9, abs=1e-9), f"order {k}"


def test_tanh_sixth_derivative_at_a_known_point():
    x = Value(0.5)
    d = x.tanh()
    for _ in range(6):
        (d,) = grad(d, [x], create_graph=True)
    t = math.tanh(0.5)
    assert d.data == pytest.approx(-272 * t + 1232 * t**3 - 1680 * t**5 + 720 * t**7, rel=1e-12)
