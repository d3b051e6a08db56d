"""The scalar autograd engine: a ``Value`` records each operation, and ``backward()`` runs the chain rule.

A ``Value`` holds one float ``data`` and the gradient ``grad`` of the last ``backward()``
root with respect to it. Every operation on Values returns a new Value that remembers its
parents (an ordered tuple, so ``a * a`` keeps both edges) and the name of its op. What an
op computes and its local derivatives are one entry of the table in :mod:`microgrid.ops`.

Gradient semantics (the same as PyTorch's for leaves):

* a *leaf* (a Value with no parents: parameters, inputs, constants) **accumulates**
  ``grad`` across ``backward()`` calls until you zero it (``Module.zero_grad()``);
* every *non-leaf* is reset to 0 and recomputed on each ``backward()`` call.
"""

from __future__ import annotations

import numbers
from collections.abc import Callable, Iterable, Sequence
from typing import TypeAlias

from .grad_mode import GRAD_MODE, is_grad_enabled, no_grad
from .ops import OPS, missing_rule

__all__ = ["Value", "no_grad", "is_grad_enabled"]

Operand: TypeAlias = "Value | int | float"

_grad_enabled = GRAD_MODE.get  # bound once: Value() calls it for every node it builds


def _unary(name: str) -> Callable[[Value], Value]:
    forward = OPS[name].forward

    def method(self: Value) -> Value:
        """This op of the table (microgrid.ops) on this Value."""
        try:
            return Value(forward(self.data), "", (self,), name)
        except (ValueError, ZeroDivisionError) as err:
            raise _named(err, self) from None

    return method


def _binary(name: str) -> tuple[Callable[[Value, Operand], Value], Callable[[Value, Operand], Value]]:
    """The methods ``self (op) other`` and ``other (op) self`` (as ``__add__`` and ``__radd__``)."""
    forward = OPS[name].forward

    def method(self: Value, other: Operand) -> Value:
        if not isinstance(other, Value):
            other = _lift(other, name)
        try:
            return Value(forward(self.data, other.data), "", (self, other), name)
        except (ValueError, ZeroDivisionError) as err:
            raise _named(err, self, other) from None

    def reflected(self: Value, other: Operand) -> Value:
        return method(_lift(other, name), self)

    return method, reflected


def _apply(name: str, parents: tuple[Value, ...], constants: tuple[float, ...] = ()) -> Value:
    """A new node: the op's forward on the parents' floats, the parents and op recorded."""
    try:
        return Value(OPS[name].forward(*[p.data for p in parents], *constants), "", parents, name, constants)
    except (ValueError, ZeroDivisionError) as err:
        raise _named(err, *parents) from None


def _named(err: Exception, *nodes: Value) -> Exception:
    """The same error, naming the nodes it came from: where its message says {0}, {1}, else after it."""
    text, names = str(err), [p.describe() for p in nodes]
    if "{0}" in text or "{1}" in text:
        return type(err)(text.format(*names))
    return type(err)(f"{text} ({', '.join(names)})" if names else text)


