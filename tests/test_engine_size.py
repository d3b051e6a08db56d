"""The Value module stays short enough to read in one sitting: at most 160 lines of code.

A line of code is a line that holds a token other than a comment, and is not part of a
docstring (a string statement that opens a module, class or function). Blank lines,
comments and docstrings are free: they explain the code.
"""

import ast
import io
import tokenize
from pathlib import Path

ENGINE = Path(__file__).resolve().parents[1] / "microgrid" / "engine.py"
LIMIT = 160


def code_lines(source: str) -> set[int]:
    """The numbers of the lines that hold code (not comments, blank lines or docstrings)."""
    docstring_lines: set[int] = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)) and node.body:
            first = node.body[0]
            value = first.value if isinstance(first, ast.Expr) else None
            if isinstance(value, ast.Constant) and isinstance(value.value, str):
                docstring_lines.update(range(first.lineno, (first.end_lineno or first.lineno) + 1))
    skip = {tokenize.COMMENT, tokenize.NL, tokenize.NEWLINE, tokenize.INDENT, tokenize.DEDENT, tokenize.ENCODING}
    lines: set[int] = set()
    for tok in tokenize.generate_tokens(io.StringIO(source).readline):
        if tok.type not in skip and tok.type != tokenize.ENDMARKER:
            lines.update(range(tok.start[0], tok.end[0] + 1))
    return lines - docstring_lines


def test_the_counter_counts_code_only():
    source = (
        '"""Doc\nstring."""\n\n# a comment\nx = 1  # code\n\n\n'
        'def f():\n    """Doc."""\n    return (1,\n            2)\n'
    )
    assert sorted(code_lines(source)) == [5, 8, 10, 11]


def test_the_value_module_is_at_most_160_lines_of_code():
    n = len(code_lines(ENGINE.read_text()))
    assert n <= LIMIT, f"microgrid/engine.py has {n} lines of code (limit {LIMIT}): only the graph and chain rule"
