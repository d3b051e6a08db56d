"""Small expressions like "tanh(w*x + b)" parsed safely into Values.

The text is parsed with :mod:`ast` and only a whitelist is accepted: names, numbers,
+ - * / **, unary minus and plus, and calls of exp, log, tanh, sigmoid, relu and abs
with one argument. Anything else (attributes, subscripts, lambdas, strings, other calls)
is rejected with an ExpressionError; nothing is ever passed to eval or exec.
"""

from __future__ import annotations

import ast
from collections.abc import Mapping

from .engine import Value

__all__ = ["ExpressionError", "parse_expression", "FUNCTIONS"]

FUNCTIONS = ("exp", "log", "tanh", "sigmoid", "relu", "abs")
_BINARY = {ast.Add: "+", ast.Sub: "-", ast.Mult: "*", ast.Div: "/", ast.Pow: "**"}


class ExpressionError(ValueError):
    """The expression is malformed or uses something outside the whitelist."""


def _describe(node: ast.AST) -> str:
    kinds = {
        ast.Attribute: "attribute access",
        ast.Subscript: "subscripts",
        ast.Lambda: "lambdas",
        ast.Compare: "comparisons",
        ast.BoolOp: "and/or",
        ast.List: "lists",
        ast.Tuple: "tuples",
        ast.Dict: "dicts",
        ast.JoinedStr: "f-strings",
        ast.IfExp: "conditional expressions",
    }
    for kind, text in kinds.items():
        if isinstance(node, kind):
            return text
    return type(node).__name__


def parse_expression(text: str, variables: Mapping[str, float]) -> tuple[Value, dict[str, Value]]:
    """Build ``text`` over named variables; returns the root and the leaf Value of each name.

    Raises ExpressionError for syntax errors, unknown names and anything not whitelisted.
    """
    try:
        tree = ast.parse(text.strip(), mode="eval")
    except SyntaxError as err:
        raise ExpressionError(f"cannot parse {text!r}: {err.msg}") from None
    leaves: dict[str, Value] = {}

    def build(node: ast.AST) -> Value:
        """The Value of one sub-expression, labelled by its own text (e.g. "w * x")."""
        value = build_unlabelled(node)
        if value._prev and not value.label:
            value.label = ast.unparse(node)
        return value

    def build_unlabelled(node: ast.AST) -> Value:
        if isinstance(node, ast.BinOp) and type(node.op) in _BINARY:
            left, right = build(node.left), build(node.right)
            op = _BINARY[type(node.op)]
            if op == "**" and not right._prev and not right.label:
                return left**right.data
            return {"+": left.__add__, "-": left.__sub__, "*": left.__mul__, "/": left.__truediv__, "**": left.__pow__}[
                op
            ](right)
        if isinstance(node, ast.UnaryOp) and isinstance(node.op, (ast.USub, ast.UAdd)):
            inner = build(node.operand)
            if isinstance(node.op, ast.UAdd):
                return inner
            return Value(-inner.data) if not inner._prev and not inner.label else -inner
        if isinstance(node, ast.Call):
            if not isinstance(node.func, ast.Name):
                raise ExpressionError(f"{_describe(node.func)} not allowed in expressions: {ast.unparse(node)!r}")
            if node.func.id not in FUNCTIONS:
                shown = node.func.id
                raise ExpressionError(f"calls are limited to {', '.join(FUNCTIONS)}; got {shown}(...)")
            if len(node.args) != 1 or node.keywords:
                raise ExpressionError(f"{node.func.id}() takes exactly one argument")
            return getattr(build(node.args[0]), node.func.id)()  # type: ignore[no-any-return]
        if isinstance(node, ast.Name):
            if node.id in FUNCTIONS:
                raise ExpressionError(f"{node.id} is a function: call it, e.g. {node.id}(x)")
            if node.id not in variables:
                given = ", ".join(sorted(variables)) or "none"
                raise ExpressionError(
                    f"unknown variable {node.id!r}: give it a value with --set {node.id}=... (given: {given})"
                )
            if node.id not in leaves:
                leaves[node.id] = Value(variables[node.id], label=node.id)
            return leaves[node.id]
        if isinstance(node, ast.Constant):
            if isinstance(node.value, bool) or not isinstance(node.value, (int, float)):
                raise ExpressionError(f"only numbers are allowed as constants, got {node.value!r}")
            return Value(node.value)
        raise ExpressionError(f"{_describe(node)} not allowed in expressions: {ast.unparse(node)!r}")

    return build(tree.body), leaves
