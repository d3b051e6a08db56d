"""benchmarks/accuracy.py: one row per preset, its median, min and max over the seeds."""

import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_accuracy_table_has_median_min_max_per_preset():
    r = subprocess.run(
        [sys.executable, str(ROOT / "benchmarks" / "accuracy.py"), "--presets", "notes-plain,notes", "--seeds", "0,1,2",
         "--set", "epochs=1", "--set", "limit=300"],
        capture_output=True, text=True, cwd=ROOT, timeout=300,
    )  # fmt: skip
    assert r.returncode == 0, r.stderr
    per_seed = {}
    for line in r.stdout.splitlines():
        if line.startswith(("notes-plain:", "notes:")):
            name = line.split(":")[0]
            per_seed[name] = sorted(float(a) for a in re.findall(r"seed \d+ ([\d.]+)%", line))
    assert set(per_seed) == {"notes-plain", "notes"} and all(len(v) == 3 for v in per_seed.values())
    for name, accs in per_seed.items():
        row = re.search(rf"^\| {re.escape(name)} +\| ([\d.]+)% +\| ([\d.]+)% +\| ([\d.]+)% +\|", r.stdout, re.M)
        assert row, r.stdout
        assert [float(x) for x in row.groups()] == [accs[1], accs[0], accs[2]]  # median, min, max of three


def test_unknown_preset_is_one_clear_error():
    r = subprocess.run([sys.executable, str(ROOT / "benchmarks" / "accuracy.py"), "--presets", "nope"],
                       capture_output=True, text=True, cwd=ROOT)  # fmt: skip
    assert r.returncode == 2 and "unknown preset(s) nope" in r.stderr