# [tutorial:value]
class Value:
    """A number in a computation graph, and how it was made: ``Value(2.0, label="a")``.

    ``data`` is an int, float, bool or NumPy scalar (stored as float); ``label`` names it in
    reprs, errors and drawings. An op fills in ``parents``, ``op`` and ``constants``.
    """

    __slots__ = ("data", "grad", "parents", "op", "constants", "label")

    def __init__(
        self, data: object, label: str = "", parents: tuple[Value, ...] = (), op: str = "",
        constants: tuple[float, ...] = (),
    ) -> None:
        self.data: float = data if type(data) is float else _to_float(data)
        self.grad = 0.0  # d(root)/d(self), filled in by root.backward()
        self.parents = parents if not parents or _grad_enabled() else ()  # what it was computed from, in order
        self.op = op  # the name of the op that made it, a key of the table ops.OPS ('' for a leaf)
        self.constants = constants  # the op's constants (the c of x ** c), usually ()
        self.label = label
    # [/tutorial:value]

    @property
    def is_leaf(self) -> bool:
        """True for a Value with no recorded parents."""
        return not self.parents

    def describe(self) -> str:
        """How errors name this node: "node 'w'", or the op that made it."""
        made = f"an unlabelled node made by {self.op!r}" if self.op else "an unlabelled leaf"
        return f"node {self.label!r}" if self.label else made

    def __repr__(self) -> str:
        extra = [f", op={self.op!r}"] * bool(self.op) + [f", label={self.label!r}"] * bool(self.label)
        return f"Value(data={_fmt(self.data)}, grad={_fmt(self.grad)}{''.join(extra)})"

    # -- ops: each runs its forward from the table on the floats and records its parents --

    __add__, __radd__ = _binary("+")
    __sub__, __rsub__ = _binary("-")
    __mul__, __rmul__ = _binary("*")
    __truediv__, __rtruediv__ = _binary("/")
    # every op of the table marked function=True is a method, x.tanh(): the built-in ones
    # here, where a type checker sees them, any other by the loop below the class
    exp, log, tanh, sigmoid, relu, abs = map(_unary, ("exp", "log", "tanh", "sigmoid", "relu", "abs"))
    __abs__ = abs

    def __pow__(self, exponent: Operand) -> Value:
        """self ** exponent. A number exponent is a constant of the op "**"; a Value exponent
        makes "**v" (a positive base only). Overflow gives +-inf; 0 to a negative power raises."""
        if isinstance(exponent, Value):
            return _apply("**v", (self, exponent))
        return _apply("**", (self,), (_lift(exponent, "**").data,))

    def __rpow__(self, base: Operand) -> Value:
        return _lift(base, "**") ** self

    def __neg__(self) -> Value:
        return _apply("neg", (self,))

    @staticmethod
    def apply(op: str, *parents: Operand, constants: tuple[float, ...] = ()) -> Value:
        """The node ``op(*parents)`` of any op of the table, by name (numbers become leaves)."""
        return _apply(op, tuple(p if isinstance(p, Value) else _lift(p, op) for p in parents), constants)

    @staticmethod
    def dot(weights: Sequence[Value], inputs: Sequence[Operand], bias: Operand = 0.0) -> Value:
        """The weighted sum ``w . x + b`` of n weights and n inputs as ONE node with parents
        (w..., x..., b): a 784-input neuron adds one node to the graph, not 1,568."""
        if len(inputs) != len(weights):
            raise ValueError(f"dot(): got {len(inputs)} inputs for {len(weights)} weights, it needs as many of each")
        return _apply("dot", tuple([v if isinstance(v, Value) else _lift(v, "dot") for v in (*weights, *inputs, bias)]))

    @staticmethod
    def sum(values: Iterable[Operand]) -> Value:
        """The sum of many Values as one node; exact-then-rounded (``math.fsum``) where finite."""
        return _apply("sum", tuple([v if isinstance(v, Value) else _lift(v, "sum") for v in values]))

    @staticmethod
    def logsumexp(values: Iterable[Operand]) -> Value:
        """log(sum(exp(v))) as one node, stable for any inputs (its gradient is the softmax)."""
        return _apply("logsumexp", tuple(v if isinstance(v, Value) else _lift(v, "logsumexp") for v in values))

    # -- the chain rule ---------------------------------------------------------------------

    def _count_children(self, reset_grads: bool, leaves: bool = True) -> dict[Value, int]:
        """For each node (without ``leaves``: each non-leaf), how many edges lead from it to
        other nodes. With reset_grads, also set every non-leaf grad to 0 for a fresh backward."""
        pending: dict[Value, int] = {self: 0}
        stack = [self]
        while stack:
            node = stack.pop()
            if reset_grads and node.parents:
                node.grad = 0.0
            for parent in node.parents:
                if not leaves and not parent.parents:
                    continue
                if parent in pending:
                    pending[parent] += 1
                else:
                    pending[parent] = 1
                    stack.append(parent)
        return pending

    def topological_order(self) -> list[Value]:
        """Every Value this one depends on (itself last), each after all of its parents."""
        pending = self._count_children(reset_grads=False)
        order, ready = [], [self]
        while ready:
            node = ready.pop()
            order.append(node)
            for parent in node.parents:
                pending[parent] -= 1
                if pending[parent] == 0:
                    ready.append(parent)
        return order[::-1]

    # [tutorial:backward]
    def backward(self, grad: float = 1.0) -> None:
        """Fill in every node's ``grad`` with d(self)/d(node), by the chain rule.

        A node passes its grad on only once every node it feeds has added its share
        (Kahn's algorithm: a topological order, walked with a list, so any depth works).
        """
        pending = self._count_children(reset_grads=True, leaves=False)  # how many children each node waits for
        self.grad += grad  # d(self)/d(self) = 1
        ready = [self]
        while ready:
            node = ready.pop()
            parents = node.parents
            if not parents:
                continue
            try:
                rule = OPS[node.op].partials  # the op's entry in the table
            except KeyError:
                raise missing_rule(node) from None
            if (n := len(parents)) == 2:  # the local derivatives d(node)/d(parent), on floats
                local = rule(parents[0].data, parents[1].data, node.data)  # (the call below, spelled out: faster)
            elif n == 1:
                local = rule(parents[0].data, node.data, *node.constants)
            else:
                local = rule(*[p.data for p in parents], node.data)
            g = node.grad
            for parent, d in zip(parents, local):
                parent.grad += d * g  # the chain rule; += because a parent may feed several nodes
                if parent.parents:
                    left = pending[parent] - 1  # children it still waits for
                    pending[parent] = left
                    if left == 0:  # every node it feeds has sent its share
                        ready.append(parent)
    # [/tutorial:backward]


for _name in [name for name, op in OPS.items() if op.function and not hasattr(Value, name)]:
    setattr(Value, _name, _unary(_name))


def _to_float(data: object) -> float:
    """Convert an int, bool, float or NumPy scalar to float; anything else is a TypeError."""
    kind = type(data)
    numpy_bool = kind.__module__ == "numpy" and kind.__name__ in ("bool", "bool_")
    if numpy_bool or (isinstance(data, numbers.Real) and not isinstance(data, Value)):
        return float(data)  # type: ignore[arg-type]
    raise TypeError(f"Value() needs a real number (int, float, bool, NumPy scalar), got {kind.__name__}: {data!r:.60}")


def _lift(x: object, op: str) -> Value:
    """A number (not a Value: the callers pass those on) as a constant leaf; a clear TypeError for anything else."""
    try:
        return Value(x if type(x) is float else _to_float(x))
    except TypeError:
        raise TypeError(f"{op}: expected a number or a Value, got {type(x).__name__}: {x!r:.60}") from None


def _fmt(x: float) -> str:
    return f"{x:.4f}" if x == 0.0 or (1e-3 <= abs(x) < 1e6) else f"{x:.4g}"
