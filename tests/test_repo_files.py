"""The repository's tracked text files hold no leftover merge-conflict markers."""

import re
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
MARKER = re.compile(r"^(<{7}|>{7}) ", re.MULTILINE)  # a conflict's first and last lines


def tracked_files() -> list[Path]:
    try:
        listed = subprocess.run(["git", "ls-files", "-z"], cwd=ROOT, capture_output=True, check=True).stdout
    except (OSError, subprocess.CalledProcessError) as err:
        pytest.skip(f"needs a git checkout: {err}")
    return [ROOT / name for name in listed.decode().split("\0") if name]


def test_no_merge_conflict_markers():
    found = []
    for path in tracked_files():
        if not path.is_file() or path.suffix in {".png", ".npz", ".gz", ".ico", ".pdf"}:
            continue
        try:
            text = path.read_text(encoding="utf-8")
        except UnicodeDecodeError:
            continue
        found += [f"{path.relative_to(ROOT)}:{text.count(chr(10), 0, m.start()) + 1}" for m in MARKER.finditer(text)]
    assert found == [], f"merge-conflict markers left in: {found}"
