"""The toy's lessons (issue 25, view 5) and the toy's lambda_max by ``hvp`` (view 3).

lambda_max is held to the eigenvalues of the dense Hessian (``microgrid.hessian``, then
NumPy); each lesson's mistake must show its effect beside its fix, from the same start.
"""

from __future__ import annotations

import numpy as np
import pytest

from microgrid import Value, hessian
from microgrid.losses import mse
from microgrid.nn import MLP
from microgrid.support.mistakes import LESSONS, run_lesson
from microgrid.support.toy_curvature import lambda_max
from microgrid.support.toys import two_moons


@pytest.mark.parametrize("activation, output", [("tanh", "linear"), ("relu", "linear"), ("sigmoid", "sigmoid")])
def test_lambda_max_is_the_largest_eigenvalue_of_the_dense_hessian(activation, output):
    xs, ys = two_moons(12, 0.1, seed=2)
    net = MLP(2, [4, 1], activation, output, seed=3)
    cost = mse([net(p) for p in xs], [[(y + 1) / 2] for y in ys])
    params = net.parameters()
    eig = np.linalg.eigvalsh(np.array(hessian(cost, params)))
    top, vector, used = lambda_max(cost, params, iterations=3000, tol=1e-12)
    assert top == pytest.approx(eig.max(), rel=1e-6)
    assert np.linalg.norm(vector) == pytest.approx(1.0)


def test_lambda_max_finds_the_positive_top_when_a_negative_one_is_larger():
    x, y = Value(0.0), Value(0.0)
    cost = x * x - 3 * y * y  # eigenvalues 2 and -6
    top, _, _ = lambda_max(cost, [x, y], iterations=200, tol=1e-12)
    assert top == pytest.approx(2.0, rel=1e-9)


def _final(run: dict, key: str = "costs") -> float:
    return run[key][-1]


def test_forgetting_zero_grad_leaves_the_cost_high():
    wrong, right = run_lesson("zero_grad")["runs"]
    assert wrong["costs"][:2] == right["costs"][:2]  # the same start and the same first step (grads start at 0)
    assert wrong["costs"][2] != right["costs"][2]  # the second step adds the first one's gradient
    assert max(wrong["costs"][20:]) > 2 * max(right["costs"][20:])


def test_a_learning_rate_past_two_over_lambda_max_diverges_and_below_it_does_not():
    lesson = run_lesson("lr")
    past, below = lesson["runs"]
    assert lesson["limit"] == pytest.approx(2 / lesson["lambda_max"])
    assert past["lr"] == pytest.approx(2 * lesson["limit"]) and below["lr"] == pytest.approx(0.8 * lesson["limit"])
    assert _final(past) > 100 * past["costs"][0]
    assert _final(below) < below["costs"][0]


def test_saturated_sigmoids_learn_slower():
    lesson = run_lesson("saturated")
    wrong, right = lesson["runs"]
    assert lesson["saturated_share"] > 0.5
    assert _final(wrong, "accuracies") < _final(right, "accuracies") - 0.1


def test_cross_entropy_escapes_a_confident_mistake_that_mse_sits_in():
    mse_run, ce_run = run_lesson("mse_vs_ce")["runs"]
    assert mse_run["accuracies"][0] == ce_run["accuracies"][0] == 0.5
    assert mse_run["accuracies"][20] == 0.5 and ce_run["accuracies"][20] > 0.9


def test_a_dead_relu_layer_never_learns():
    lesson = run_lesson("dead_relu")
    dead, alive = lesson["runs"]
    assert lesson["dead_share"] == 1.0
    assert max(dead["costs"]) - min(dead["costs"]) < 1e-2
    assert _final(alive) < 0.5 * alive["costs"][0]


def test_every_lesson_says_why_and_its_fix_and_an_unknown_one_is_refused():
    for title, why, fix, _ in LESSONS.values():
        assert title and why.endswith(".") and fix
    with pytest.raises(ValueError, match="no lesson called 'x': expected one of zero_grad, lr"):
        run_lesson("x")
