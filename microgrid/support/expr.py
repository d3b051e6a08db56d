"""Small expressions like "tanh(w*x + b)" parsed safely into Values.

Only a whitelist is accepted: names, real numbers, + - * / **, unary minus and plus,
parentheses, and calls with one argument of the ops the table marks as functions
(:data:`FUNCTIONS`: exp, log, tanh, sigmoid, relu, abs, read from :mod:`microgrid.ops`).
Anything else (attributes, subscripts, lambdas, strings, other calls) is rejected with an
ExpressionError; nothing is ever passed to eval or exec.

The parser is a small tokenizer and an operator-precedence (shunting-yard) loop with
Python's precedences: it keeps explicit stacks, never recurses, and does a constant amount
of work per token, so a flat sum of 100,000 terms or a 1 MB expression parses in about a
second and nests as deeply as memory allows. Each computed Value is labelled with its own
text, written as ``ast.unparse`` would ("w * x + b"); a label longer than LABEL_MAX
characters keeps its first and last LABEL_END characters around " ... ", so labels (and
the walk-through of the backward pass) stay linear in the expression's size. An error
quotes at most EXCERPT characters of the expression around the place it found.
"""

from __future__ import annotations

import keyword
import math
import re
import sys
from collections.abc import Callable, Mapping

from ..engine import Value
from ..ops import OPS

__all__ = ["ExpressionError", "parse_expression", "FUNCTIONS", "LABEL_MAX", "LABEL_END", "EXCERPT"]

FUNCTIONS = tuple(name for name, op in OPS.items() if op.function)
"""The functions an expression may call: the ops of the table that are Value methods."""
LABEL_MAX = 60
"""Longest label kept whole; a longer one is shortened to its ends."""
LABEL_END = 28
"""Characters kept at each end of a shortened label."""
EXCERPT = 40
"""Characters of the expression an error quotes on each side of the place it found (80 at most)."""

# precedences, as in ast.unparse: + -, then * /, then unary - +, then **, then atoms
_ARITH, _TERM, _FACTOR, _POWER, _ATOM = 1, 2, 3, 4, 5
_BINARY = {"+": _ARITH, "-": _ARITH, "*": _TERM, "/": _TERM, "**": _POWER}
_TOKEN = re.compile(
    r"""(?P<space>\s+)
    | (?P<number>0[xX][0-9a-fA-F_]+|0[oO][0-7_]+|0[bB][01_]+
        |(?:\d[\d_]*(?:\.[\d_]*)?|\.\d[\d_]*)(?:[eE][-+]?\d[\d_]*)?[jJ]?)
    | (?P<name>[^\W\d]\w*)
    | (?P<other>//)
    | (?P<op>\*\*|[-+*/(),])
    """,
    re.X,
)
_KEYWORDS = {
    "lambda": "lambdas",
    "if": "conditional expressions",
    "else": "conditional expressions",
    "and": "and/or",
    "or": "and/or",
    "not": "not",
    "for": "comprehensions",
    "in": "comparisons",
    "is": "comparisons",
    "await": "await",
    "yield": "yield",
}
_SYMBOLS = {
    ".": "attribute access",
    "[": "subscripts and lists",
    "]": "subscripts and lists",
    "{": "dicts and sets",
    "}": "dicts and sets",
    "'": "strings",
    '"': "strings",
    "<": "comparisons",
    ">": "comparisons",
    "=": "comparisons and assignments",
    "!": "comparisons",
    ":": "lambdas and slices",
    "%": "the operator %",
    "@": "the operator @",
    "~": "the operator ~",
    "&": "bitwise operators",
    "|": "bitwise operators",
    "^": "bitwise operators",
    "//": "the operator //",
}


class ExpressionError(ValueError):
    """The expression is malformed or uses something outside the whitelist."""


class _Long:
    """The two ends of a text too long to keep whole (a shortened label)."""

    __slots__ = ("head", "tail")

    def __init__(self, head: str, tail: str) -> None:
        self.head, self.tail = head, tail

    def __str__(self) -> str:
        return f"{self.head} ... {self.tail}"


_Text = str | _Long


def _join(parts: list[_Text]) -> _Text:
    """The text of ``parts`` one after the other, shortened to its ends when long.

    Each part is short or already shortened, so this costs O(LABEL_MAX), not O(length).
    """
    if all(isinstance(p, str) for p in parts):
        whole = "".join(parts)  # type: ignore[arg-type]
        return whole if len(whole) <= LABEL_MAX else _Long(whole[:LABEL_END], whole[-LABEL_END:])
    head = ""
    for p in parts:
        head += p if isinstance(p, str) else p.head
        if not isinstance(p, str) or len(head) >= LABEL_END:
            break
    tail = ""
    for p in reversed(parts):
        tail = (p if isinstance(p, str) else p.tail) + tail
        if not isinstance(p, str) or len(tail) >= LABEL_END:
            break
    return _Long(head[:LABEL_END], tail[-LABEL_END:])


