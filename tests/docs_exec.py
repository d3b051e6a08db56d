"""Run the code blocks of a Markdown page and compare what they print with the page.

Blocks: ```python (run in one namespace per page, stdout captured), ```sh (each line run
by bash in the page's working directory), each optionally followed by a ```text block:
the output the page promises. In a text block a line "..." matches any number of lines
and "..." inside a line matches any text (timings). Run this file on a page with --update
to print the outputs (to paste in when writing a page).

Every other character must match exactly, with one exception: the numbers a float32
training run prints depend on the CPU (OpenBLAS picks its kernels per CPU, so the last
digits of a run differ from one machine to another, deterministically on each). On a
training line, one that starts with "epoch " or "test accuracy " (the lines
``microgrid.digits.train`` and ``python -m microgrid train`` print):

- a percentage (a number followed by "%") matches within ACCURACY_POINTS (0.3) points:
  a page showing ``test 98.14%`` accepts 97.84% to 98.44%;
- the number after the word "loss" matches within LOSS_RELATIVE (5%) of the shown value.

The words, the epoch numbers and the number of lines stay exact, so a page still fails
when the output changes shape or the training gets worse by more than noise.

A model trained on the page carries those differences into what ``predict`` prints. On a
predict line (``PICTURE: DIGIT    activations 0:... 9:...``, or ``probabilities``) the
digit read stays exact and each of the ten outputs matches within OUTPUT_ABS (0.01).

``check`` compares two float64 computations done in a different order, and the order of a
BLAS kernel's sums differs per CPU too. On a row of its table (a line that ends in "ok"),
a difference shown in e-notation below ROUNDING (1e-14) matches any printed one below
ROUNDING: the rounding level, whatever its last digits. A larger one stays exact.
"""

from __future__ import annotations

import contextlib
import io
import os
import re
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
FENCE = re.compile(r"^```([\w-]*)[^\n]*\n(.*?)^```", re.S | re.M)


@dataclass
class Block:
    kind: str
    code: str
    expected: str | None
    line: int


def blocks(text: str) -> list[Block]:
    found = [(m.group(1), m.group(2), text[: m.start()].count("\n") + 1) for m in FENCE.finditer(text)]
    out: list[Block] = []
    for i, (kind, code, line) in enumerate(found):
        if kind in ("python", "sh"):
            following = found[i + 1] if i + 1 < len(found) else None
            expected = following[1] if following and following[0] == "text" else None
            out.append(Block(kind, code, expected, line))
    return out


def reader_directory(scratch: Path) -> Path:
    """A directory that looks like the repository root to a command: a link to each of the
    repository's top-level entries, in ``scratch``, so what a page's commands write
    (model.npz, chain.svg) lands in the scratch directory, not in the repository."""
    for entry in ROOT.iterdir():
        if entry.name != ".git" and not (scratch / entry.name).exists():
            (scratch / entry.name).symlink_to(entry)
    return scratch


