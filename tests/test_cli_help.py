"""What `python -m microgrid --version` and every command's --help print, as a user sees them."""

import subprocess
import sys

import pytest

import microgrid
from microgrid.app.cli import COMMANDS


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "microgrid", *args], capture_output=True, text=True, timeout=60)


def test_version_prints_the_package_version():
    done = run("--version")
    assert done.returncode == 0, done.stderr
    assert done.stdout == f"microgrid {microgrid.__version__}\n"


@pytest.mark.parametrize("command", sorted(COMMANDS))
def test_help_shows_single_percent_signs(command):
    # argparse %-formats help= strings but prints description= as written: a "%%" in a
    # description reached the reader doubled ("98%%")
    done = run(command, "--help")
    assert done.returncode == 0, done.stderr
    assert "%%" not in done.stdout, done.stdout


def test_train_help_names_the_best_presets_target():
    assert "the fastest to 98% we found" in " ".join(run("train", "--help").stdout.split())
