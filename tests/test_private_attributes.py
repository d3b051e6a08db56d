"""Outside the Value module, code reads a node through its public accessors (parents, op,
constants, is_leaf), never through the private slots it keeps them in."""

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PRIVATE = re.compile(r"\._(prev|op|aux)\b")
MICROGRAD = re.compile(r"micrograd")  # micrograd's own Value keeps its parents in _prev


def test_no_private_node_attribute_outside_the_value_module():
    files = [*ROOT.glob("microgrid/**/*.py"), *ROOT.glob("tests/*.py"), *ROOT.glob("benchmarks/*.py")]
    files += [*ROOT.glob("demos/*.py"), *ROOT.glob("docs/**/*.md"), *ROOT.glob("*.md")]
    found = []
    for path in files:
        if path == ROOT / "microgrid" / "engine.py" or path == Path(__file__).resolve():
            continue
        for number, line in enumerate(path.read_text().splitlines(), start=1):
            if PRIVATE.search(line) and not MICROGRAD.search(line):
                found.append(f"{path.relative_to(ROOT)}:{number}: {line.strip()}")
    assert not found, "\n".join(found)