def reader_environment() -> dict[str, str]:
    """The environment of a reader's plain shell: the test's own, with no helper variable
    a reader would not have, and the checkout importable (as ``pip install -e .`` makes it)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("MICROGRID")}
    env["PYTHONPATH"] = str(ROOT)
    return env


def run_block(block: Block, namespace: dict, cwd: Path) -> str:
    """Run one block in ``cwd``, made to look like the repository root; returns what it printed.

    Python blocks run in ``namespace`` (shared by the page's blocks); each line of an sh
    block runs in its own bash, as a reader would type it.
    """
    cwd = reader_directory(cwd)
    if block.kind == "python":
        buffer = io.StringIO()
        old = os.getcwd()
        os.chdir(cwd)
        try:
            with contextlib.redirect_stdout(buffer):
                exec(compile(block.code, f"<block at line {block.line}>", "exec"), namespace)
        finally:
            os.chdir(old)
        return buffer.getvalue()
    output = []
    env = reader_environment()
    for command in block.code.strip().splitlines():
        if not command.strip() or command.lstrip().startswith("#"):
            continue
        done = subprocess.run(["bash", "-c", command], cwd=cwd, capture_output=True, text=True, env=env)
        if done.returncode != 0:
            raise AssertionError(
                f"line {block.line}: `{command}` failed ({done.returncode}):\n{done.stdout}{done.stderr}"
            )
        output.append(done.stdout)
    return "".join(output)


ACCURACY_POINTS = 0.3
"""How far (in percentage points) a percentage on a training line may be from the page's."""
LOSS_RELATIVE = 0.05
"""How far (relative) the loss on a training line may be from the page's."""

OUTPUT_ABS = 0.01
"""How far one of the ten outputs on a predict line may be from the page's."""

ROUNDING = 1e-14
"""Below this, two differences on a row of ``check``'s table are both rounding-level."""

_TRAINING_LINE = re.compile(r"\s*(epoch|test accuracy) ")
_CHECK_ROW = re.compile(r".*\d\.\de[-+]\d\d.*  ok")
_DIFFERENCE = re.compile(r"\d\.\de[-+]\d\d")
_PREDICT_LINE = re.compile(r"\S+: \d    (activations|probabilities)( \s*\d:\d\.\d+){10}$")
_OUTPUT = re.compile(r"(?<=\d:)\d\.\d+")
# on a training line: "...", a number before "%", or the number after the word "loss"
_TOKEN = re.compile(r"(?P<any>\.\.\.)|(?<![\d.])(?P<percent>\d+(?:\.\d+)?)(?=%)|(?<=\bloss )(?P<loss>\d+(?:\.\d+)?)")
_NUMBER = r"(-?\d+(?:\.\d+)?(?:[eE][-+]?\d+)?|nan|inf)"


def _line_pattern(expected: str) -> tuple[re.Pattern[str], list[tuple[str, float]]]:
    """A regex for one expected line and, per capture group, the kind and value of the
    number it must be close to (training lines only; see the module docstring)."""
    for line_kind, number, kind in ((_PREDICT_LINE, _OUTPUT, "output"), (_CHECK_ROW, _DIFFERENCE, "rounding")):
        if line_kind.fullmatch(expected):
            parts, slots, at = [], [], 0
            for token in number.finditer(expected):
                parts += [re.escape(expected[at : token.start()]), _NUMBER]
                slots.append((kind, float(token.group())))
                at = token.end()
            return re.compile("".join(parts) + re.escape(expected[at:]) + r"[ \t]*"), slots
    if not _TRAINING_LINE.match(expected):
        return re.compile(".*?".join(re.escape(part) for part in expected.split("...")) + r"[ \t]*"), []
    parts, slots, at = [], [], 0
    for token in _TOKEN.finditer(expected):
        parts.append(re.escape(expected[at : token.start()]))
        if token.group("any"):
            parts.append(".*?")
        else:
            kind = "percent" if token.group("percent") else "loss"
            parts.append(_NUMBER)
            slots.append((kind, float(token.group(kind))))
        at = token.end()
    parts.append(re.escape(expected[at:]) + r"[ \t]*")
    return re.compile("".join(parts)), slots


def _close(kind: str, shown: float, printed: float) -> bool:
    if kind == "output":
        return abs(printed - shown) <= OUTPUT_ABS + 1e-9
    if kind == "rounding":
        return printed == shown or (abs(shown) < ROUNDING and abs(printed) < ROUNDING)
    if kind == "percent":
        return abs(printed - shown) <= ACCURACY_POINTS + 1e-9
    return abs(printed - shown) <= LOSS_RELATIVE * abs(shown) + 1e-12


def line_matches(expected: str, actual: str) -> bool:
    """One expected line (maybe with "..." inside) against one printed line."""
    return _compiled_matches(_line_pattern(expected.rstrip()), actual)


def _compiled_matches(compiled: tuple[re.Pattern[str], list[tuple[str, float]]], actual: str) -> bool:
    pattern, slots = compiled
    found = pattern.fullmatch(actual)
    if found is None:
        return False
    return all(_close(kind, shown, float(printed)) for (kind, shown), printed in zip(slots, found.groups()))


def matches(expected: str, actual: str) -> bool:
    """Whether printed output ``actual`` is what the page's text block ``expected`` shows.

    A line "..." stands for any number of lines (matched by dynamic programming over the
    two lists of lines, no recursion); other lines go through :func:`line_matches`.
    """
    want = expected.rstrip("\n").splitlines()
    got = actual.rstrip("\n").splitlines() if actual.strip() else []
    patterns = [_line_pattern(line.rstrip()) for line in want]
    # ok[i][j]: want[i:] matches got[j:]
    ok = [[False] * (len(got) + 1) for _ in range(len(want) + 1)]
    ok[len(want)][len(got)] = True
    for i in range(len(want) - 1, -1, -1):
        for j in range(len(got), -1, -1):
            if want[i].strip() == "...":
                ok[i][j] = ok[i + 1][j] or (j < len(got) and ok[i][j + 1])
            else:
                ok[i][j] = j < len(got) and ok[i + 1][j + 1] and _compiled_matches(patterns[i], got[j])
    return ok[0][0]


def run_page(path: Path, cwd: Path) -> list[tuple[Block, str]]:
    namespace: dict = {"__name__": "__docs__"}
    results = []
    for block in blocks(path.read_text()):
        actual = run_block(block, namespace, cwd)
        results.append((block, actual))
    return results


if __name__ == "__main__":
    import tempfile

    for page in sys.argv[1:]:
        if page == "--update":
            continue
        with tempfile.TemporaryDirectory() as tmp:
            for block, actual in run_page(Path(page), Path(tmp)):
                print(f"--- line {block.line} ({block.kind})")
                print(actual, end="")