def _short(text: str) -> _Text:
    """``text`` itself, or its two ends when longer than LABEL_MAX."""
    return text if len(text) <= LABEL_MAX else _Long(text[:LABEL_END], text[-LABEL_END:])


def excerpt(text: str, start: int) -> str:
    """Where in ``text`` something is: "at character N: '...x + y...'", quoting at most
    EXCERPT characters on each side of position ``start``."""
    lo, hi = max(0, start - EXCERPT), min(len(text), start + EXCERPT)
    return f"at character {start + 1}: {('...' if lo else '') + text[lo:hi] + ('...' if hi < len(text) else '')!r}"


class _Parser:
    """One parse: the tokens of ``text`` reduced with an operand stack and an operator stack."""

    def __init__(self, text: str, variables: Mapping[str, float]) -> None:
        self.text = text
        self.variables = variables
        self.leaves: dict[str, Value] = {}
        # operands: (Value, its text, its precedence)
        self.operands: list[tuple[Value, _Text, int]] = []
        # operators: ("bin", op, pos) | ("unary", op, pos) | ("(", function name or "", pos)
        self.operators: list[tuple[str, str, int]] = []

    def fail(self, message: str, start: int) -> ExpressionError:
        return ExpressionError(f"{message} {excerpt(self.text, start)}")

    # -- tokens ---------------------------------------------------------------------------

    def tokens(self) -> list[tuple[str, str, int]]:
        """(kind, text, position) for every token; kind is number, name or op."""
        out: list[tuple[str, str, int]] = []
        text, pos = self.text, 0
        while pos < len(text):
            found = _TOKEN.match(text, pos)
            if found is None:
                symbol = text[pos : pos + 2] if text.startswith("//", pos) else text[pos]
                what = _SYMBOLS.get(symbol, f"the character {symbol!r}")
                raise self.fail(f"{what} not allowed in expressions (only names, numbers, + - * / ** and calls)", pos)
            kind = found.lastgroup or ""
            if kind == "other":
                raise self.fail(f"{_SYMBOLS[found.group()]} not allowed in expressions", pos)
            if kind == "name" and keyword.iskeyword(found.group()):
                self.keyword(found.group(), pos)
            if kind != "space":
                out.append((kind, found.group(), pos))
            pos = found.end()
        return out

    def number(self, token: str, pos: int) -> tuple[Value, _Text, int]:
        """A numeric literal as a constant Value; its text as ast.unparse writes it."""
        shown = _short(token)
        if token[-1] in "jJ":
            raise self.fail(f"only real numbers are allowed as constants, got {shown}", pos)
        exact: int | float = math.inf
        try:
            if token[:2].lower() in ("0x", "0o", "0b"):
                exact = int(token, 0)  # any length: conversion from a power-of-2 base is linear
            elif re.fullmatch(r"\d[\d_]*", token):
                exact = int(token) if len(token) <= 400 else math.inf  # longer is past any float
            else:
                exact = float(token)
            value = float(exact)
        except OverflowError:
            value = math.inf
        except ValueError:
            raise self.fail(f"invalid number {shown}", pos) from None
        if not math.isfinite(value):
            raise self.fail(
                f"number {shown} ({len(token)} characters) is too large: constants must be finite floats "
                f"(at most {sys.float_info.max:.4g})",
                pos,
            )
        return Value(value), _short(repr(exact)), _ATOM

    def keyword(self, token: str, pos: int) -> None:
        """Raise the error for a Python keyword (lambda, if, True...)."""
        if token in ("True", "False", "None"):
            raise self.fail(f"only numbers are allowed as constants, got {token}", pos)
        what = _KEYWORDS.get(token, f"the keyword {token!r}")
        raise self.fail(f"{what} not allowed in expressions", pos)

    def name(self, token: str, pos: int) -> tuple[Value, _Text, int]:
        if token in FUNCTIONS:
            raise self.fail(f"{token} is a function: call it, e.g. {token}(x)", pos)
        if token not in self.variables:
            given = ", ".join(sorted(self.variables)) or "none"
            given = given if len(given) <= 100 else given[:100] + "..."
            shown = token if len(token) <= 30 else None
            hint = f"--set {shown}=..." if shown else "--set NAME=..."
            raise self.fail(
                f"unknown variable {str(_short(token))!r}: give it a value with {hint} (given: {given})", pos
            )
        if token not in self.leaves:
            self.leaves[token] = Value(self.variables[token], label=token)
        return self.leaves[token], _short(token), _ATOM

    # -- reductions -----------------------------------------------------------------------

    def labelled(self, value: Value, text: _Text, precedence: int) -> None:
        if value.parents and not value.label:
            value.label = str(text)
        self.operands.append((value, text, precedence))

    def compute(self, what: _Text, pos: int, step: Callable[[], Value]) -> Value:
        """Run one op; an arithmetic failure becomes an ExpressionError naming the sub-expression."""
        try:
            return step()
        except (ArithmeticError, ValueError) as err:
            raise self.fail(f"cannot compute {str(what)!r}: {err}", pos) from None

    def reduce(self) -> None:
        kind, op, pos = self.operators.pop()
        if kind == "unary":
            value, text, prec = self.operands.pop()
            joined = _join([op, "(", text, ")"] if prec < _FACTOR else [op, text])
            if op == "+":
                self.operands.append((value, joined, _FACTOR))
            elif value.is_leaf and not value.label:  # a negative constant
                self.operands.append((Value(-value.data), joined, _FACTOR))
            else:
                self.labelled(self.compute(joined, pos, value.__neg__), joined, _FACTOR)
            return
        (right, rtext, rprec), (left, ltext, lprec) = self.operands.pop(), self.operands.pop()
        prec = _BINARY[op]
        left_needs, right_needs = (prec + 1, prec) if op == "**" else (prec, prec + 1)
        joined = _join(
            [
                _join(["(", ltext, ")"]) if lprec < left_needs else ltext,
                f" {op} ",
                _join(["(", rtext, ")"]) if rprec < right_needs else rtext,
            ]
        )
        if op == "/" and right.data == 0.0:
            raise self.fail(f"division by zero in {str(joined)!r}: the denominator {str(rtext)!r} is 0", pos)
        if op == "**" and right.is_leaf and not right.label:  # a constant exponent: the engine's x ** c
            operand: Value | float = right.data
        else:
            operand = right
        method = {"+": left.__add__, "-": left.__sub__, "*": left.__mul__, "/": left.__truediv__, "**": left.__pow__}
        self.labelled(self.compute(joined, pos, lambda: method[op](operand)), joined, prec)

    def close(self, pos: int) -> None:
        """A ')' : reduce to its '(' and apply the function called there, if any."""
        while self.operators and self.operators[-1][0] != "(":
            self.reduce()
        if not self.operators:
            raise self.fail("unmatched ')'", pos)
        _, function, start = self.operators.pop()
        if function:  # a plain group keeps its operand and precedence: unparse drops redundant parentheses
            value, text, _ = self.operands.pop()
            joined = _join([function + "(", text, ")"])
            self.labelled(self.compute(joined, start, lambda: Value.apply(function, value)), joined, _ATOM)

    # -- the loop -------------------------------------------------------------------------

    def parse(self) -> Value:
        tokens = self.tokens()
        if not tokens:
            raise ExpressionError("the expression is empty")
        expect_operand = True
        i = 0
        while i < len(tokens):
            kind, token, pos = tokens[i]
            following = tokens[i + 1][1] if i + 1 < len(tokens) else ""
            if expect_operand:
                if kind == "number":
                    self.operands.append(self.number(token, pos))
                    expect_operand = False
                elif kind == "name" and following == "(":
                    if token not in FUNCTIONS:
                        shown = str(_short(token))
                        what = "calls are limited to " + ", ".join(FUNCTIONS)
                        raise self.fail(f"{what}; got {shown}(...)", pos)
                    self.operators.append(("(", token, pos))
                    i += 1  # the '('
                elif kind == "name":
                    self.operands.append(self.name(token, pos))
                    expect_operand = False
                elif token in ("-", "+"):
                    self.operators.append(("unary", token, pos))
                elif token == "(":
                    self.operators.append(("(", "", pos))
                else:
                    raise self.fail(f"expected a number, a name or '(', got {token!r}", pos)
            elif token in _BINARY:
                prec = _BINARY[token]
                while self.operators and self.operators[-1][0] != "(":
                    top_kind, top, _ = self.operators[-1]
                    top_prec = _FACTOR if top_kind == "unary" else _BINARY[top]
                    if top_prec > prec or (top_prec == prec and token != "**"):
                        self.reduce()
                    else:
                        break
                self.operators.append(("bin", token, pos))
                expect_operand = True
            elif token == ")":
                self.close(pos)
            elif token == ",":
                inside = [op for op in self.operators if op[0] == "("]
                if inside and inside[-1][1]:
                    raise self.fail(f"{inside[-1][1]}() takes exactly one argument", pos)
                raise self.fail("tuples not allowed in expressions", pos)
            else:
                raise self.fail(f"expected an operator or ')' after {str(self.operands[-1][1])!r}, got {token!r}", pos)
            i += 1
        if expect_operand:
            raise self.fail("the expression ends too early: expected a number, a name or '('", len(self.text) - 1)
        while self.operators:
            if self.operators[-1][0] == "(":
                raise self.fail("'(' never closed", self.operators[-1][2])
            self.reduce()
        return self.operands[-1][0]


def parse_expression(text: str, variables: Mapping[str, float]) -> tuple[Value, dict[str, Value]]:
    """Build ``text`` over named variables; returns the root and the leaf Value of each name.

    Raises ExpressionError for syntax errors, unknown names, anything not whitelisted and
    arithmetic that fails (1/0, 0 ** -1, log(0), a constant too large for a float); the
    message quotes at most about 2 * EXCERPT characters of ``text``.
    """
    parser = _Parser(text, variables)
    return parser.parse(), parser.leaves
