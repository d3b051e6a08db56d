"""Run the code blocks of a Markdown page and compare what they print with the page.

Blocks: ```python (run in one namespace per page, stdout captured), ```sh (each line run
by bash in the page's working directory), each optionally followed by a ```text block:
the output the page promises. In a text block a line "..." matches any number of lines
and "..." inside a line matches any text (timings). Run this file on a page with --update
to print the outputs (to paste in when writing a page).
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


def matches(expected: str, actual: str) -> bool:
    pattern = []
    for line in expected.rstrip("\n").splitlines():
        if line.strip() == "...":
            pattern.append(r"(?:.*\n)*?")
        else:
            pattern.append(".*?".join(re.escape(part) for part in line.rstrip().split("...")) + r"[ \t]*\n")
    return re.fullmatch("".join(pattern), actual.rstrip("\n") + "\n" if actual.strip() else "") is not None


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
