"""The package's layout: four parts, imports one way, no circles, small files.

The rules themselves are import-linter contracts in pyproject.toml (``lint-imports``); these
tests check that the contracts hold, that they would catch a break, and the few rules that
import-linter does not express (no cycle anywhere, files under 400 lines).
"""

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "microgrid"
ENGINE_MODULES = ["engine", "ops", "nn", "losses", "optim", "init"]
SUPPORT_MODULES = ["gradcheck", "toys", "chain", "expr", "atomic"]

grimp = pytest.importorskip("grimp", reason="the import graph is read with grimp: pip install -e '.[dev]'")


def lint_imports(cwd: Path) -> subprocess.CompletedProcess[str]:
    lint = shutil.which("lint-imports")
    if lint is None:
        pytest.skip("lint-imports is not installed: pip install -e '.[dev]'")
    return subprocess.run(
        [lint, "--no-cache"], cwd=cwd, capture_output=True, text=True, env={"PYTHONPATH": str(cwd), "PATH": ""}
    )


def test_the_contracts_hold():
    done = lint_imports(ROOT)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "0 broken" in done.stdout


@pytest.mark.parametrize(
    "module,line,broken",
    [
        ("engine.py", "import numpy", "The engine imports none"),
        ("nn.py", "from .pictures import draw", "The engine imports none"),
        ("digits/data.py", "from ..pictures import draw", "app -> pictures -> digits"),
        ("support/testing.py", "import graphviz", "microgrid.support.testing imports"),
    ],
)
def test_the_contracts_catch_a_wrong_import(tmp_path, module, line, broken):
    shutil.copytree(PACKAGE, tmp_path / "microgrid", ignore=shutil.ignore_patterns("*.gz", "*.npz", "__pycache__"))
    shutil.copy(ROOT / "pyproject.toml", tmp_path)
    with (tmp_path / "microgrid" / module).open("a") as f:
        f.write(f"\n{line}\n")
    done = lint_imports(tmp_path)
    assert done.returncode != 0
    assert f"{broken}" in done.stdout and "BROKEN" in done.stdout


def test_no_import_circle_anywhere():
    graph = grimp.build_graph("microgrid")
    circles = []
    for module in sorted(graph.modules):
        for imported in sorted(graph.find_modules_directly_imported_by(module)):
            if graph.chain_exists(importer=imported, imported=module):
                circles.append(f"{module} <-> {imported}")
    assert not circles, circles


def test_engine_modules_exist_where_the_contract_says():
    for name in ENGINE_MODULES:
        assert (PACKAGE / f"{name}.py").is_file(), name
    for name in SUPPORT_MODULES:
        assert (PACKAGE / "support" / f"{name}.py").is_file(), name


def test_no_source_file_over_400_lines():
    long = {
        str(p.relative_to(ROOT)): n
        for p in [*PACKAGE.rglob("*.py"), *(ROOT / "benchmarks").glob("*.py"), *(ROOT / "demos").glob("*.py")]
        if (n := len(p.read_text().splitlines())) > 400
    }
    assert not long, long


def test_public_api_from_the_root_and_from_the_parts():
    code = (
        "import sys\n"
        "from microgrid import Value, MLP, SGD, Adam, mse, cross_entropy, draw_dot, explain, gradcheck, no_grad\n"
        "from microgrid.pictures import draw_dot as d2, explain as e2\n"
        "assert d2 is draw_dot and e2 is explain\n"
        "print(','.join(m for m in ('numpy', 'graphviz', 'hypothesis', 'matplotlib') if m in sys.modules))\n"
        "from microgrid.digits import FastMLP, load_mnist, train, read_digit\n"
        "print('numpy' in sys.modules)\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, check=True)
    assert done.stdout.split("\n")[:2] == ["", "True"]
