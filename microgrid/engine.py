"""The scalar autograd engine: a ``Value`` records each operation and backpropagates.

A ``Value`` holds one float ``data`` and the gradient ``grad`` of the last ``backward()``
root with respect to it. Every operation on Values returns a new Value that remembers its
parents (an ordered tuple, so ``a * a`` keeps both edges) and the name of its op; the
derivative rules live in :mod:`microgrid.ops`, one named function per op.

Gradient semantics (the same as PyTorch's for leaves):

* a *leaf* (a Value with no parents: parameters, inputs, constants) **accumulates**
  ``grad`` across ``backward()`` calls until you zero it (``Module.zero_grad()``);
* every *non-leaf* is reset to 0 and recomputed on each ``backward()`` call, so calling
  ``backward()`` twice leaves the intermediate grads as they were after the first call.
"""

from __future__ import annotations

import math
import numbers
import operator
from collections.abc import Iterable, Sequence
from typing import TypeAlias

from . import graph_pickle, ops
from .grad_mode import GRAD_MODE, is_grad_enabled, no_grad

__all__ = ["Value", "no_grad", "is_grad_enabled", "Number"]

Number: TypeAlias = int | float
Operand: TypeAlias = "Value | int | float"

_grad_enabled = GRAD_MODE.get  # bound once: Value() calls it for every non-leaf it builds


def _to_float(data: object) -> float:
    """Convert an int, bool, float or NumPy scalar to float; anything else is a TypeError."""
    if isinstance(data, numbers.Real) and not isinstance(data, Value):
        return float(data)
    kind = type(data)
    if kind.__module__ == "numpy" and kind.__name__ in ("bool", "bool_"):
        return float(data)  # type: ignore[arg-type]
    raise TypeError(
        f"Value() needs a real number (int, float, bool or a NumPy scalar), got {kind.__name__}: {data!r:.60}"
    )


