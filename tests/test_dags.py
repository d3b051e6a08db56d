"""Random expression DAGs (microgrid.support.testing) against central differences."""

from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from microgrid import Value, gradcheck
from microgrid.support.testing import OPS, expression_dags


@settings(suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])
@given(expression_dags())
def test_random_dags_match_central_differences(dag):
    event(f"shared nodes: {min(dag.shared_nodes(), 3)}{'+' if dag.shared_nodes() >= 3 else ''}")
    assert gradcheck(dag, dag.inputs, eps=1e-6, rtol=1e-4, atol=1e-6)


@given(expression_dags(min_steps=6, max_steps=6))
def test_dags_evaluate_the_same_twice_and_keep_values_bounded(dag):
    a = dag(*[Value(x) for x in dag.inputs]).data
    b = dag(*[Value(x) for x in dag.inputs]).data
    assert a == b and abs(a) <= 100 * (len(dag.steps) + 1)


def test_strategy_covers_every_op_and_shares_nodes():
    seen: set[str] = set()
    shared = 0

    @settings(max_examples=300, database=None)
    @given(expression_dags())
    def collect(dag):
        nonlocal shared
        seen.update(step.op for step in dag.steps)
        shared += dag.shared_nodes() > 0

    collect()
    assert seen == set(OPS)
    assert shared > 30


@given(st.data())
def test_restricted_op_sets_are_respected(data):
    ops = data.draw(st.lists(st.sampled_from(OPS), min_size=1, unique=True))
    dag = data.draw(expression_dags(ops=ops))
    allowed = set(ops) | {"tanh", "sigmoid", "neg"}
    assert {s.op for s in dag.steps} <= allowed
