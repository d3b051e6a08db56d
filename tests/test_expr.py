"""The expression parser: Python's precedences and labels, linear size, bounded errors."""

import ast
import math
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from microgrid.pictures.explain import explain_text
from microgrid.support.expr import EXCERPT, LABEL_MAX, ExpressionError, parse_expression

ROOT = Path(__file__).resolve().parents[1]
VARIABLES = {"w": 0.5, "x": 2.0, "b": -1.0, "y": 0.25}
FUNCS = {
    "tanh": math.tanh,
    "exp": math.exp,
    "log": math.log,
    "abs": abs,
    "relu": lambda v: max(v, 0.0),
    "sigmoid": lambda v: 1 / (1 + math.exp(-v)),
}


@pytest.mark.parametrize(
    "text",
    [
        "tanh(w*x + b)",
        "-x**2",
        "(-x)**2",
        "2**-x",
        "x**y**2",
        "(x**y)**2",
        "x - (y - w)",
        "x - y - w",
        "x / (y * w)",
        "x / y * w",
        "-(x + y) * w",
        "--x + +y",
        "exp(-x) / 3 + 2 ** w",
        "sigmoid(relu(x - 3) + abs(b)) * log(x)",
        "0x1f * x + 1e-3 / y",
        "((((x))))+(((y)))",
    ],
)
def test_value_and_label_agree_with_python(text):
    """The value is what Python computes; the root's label is ast.unparse of the text."""
    root, _ = parse_expression(text, VARIABLES)
    assert root.data == pytest.approx(eval(text, {"__builtins__": {}}, {**FUNCS, **VARIABLES}), rel=1e-15)
    assert root.label == ast.unparse(ast.parse(text, mode="eval"))


def test_ten_thousand_term_sum_evaluates_and_backpropagates():
    n = 10_000
    text = " + ".join(f"{k % 7}*x" for k in range(n)) + " - y"
    root, leaves = parse_expression(text, {"x": 1.5, "y": 4.0})
    coefficient = sum(k % 7 for k in range(n))
    assert root.data == coefficient * 1.5 - 4.0
    root.backward()
    assert leaves["x"].grad == coefficient and leaves["y"].grad == -1.0


def test_deep_nesting_needs_no_recursion():
    depth = 5_000
    root, leaves = parse_expression("tanh(" * depth + "x" + ")" * depth, {"x": 0.3})
    expected, derivative = 0.3, 1.0
    for _ in range(depth):
        expected = math.tanh(expected)
        derivative *= 1 - expected**2
    root.backward()
    assert root.data == pytest.approx(expected, rel=1e-12)
    assert leaves["x"].grad == pytest.approx(derivative, rel=1e-9)
    root, _ = parse_expression("(" * depth + "x + 1" + ")" * depth, {"x": 0.3})
    assert root.data == 1.3 and root.label == "x + 1"


def test_labels_are_bounded_so_their_total_is_linear():
    """Before, every node was labelled with its whole text: 10,000 terms gave ~10^8 characters of labels."""
    n = 10_000
    root, _ = parse_expression("+".join(["x*x"] * n), {"x": 1.0})
    labels = [node.label for node in root.topological_order()]
    assert max(map(len, labels)) <= LABEL_MAX + 5
    assert sum(map(len, labels)) < 70 * len(labels)
    assert root.label.startswith("x * x + x * x") and " ... " in root.label and root.label.endswith("x * x + x * x")


def test_text_walkthrough_is_linear_in_the_number_of_terms():
    sizes = {}
    for n in (5_000, 10_000):
        root, _ = parse_expression("+".join(f"w*x{'' if k % 2 else '+b'}" for k in range(n)), VARIABLES)
        root.backward()
        sizes[n] = len(explain_text(root).encode())
    assert sizes[10_000] < 1_000 * 10_000  # under 1 kB of text per term
    assert sizes[10_000] < 2.1 * sizes[5_000]  # twice the terms, twice the text (quadratic: four times)


def test_cli_text_of_ten_thousand_terms(tmp_path):
    n = 10_000
    text = "+".join(["x"] * n)
    done = subprocess.run(
        [sys.executable, "-m", "microgrid", "draw", "expr", text, "--set", "x=1", "--text"],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env={"PYTHONPATH": str(ROOT), "PATH": ""},
    )
    assert done.returncode == 0, done.stderr[-2000:]
    lines = done.stdout.splitlines()
    assert lines[0].endswith(f"({len(text):,} characters) = {n}") and len(lines[0]) < 200
    assert lines[1] == f"d/dx = {n}"
    assert len(done.stdout) < 1_000 * n


@pytest.mark.parametrize(
    "text,message",
    [
        ("1/0", "division by zero in '1 / 0'"),
        ("w/(x-2)", "division by zero in 'w / (x - 2)': the denominator 'x - 2' is 0"),
        ("0**-1", "cannot compute '0 ** (-1)'"),
        ("log(x - 2)", "cannot compute 'log(x - 2)': log() needs a positive input"),
        ("0x" + "f" * 300, "is too large"),
        ("1e999 * x", "number 1e999 (5 characters) is too large"),
        ("9" * 5000, "(5000 characters) is too large"),
        ("1j", "only real numbers"),
        ("True + x", "only numbers are allowed as constants, got True"),
        ("x if x else b", "conditional expressions not allowed"),
        ("x // 2", "the operator // not allowed"),
        ("tanh(x, b)", "tanh() takes exactly one argument"),
        ("x y", "expected an operator"),
        ("x +", "ends too early"),
        ("(x + 1", "'(' never closed"),
        ("x)", "unmatched ')'"),
        ("", "empty"),
        ("z + 1", "unknown variable 'z': give it a value with --set z=..."),
        ("tanh", "tanh is a function"),
    ],
    ids=lambda v: v[:30],
)
def test_errors_name_the_problem(text, message):
    with pytest.raises(ExpressionError) as caught:
        parse_expression(text, VARIABLES)
    assert message in str(caught.value)


LONG_INPUTS = {
    "bad character at the end": "x+" * 50_000 + "x.y",
    "bad character at the start": "x.y" + "+x" * 50_000,
    "unknown name of 100,000 characters": "q" * 100_000,
    "hex number of 100,000 digits": "0x" + "f" * 100_000,
    "ends too early": "+".join(["x"] * 50_000) + "+",
    "unclosed parentheses": "(" * 50_000 + "x",
}


@pytest.mark.parametrize("text", LONG_INPUTS.values(), ids=LONG_INPUTS.keys())
def test_errors_quote_at_most_a_short_excerpt(text):
    with pytest.raises(ExpressionError) as caught:
        parse_expression(text, VARIABLES)
    message = str(caught.value)
    assert len(message) < 250, message
    quoted = message.rsplit(": ", 1)[1]
    assert len(quoted) <= 2 * EXCERPT + 8, message


@given(st.text(alphabet="xw()+-*/.,0123456789e jtanhlog_'[]", max_size=40))
def test_any_text_parses_or_raises_expression_error(text):
    """No input makes the parser fail with anything but an ExpressionError (never an IndexError,
    RecursionError, OverflowError or ZeroDivisionError from inside)."""
    try:
        root, _ = parse_expression(text, {"x": 0.0, "w": 2.0})
    except ExpressionError as err:
        assert len(str(err)) < 250
    else:
        assert isinstance(root.data, float)
