"""Hypothesis strategies for property tests of autograd code, yours or ours.

* :func:`finite_floats`: safe finite floats (no NaN, no inf, bounded).
* :func:`expression_dags`: random expression DAGs over the engine's whole op set, with
  shared subexpressions (a node feeding several later nodes) and every op kept inside
  its domain (no log of a non-positive number, no division by ~0, no kink of relu/abs
  at the drawn point), ready for :func:`microgrid.support.gradcheck.gradcheck`.
* :func:`check_op`: a property test of one op (yours, from ``define_op``, or any function
  of Values): first and second derivatives against central differences over a domain.

Example::

    from hypothesis import given
    from microgrid.support.gradcheck import gradcheck
    from microgrid.support.testing import expression_dags

    @given(expression_dags())
    def test_backward_matches_central_differences(dag):
        assert gradcheck(dag, dag.inputs)

This is the only module of microgrid that imports hypothesis.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from .. import ops as table
from ..engine import Value, no_grad
from ..ops import BUILTIN
from .gradcheck import gradcheck

__all__ = ["finite_floats", "expression_dags", "check_op", "ExprDAG", "Step", "OPS"]

UNARY = table.names(lambda op: op.name in BUILTIN and op.arity == 1)
BINARY = table.names(lambda op: op.name in BUILTIN and op.arity == 2)
FUSED = table.names(lambda op: op.name in BUILTIN and op.arity is None)
OPS = UNARY + BINARY + FUSED
"""Every op name the DAG strategy can draw: the built-in ops of the table (microgrid.ops)."""

CONST_EXPONENTS = (2.0, 3.0, -1.0, 0.5, 1.5, -2.0)
LIMIT = 100.0  # every node's value stays within +-LIMIT, so central differences stay precise
MARGIN = 0.1  # distance kept from a domain edge (log 0, division by 0, pow of 0)
KINK_MARGIN = 1e-3  # distance kept from the kink of relu and abs


def finite_floats(min_value: float = -10.0, max_value: float = 10.0) -> st.SearchStrategy[float]:
    """Finite floats in [min_value, max_value]: no NaN, no inf, no subnormal surprises."""
    return st.floats(min_value, max_value, allow_nan=False, allow_infinity=False, allow_subnormal=False)


@dataclass(frozen=True)
class Step:
    """One node of an ExprDAG: ``op`` applied to earlier nodes ``args`` (indices)."""

    op: str
    args: tuple[int, ...]
    const: float = 0.0  # the exponent of "**"


def _apply(step: Step, nodes: Sequence[Value]) -> Value:
    a = [nodes[i] for i in step.args]
    op = step.op
    if op not in table.OPS:
        raise ValueError(f"unknown op {op!r}")
    return Value.apply(op, *a, constants=(step.const,) if table.OPS[op].constant else ())


@dataclass(frozen=True)
class ExprDAG:
    """A random expression: inputs x0..x{n-1}, then steps, each over earlier nodes.

    Calling it on n Values builds the graph and returns its root: the sum of every node
    that no later step consumed, so every drawn op takes part in the result.
    """

    inputs: tuple[float, ...]
    steps: tuple[Step, ...]

    def __call__(self, *xs: Value) -> Value:
        if len(xs) != len(self.inputs):
            raise ValueError(f"this DAG takes {len(self.inputs)} inputs, got {len(xs)}")
        nodes: list[Value] = list(xs)
        used: set[int] = set()
        for step in self.steps:
            nodes.append(_apply(step, nodes))
            used.update(step.args)
        n_in = len(self.inputs)
        dangling = [nodes[i] for i in range(n_in, len(nodes)) if i not in used]
        return Value.sum(dangling) if len(dangling) > 1 else nodes[-1]

    def shared_nodes(self) -> int:
        """How many nodes feed more than one edge (the fan-out a DAG has over a tree)."""
        counts: dict[int, int] = {}
        for step in self.steps:
            for i in step.args:
                counts[i] = counts.get(i, 0) + 1
        return sum(1 for c in counts.values() if c > 1)

    def __repr__(self) -> str:
        lines = [f"x{i} = {x!r}" for i, x in enumerate(self.inputs)]
        n = len(self.inputs)
        for k, step in enumerate(self.steps):
            args = ", ".join(f"x{i}" for i in step.args)
            extra = f", {step.const!r}" if step.op == "**" else ""
            lines.append(f"x{n + k} = {step.op}({args}{extra})")
        return "ExprDAG(" + "; ".join(lines) + ")"


def _valid(op: str, vals: Sequence[float], const: float = 0.0) -> bool:
    """Whether ``op`` over ``vals`` stays in its domain, off kinks and within +-LIMIT."""
    try:
        with no_grad():
            x = vals[0]
            if op == "log" and x < MARGIN:
                return False
            if table.OPS[op].kink and abs(x) < KINK_MARGIN:
                return False
            if op == "exp" and x > math.log(LIMIT):
                return False
            if op == "**" and (abs(x) < MARGIN or (x < 0 and not const.is_integer())):
                return False
            if op == "/" and abs(vals[1]) < MARGIN:
                return False
            if op == "**v" and (x < MARGIN or abs(vals[1]) > 3.0):
                return False
            out = _apply(Step(op, tuple(range(len(vals))), const), [Value(v) for v in vals]).data
    except (ValueError, ZeroDivisionError, OverflowError):
        return False
    return math.isfinite(out) and abs(out) <= LIMIT


def _arity(op: str, draw: st.DrawFn) -> int:
    if op in UNARY:
        return 1
    if op in BINARY:
        return 2
    if op == "dot":
        return 2 * draw(st.integers(1, 3)) + 1
    return draw(st.integers(1, 4))


@st.composite
def expression_dags(
    draw: st.DrawFn,
    min_inputs: int = 1,
    max_inputs: int = 4,
    min_steps: int = 1,
    max_steps: int = 12,
    ops: Sequence[str] = OPS,
    values: st.SearchStrategy[float] | None = None,
) -> ExprDAG:
    """Random ExprDAGs over ``ops`` (default: all of :data:`OPS`).

    Each step draws its op and picks operands among all earlier nodes, so nodes are
    shared; an op whose domain the drawn operands miss is replaced by another op valid
    there (``neg`` always is). Every node's value stays in [-100, 100].
    """
    unknown = set(ops) - set(OPS)
    if unknown:
        raise ValueError(f"unknown ops {sorted(unknown)}: expected some of {OPS}")
    values = values if values is not None else finite_floats(-2.0, 2.0)
    inputs = draw(st.lists(values, min_size=min_inputs, max_size=max_inputs))
    current = list(inputs)
    steps: list[Step] = []
    for _ in range(draw(st.integers(min_steps, max_steps))):
        op = draw(st.sampled_from(list(ops)))
        args = tuple(draw(st.integers(0, len(current) - 1)) for _ in range(_arity(op, draw)))
        const = draw(st.sampled_from(CONST_EXPONENTS)) if op == "**" else 0.0
        if not _valid(op, [current[i] for i in args], const):
            fallback = [o for o in ("tanh", "sigmoid", "neg") if o in ops] or ["neg"]
            op, args, const = draw(st.sampled_from(fallback)), args[:1], 0.0
        step = Step(op, args, const)
        with no_grad():
            current.append(_apply(step, [Value(v) for v in current]).data)
        steps.append(step)
    return ExprDAG(tuple(inputs), tuple(steps))


Domain = tuple[float, float] | st.SearchStrategy[float]


def _strategy(domain: Domain) -> st.SearchStrategy[float]:
    if isinstance(domain, st.SearchStrategy):
        return domain
    if isinstance(domain, tuple) and len(domain) == 2 and all(isinstance(x, (int, float)) for x in domain):
        return finite_floats(float(domain[0]), float(domain[1]))
    raise TypeError(f"check_op: a domain is (low, high) or a hypothesis strategy of floats, got {domain!r}")


def check_op(
    op: Callable[..., Any],
    arity: int | None = None,
    domain: Domain | list[Domain] = (-5.0, 5.0),
    *,
    order: int = 2,
    eps: float = 1e-6,
    rtol: float = 1e-5,
    atol: float = 1e-7,
    max_examples: int | None = None,
) -> None:
    """Property-test an op: its derivatives against central differences at hypothesis-drawn points.

    Call it inside a test. At each point it runs ``gradcheck(op, point, order=order)``:
    ``backward()`` against central differences of the op and, with ``order=2``, the
    second derivatives of ``grad(create_graph=True)`` against central differences of the
    first. A failure is shrunk to a small failing point and raised as the GradcheckError
    that explains it (which input, both values, whether a relu/abs kink is near).

    Args:
        op: an op from ``define_op``, or any function of ``arity`` Values returning a Value.
        arity: its number of inputs (default: ``op.arity`` for a define_op op, else 1).
        domain: where to draw each input: (low, high), a hypothesis strategy of floats, or
            a list of one of those per input.
        order: 1 checks first derivatives only; 2 (default) also the second.
        eps: the nudge of the central differences.
        rtol: relative tolerance, as in :func:`microgrid.support.gradcheck.gradcheck`.
        atol: absolute tolerance, as in :func:`microgrid.support.gradcheck.gradcheck`.
        max_examples: points to try (default: the hypothesis profile's).
    """
    n = arity if arity is not None else getattr(op, "arity", 1)
    domains = domain if isinstance(domain, list) else [domain] * n
    if len(domains) != n:
        raise ValueError(f"check_op: {len(domains)} domains for an op of {n} inputs")
    strategies = [_strategy(d) for d in domains]
    chosen = {"max_examples": max_examples} if max_examples is not None else {}

    @settings(database=None, **chosen)  # type: ignore[arg-type]
    @given(st.tuples(*strategies))
    def derivatives_match_central_differences(point: tuple[float, ...]) -> None:
        gradcheck(op, list(point), eps=eps, rtol=rtol, atol=atol, order=order)

    derivatives_match_central_differences()