class Value:
    """A scalar in a computation graph.

    Args:
        data: the number (int, float, bool or NumPy scalar; stored as float).
        label: an optional name shown in reprs, error messages and drawings.

    Example:
        >>> a = Value(2.0, label="a")
        >>> b = a * a + 1
        >>> b.backward()
        >>> a.grad
        4.0
    """

    __slots__ = ("data", "grad", "_prev", "_op", "_aux", "label")

    data: float
    grad: float
    _prev: tuple[Value, ...]
    _op: str
    _aux: float
    label: str

    def __init__(
        self,
        data: object,
        label: str = "",
        _prev: tuple[Value, ...] = (),
        _op: str = "",
        _aux: float = 0.0,
    ) -> None:
        self.data = data if type(data) is float else _to_float(data)  # type: ignore[assignment]
        self.grad = 0.0
        self._prev = _prev if not _prev or _grad_enabled() else ()
        self._op = _op
        self._aux = _aux
        self.label = label

    # -- introspection ------------------------------------------------------------------

    @property
    def op(self) -> str:
        """The name of the op that made this Value ('' for a leaf)."""
        return self._op

    @property
    def parents(self) -> tuple[Value, ...]:
        """The Values this one was computed from, in argument order (() for a leaf)."""
        return self._prev

    @property
    def is_leaf(self) -> bool:
        """True for a Value with no recorded parents."""
        return not self._prev

    def _name(self) -> str:
        if self.label:
            return f"node {self.label!r}"
        if self._op:
            return f"an unlabelled node made by {self._op!r}"
        return "an unlabelled leaf"

    def __repr__(self) -> str:
        parts = [f"data={_fmt(self.data)}", f"grad={_fmt(self.grad)}"]
        if self._op:
            parts.append(f"op={self._op!r}")
        if self.label:
            parts.append(f"label={self.label!r}")
        return f"Value({', '.join(parts)})"

    # -- pickling -----------------------------------------------------------------------

    def __reduce__(self) -> tuple[object, tuple[object, ...]]:
        """Pickle a graph of any depth, each node once: shared nodes stay shared.

        A leaf pickles as itself; a node as its fields and parents, preceded, the first
        time a dump meets the graph, by its unwritten ancestors in topological order, so
        pickle never recurses deeper than one node (see :mod:`microgrid.graph_pickle`).
        """
        if not self._prev:
            return (_leaf, (self.data, self.grad, self.label))
        fields = (self.data, self.grad, self._op, self._aux, self.label, self._prev)
        ahead = graph_pickle.plan(self)
        if ahead is None:
            return (_node, fields)
        return (_node_after, (*ahead, *fields))

    # -- arithmetic ---------------------------------------------------------------------

    def __add__(self, other: Operand) -> Value:
        other = other if isinstance(other, Value) else _lift(other, "+")
        return Value(self.data + other.data, "", (self, other), "+")

    def __radd__(self, other: Operand) -> Value:
        return _lift(other, "+") + self

    def __sub__(self, other: Operand) -> Value:
        other = other if isinstance(other, Value) else _lift(other, "-")
        return Value(self.data - other.data, "", (self, other), "-")

    def __rsub__(self, other: Operand) -> Value:
        return _lift(other, "-") - self

    def __mul__(self, other: Operand) -> Value:
        other = other if isinstance(other, Value) else _lift(other, "*")
        return Value(self.data * other.data, "", (self, other), "*")

    def __rmul__(self, other: Operand) -> Value:
        return _lift(other, "*") * self

    def __truediv__(self, other: Operand) -> Value:
        other = other if isinstance(other, Value) else _lift(other, "/")
        if other.data == 0.0:
            raise ZeroDivisionError(
                f"division by zero: the denominator ({other._name()}) is 0.0 (numerator: {self._name()}, {self.data!r})"
            )
        return Value(self.data / other.data, "", (self, other), "/")

    def __rtruediv__(self, other: Operand) -> Value:
        return _lift(other, "/") / self

    def __neg__(self) -> Value:
        return Value(-self.data, "", (self,), "neg")

    def __pow__(self, exponent: Operand) -> Value:
        """self ** exponent; overflow gives +-inf. Zero to a negative power (-inf included)
        raises ZeroDivisionError, as division by zero does (PyTorch gives inf); a negative
        base needs an integer exponent (ValueError), and a Value exponent a positive base."""
        if isinstance(exponent, Value):
            if self.data <= 0.0:
                raise ValueError(
                    f"pow() with a Value exponent needs a positive base (d/db a**b = a**b ln a), "
                    f"got {self.data!r} ({self._name()})"
                )
            return Value(ops.safe_pow(self.data, exponent.data), "", (self, exponent), "**v")
        c = _lift(exponent, "**").data
        try:
            out = ops.safe_pow(self.data, c)
        except (ValueError, ZeroDivisionError) as err:
            raise type(err)(f"{err} ({self._name()})") from None
        return Value(out, "", (self,), "**", c)

    def __rpow__(self, base: Operand) -> Value:
        return _lift(base, "**") ** self

    # -- functions ----------------------------------------------------------------------

    def exp(self) -> Value:
        """e ** self; +inf where it overflows (never OverflowError)."""
        return Value(ops.safe_exp(self.data), "", (self,), "exp")

    def log(self) -> Value:
        """Natural log; ValueError for an input <= 0."""
        if not self.data > 0.0:
            raise ValueError(f"log() needs a positive input, got {self.data!r} ({self._name()})")
        return Value(math.log(self.data), "", (self,), "log")

    def tanh(self) -> Value:
        """Hyperbolic tangent, stable for any input (tanh(1000) == 1.0)."""
        return Value(math.tanh(self.data), "", (self,), "tanh")

    def sigmoid(self) -> Value:
        """The logistic function 1 / (1 + e**-x), stable for any input (sigmoid(-1000) == 0.0)."""
        return Value(ops.stable_sigmoid(self.data), "", (self,), "sigmoid")

    def relu(self) -> Value:
        """max(0, x); its derivative at exactly 0 is taken as 0. NaN propagates (relu(nan) is
        nan, with derivative 1, as in PyTorch): only x <= 0 is clamped."""
        x = self.data
        return Value(0.0 if x <= 0.0 else x, "", (self,), "relu")

    def abs(self) -> Value:
        """|x|; its derivative at exactly 0 is taken as 0."""
        return Value(abs(self.data), "", (self,), "abs")

    __abs__ = abs

    # -- fused ops ----------------------------------------------------------------------

    @staticmethod
    def dot(weights: Sequence[Value], inputs: Sequence[Operand], bias: Operand = 0.0) -> Value:
        """The weighted sum ``w . x + b`` as ONE node with 2n+1 parents (w..., x..., b).

        Args:
            weights: n Values.
            inputs: n Values or numbers (numbers become constant leaves).
            bias: a Value or a number.

        A 784-input neuron adds one node to the graph, not 1,568.
        """
        n = len(weights)
        if len(inputs) != n:
            raise ValueError(f"dot() needs as many inputs as weights: got {len(inputs)} inputs for {n} weights")
        xs = tuple(x if isinstance(x, Value) else _lift(x, "dot") for x in inputs)
        ws = tuple(w if isinstance(w, Value) else _lift(w, "dot") for w in weights)
        b = bias if isinstance(bias, Value) else _lift(bias, "dot")
        total = sum(map(operator.mul, [w.data for w in ws], [x.data for x in xs]), b.data)
        return Value(total, "", (*ws, *xs, b), "dot")

    @staticmethod
    def sum(values: Iterable[Operand]) -> Value:
        """The sum of many Values as one node (instead of a chain of n-1 additions).

        Exact-then-rounded (``math.fsum``) for finite sums; where that overflows it is
        inf, and inf + -inf is nan, as chained ``+`` and ``torch.sum`` give.
        """
        vs = tuple(v if isinstance(v, Value) else _lift(v, "sum") for v in values)
        return Value(ops.float_sum([v.data for v in vs]), "", vs, "sum")

    @staticmethod
    def logsumexp(values: Iterable[Operand]) -> Value:
        """log(sum(exp(v))) as one node, stable for any inputs (its gradient is the softmax)."""
        vs = tuple(v if isinstance(v, Value) else _lift(v, "logsumexp") for v in values)
        if not vs:
            raise ValueError("logsumexp() needs at least one value, got none")
        return Value(ops.log_sum_exp([v.data for v in vs]), "", vs, "logsumexp")

    # -- backpropagation ----------------------------------------------------------------

    def _count_children(self, reset_grads: bool, leaves: bool = True) -> dict[Value, int]:
        """For each node of the graph, how many edges lead from it to other nodes.

        With reset_grads, also set every non-leaf grad to 0 for a fresh backward pass.
        Without leaves, leaves are left out (backward never has to schedule them).
        """
        pending: dict[Value, int] = {self: 0}
        stack = [self]
        pop, push = stack.pop, stack.append
        while stack:
            node = pop()
            if reset_grads and node._prev:
                node.grad = 0.0
            for parent in node._prev:
                if not leaves and not parent._prev:
                    continue
                if parent in pending:
                    pending[parent] += 1
                else:
                    pending[parent] = 1
                    push(parent)
        return pending

    def topological_order(self) -> list[Value]:
        """Every Value this one depends on (itself last), each after all of its parents.

        Kahn's algorithm over an explicit stack: any depth works under the default
        recursion limit.
        """
        pending = self._count_children(reset_grads=False)
        order: list[Value] = []
        ready = [self]
        while ready:
            node = ready.pop()
            order.append(node)
            for parent in node._prev:
                left = pending[parent] - 1
                pending[parent] = left
                if left == 0:
                    ready.append(parent)
        order.reverse()
        return order

    def backward(self, grad: float = 1.0) -> None:
        """Backpropagate d(self)/d(node) into every node's ``grad``.

        Non-leaf grads are reset and recomputed; leaf grads accumulate (zero them between
        steps). ``grad`` seeds the root (1.0: the derivative of the root with itself).
        A node's rule runs once all the nodes it feeds have sent it their share (Kahn's
        algorithm), so its grad is complete when it is passed on.
        """
        pending = self._count_children(reset_grads=True, leaves=False)
        self.grad += grad
        rules = ops.BACKWARD
        ready = [self]
        pop, push = ready.pop, ready.append
        while ready:
            node = pop()
            parents = node._prev
            if not parents:
                continue
            try:
                rule = rules[node._op]
            except KeyError:
                raise NotImplementedError(
                    f"no derivative rule for op {node._op!r} ({node._name()}): if it was made with define_op, "
                    "define it again (same name) in this process, e.g. after unpickling"
                ) from None
            for parent, g in zip(parents, rule(node, node.grad)):
                parent.grad += g
                if not parent._prev:
                    continue  # a leaf: its grad is all it needs
                left = pending[parent] - 1
                pending[parent] = left
                if left == 0:
                    push(parent)


