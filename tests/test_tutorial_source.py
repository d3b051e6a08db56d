"""The tutorial's engine section shows the engine's real code: each block marked
``<!-- source: FILE MARKER -->`` equals the lines between ``# [MARKER]`` and ``# [/MARKER]``
in FILE (dedented), and every marker in the source is shown on the page."""

import re
import textwrap
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PAGE = ROOT / "docs" / "tutorial.md"
INCLUDE = re.compile(r"<!-- source: (\S+) (\S+) -->\n```py\n(.*?)^```", re.S | re.M)
SOURCES = ["microgrid/engine.py", "microgrid/ops.py"]


def region(path: str, marker: str) -> str:
    text = (ROOT / path).read_text()
    found = re.search(rf"^[ \t]*# \[{re.escape(marker)}\]\n(.*?)^[ \t]*# \[/{re.escape(marker)}\]\n", text, re.S | re.M)
    assert found, f"{path} has no # [{marker}] ... # [/{marker}] region"
    return textwrap.dedent(found.group(1))


def included() -> list[tuple[str, str, str]]:
    return INCLUDE.findall(PAGE.read_text())


def test_the_engine_section_is_one_block_on_the_page():
    text = PAGE.read_text()
    assert text.count("<!-- engine-section -->") == 1 and text.count("<!-- /engine-section -->") == 1
    start, end = text.index("<!-- engine-section -->"), text.index("<!-- /engine-section -->")
    assert all(start < text.index(f"<!-- source: {p} {m} -->") < end for p, m, _ in included())


@pytest.mark.parametrize("path,marker,shown", included(), ids=[m for _, m, _ in included()])
def test_page_shows_the_code_in_the_file(path, marker, shown):
    assert shown == region(path, marker), f"docs/tutorial.md's block of {path} [{marker}] differs from the file"


def test_every_marked_region_is_on_the_page():
    on_page = {(p, m) for p, m, _ in included()}
    for path in SOURCES:
        for marker in re.findall(r"^[ \t]*# \[(tutorial:[\w-]+)\]$", (ROOT / path).read_text(), re.M):
            assert (path, marker) in on_page, f"{path} marks [{marker}] but docs/tutorial.md does not show it"
    assert {m for _, m in on_page} >= {"tutorial:value", "tutorial:ops", "tutorial:backward"}
