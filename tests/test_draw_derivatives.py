"""Pictures of gradients: draw_dot and explain of a create_graph gradient, and `draw expr --order N`."""

import math
import subprocess
import sys

import pytest

from microgrid import Value, draw_dot, grad
from microgrid.pictures.draw import local_derivatives
from microgrid.pictures.explain import explain_text


def run(*args, cwd=None):
    return subprocess.run([sys.executable, "-m", "microgrid", *args], capture_output=True, text=True, cwd=cwd)


def test_draw_dot_of_a_gradient_shows_the_graph_backpropagation_built():
    x = Value(0.5, label="x")
    y = x.tanh()
    (d,) = grad(y, [x], create_graph=True)
    d.label = "dy/dx"
    d.backward()  # its own gradient: d2y/dx2 lands in x.grad
    t = math.tanh(0.5)
    assert x.grad == pytest.approx(-2 * t * (1 - t * t), rel=1e-14)
    source = draw_dot(d, highlight=x).source
    assert "dy/dx" in source and "tanh" in source  # the derivative's nodes and the forward node it reuses
    assert f"grad {-2 * t * (1 - t * t):.4f}" in source
    # the chain-rule caption sums the paths x -> tanh -> (t*t, twice) -> 1 - t*t, each a product of local derivatives
    assert "sum = -0.7269" in source
    assert [round(v, 6) for v in local_derivatives(d)] == [1.0, -1.0]


def test_explain_walks_the_backward_pass_of_a_gradient():
    x = Value(0.5, label="x")
    (d,) = grad(x.tanh(), [x], create_graph=True)
    d.label = "g"
    d.backward()
    text = explain_text(d)
    assert text.startswith("g  [-]  value 0.786448  grad 1")
    assert "leaves: x.grad = -0.726862" in text


def test_cli_draws_the_second_derivative(tmp_path):
    r = run("draw", "expr", "tanh(x)", "--set", "x=0.5", "--order", "2", "--text", "-o", str(tmp_path / "d2.svg"))
    assert r.returncode == 0, r.stderr
    t = math.tanh(0.5)
    assert f"d2/dx2 tanh(x) = {-2 * t * (1 - t * t):.6g}" in r.stdout
    third = -2 + 8 * t**2 - 6 * t**4  # the backward pass of d2/dx2 gives the third derivative in x.grad
    assert f"d(d2/dx2)/dx = {third:.6g}" in r.stdout and f"leaves: x.grad = {third:.6g}" in r.stdout
    assert "d2/dx2  [*]" in r.stdout
    assert "d2/dx2" in (tmp_path / "d2.svg").read_text()


def test_cli_order_with_several_variables_needs_wrt(tmp_path):
    r = run("draw", "expr", "w * x * x", "--set", "w=3", "x=2", "--order", "2", "--wrt", "x", "--text")
    assert r.returncode == 0, r.stderr
    assert "d2/dx2 w * x * x = 6" in r.stdout and "d(d2/dx2)/dw = 2" in r.stdout


@pytest.mark.parametrize(
    "args,message",
    [
        (["expr", "w * x", "--set", "w=1", "x=2", "--order", "1"], "--order needs --wrt NAME"),
        (["expr", "x * x", "--set", "x=1", "--order", "1", "--wrt", "y"], "--wrt 'y' is not a variable"),
        (["expr", "x * x", "--set", "x=1", "--order", "9"], "--order must be 0 to 6, got 9"),
        (["chain", "--order", "2"], "--order and --wrt are for 'draw expr'"),
    ],
)
def test_cli_order_errors_are_one_line(args, message, tmp_path):
    r = run("draw", *args, cwd=tmp_path)
    assert r.returncode == 2, r.stdout
    assert message in r.stderr and "Traceback" not in r.stderr