def _leaf(data: float, grad: float, label: str) -> Value:
    leaf = Value(data, label)
    leaf.grad = grad
    return leaf


def _node(data: float, grad: float, op: str, aux: float, label: str, parents: tuple[Value, ...]) -> Value:
    """Unpickle one non-leaf node (its parents are already rebuilt; grad mode is ignored)."""
    node = Value.__new__(Value)
    node.data, node.grad, node._op, node._aux, node.label, node._prev = data, grad, op, aux, label, parents
    return node


def _node_after(
    _marker: object,
    _ancestors: list[Value],
    data: float,
    grad: float,
    op: str,
    aux: float,
    label: str,
    parents: tuple[Value, ...],
) -> Value:
    """Unpickle a node whose unwritten ancestors were sent ahead (already rebuilt, in order)."""
    return _node(data, grad, op, aux, label, parents)


def _rebuild(records: list[tuple[float, float, str, float, str, tuple[int | Value, ...]]]) -> Value:
    """Unpickle the format before graph_pickle (records of non-leaf nodes, the root last)."""
    built: list[Value] = []
    for data, grad, op, aux, label, refs in records:
        built.append(_node(data, grad, op, aux, label, tuple(built[r] if isinstance(r, int) else r for r in refs)))
    return built[-1]


def _lift(x: object, op: str) -> Value:
    """A number as a constant leaf; a clear TypeError for anything else."""
    if type(x) is float or type(x) is int:
        return Value(float(x))
    try:
        return Value(_to_float(x))
    except TypeError:
        raise TypeError(f"{op}: expected a number or a Value, got {type(x).__name__}: {x!r:.60}") from None


def _fmt(x: float) -> str:
    if x == 0.0 or (1e-3 <= abs(x) < 1e6):
        return f"{x:.4f}"
    return f"{x:.4g}"
