"""Every code block of the docs and the README runs and prints what the page says."""

import subprocess
import sys

import pytest
from docs_exec import (
    ACCURACY_POINTS,
    LOSS_RELATIVE,
    OUTPUT_ABS,
    ROOT,
    ROUNDING,
    Block,
    blocks,
    line_matches,
    matches,
    run_block,
    run_page,
)

PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").rglob("*.md"))]


@pytest.mark.parametrize("page", PAGES, ids=lambda p: str(p.relative_to(ROOT)))
def test_page_runs_as_shown(page, tmp_path):
    for block, actual in run_page(page, tmp_path):
        if block.expected is not None:
            assert matches(block.expected, actual), (
                f"{page.name} line {block.line}: printed\n{actual}\nbut the page shows\n{block.expected}"
            )


def test_every_page_has_running_code():
    for page in PAGES:
        if page.name != "index.md" and page.parent.name != "reference":
            assert blocks(page.read_text()), f"{page} has no code block"


def test_commands_run_from_a_scratch_copy_of_the_root(tmp_path):
    # a reader runs a page's commands from the repository root: they see its files, but
    # what they write must not land in the repository
    block = Block("sh", "ls -d README.md demos/digits\ntouch written-by-a-page.txt\n", None, 1)
    assert run_block(block, {}, tmp_path) == "README.md\ndemos/digits\n"
    assert (tmp_path / "written-by-a-page.txt").is_file()
    assert not (ROOT / "written-by-a-page.txt").exists()


def test_commands_see_no_helper_variables(tmp_path, monkeypatch):
    monkeypatch.setenv("MICROGRID_ROOT", str(ROOT))
    block = Block("sh", 'echo "[${MICROGRID_ROOT:-}]"\n', None, 1)
    assert run_block(block, {}, tmp_path) == "[]\n"


def test_no_page_uses_a_helper_variable():
    for page in PAGES:
        for block in blocks(page.read_text()):
            assert "$MICROGRID" not in block.code, f"{page.name} line {block.line}: a reader has no $MICROGRID_*"


def test_matches_wildcards():
    assert matches("a\n...\nz\n", "a\nb\nc\nz\n")
    assert matches("took ... s\n", "took 1.23 s\n")
    assert not matches("a\nz\n", "a\nb\nz\n")
    assert matches("a\n...\n", "a\n") and not matches("a\n...\nz\n", "a\nz\nb\n")


SHOWN = "epoch   5  loss 0.0210  train 99.64%  test 98.14%  ...s"


def test_the_tolerances_are_the_documented_ones():
    assert (ACCURACY_POINTS, LOSS_RELATIVE, OUTPUT_ABS, ROUNDING) == (0.3, 0.05, 0.01, 1e-14)


CHECKED = "784-16-16-10 sigmoid/sigmoid mse                             2.1e-16   8.2e-16   8.2e-17  ok"


@pytest.mark.parametrize(
    "printed,ok",
    [
        (CHECKED, True),
        (CHECKED.replace("8.2e-16", "1.3e-15"), True),  # Haswell's and Zen's kernels
        (CHECKED.replace("8.2e-17", "0.0e+00"), True),
        (CHECKED.replace("8.2e-16", "3.0e-12"), False),  # more than rounding
        (CHECKED.replace("  ok", "  FAIL"), False),
        (CHECKED.replace("sigmoid/sigmoid", "relu/linear"), False),
    ],
)
def test_check_rows_match_at_the_rounding_level(printed, ok):
    assert line_matches(CHECKED, printed) is ok


PREDICTED = (
    "demos/digits/8.png: 8    activations 0:0.016  1:0.001  2:0.469  3:0.032  4:0.000  5:0.000  6:0.000  7:0.002  "
    "8:0.676  9:0.001"
)


@pytest.mark.parametrize(
    "printed,ok",
    [
        (PREDICTED, True),
        (PREDICTED.replace("2:0.469", "2:0.470"), True),  # Haswell's kernel prints this one
        (PREDICTED.replace("8:0.676", "8:0.667"), True),  # 0.009 off
        (PREDICTED.replace("8:0.676", "8:0.656"), False),  # 0.02 off
        (PREDICTED.replace(": 8    ", ": 2    "), False),  # the digit read is exact
        (PREDICTED.replace("activations", "probabilities"), False),
        (PREDICTED.replace("8.png", "3.png"), False),
        (PREDICTED.replace("  9:0.001", ""), False),  # ten outputs, no fewer
    ],
)
def test_predict_outputs_match_within_the_tolerance(printed, ok):
    assert line_matches(PREDICTED, printed) is ok


@pytest.mark.parametrize(
    "printed,ok",
    [
        ("epoch   5  loss 0.0210  train 99.64%  test 98.14%  9.87s", True),  # as shown
        ("epoch   5  loss 0.0210  train 99.64%  test 98.34%  9.87s", True),  # 0.2 points up
        ("epoch   5  loss 0.0210  train 99.44%  test 97.94%  9.87s", True),  # 0.2 points down, both
        ("epoch   5  loss 0.0218  train 99.64%  test 98.14%  9.87s", True),  # loss 3.8% off
        ("epoch   5  loss 0.0210  train 99.64%  test 98.64%  9.87s", False),  # 0.5 points up
        ("epoch   5  loss 0.0210  train 99.14%  test 98.14%  9.87s", False),  # 0.5 points down
        ("epoch   5  loss 0.0230  train 99.64%  test 98.14%  9.87s", False),  # loss 9.5% off
        ("epoch   5  loss nan  train 99.64%  test 98.14%  9.87s", False),
        ("epoch   6  loss 0.0210  train 99.64%  test 98.14%  9.87s", False),  # the epoch number is exact
        ("epoch   5  cost 0.0210  train 99.64%  test 98.14%  9.87s", False),  # a changed word
        ("epoch   5  loss 0.0210  train 99.64%  valid 98.14%  9.87s", False),
        ("epoch   5  loss 0.0210  train 99.64%  test 98.14  9.87s", False),  # the % sign is exact
    ],
)
def test_training_numbers_match_within_the_tolerance(printed, ok):
    assert line_matches(SHOWN, printed) is ok
    assert matches(f"training ...\n...\n{SHOWN}\n", f"training 784-256-10\n{printed}\n") is ok


def test_only_training_lines_get_a_tolerance():
    assert line_matches("test accuracy 98.14%; saved model.npz", "test accuracy 98.30%; saved model.npz")
    assert not line_matches("test accuracy 98.14%; saved model.npz", "test accuracy 98.50%; saved model.npz")
    assert not line_matches("test accuracy 98.14%; saved model.npz", "test accuracy 98.14%; saved other.npz")
    # any other line is exact, digits included
    assert not line_matches("7.png: 7    probabilities 7:1.000", "7.png: 7    probabilities 7:0.999")
    assert not line_matches("half an epoch: 93% of the test set right", "half an epoch: 92% of the test set right")
    assert not line_matches("on 60000 images (fast engine)", "on 60001 images (fast engine)")


@pytest.mark.parametrize("demo", sorted((ROOT / "demos").glob("*.py")), ids=lambda p: p.name)
def test_demo_runs(demo, tmp_path):
    args = ["--limit", "200"] if demo.name == "scalar_vs_fast.py" else []
    if demo.name == "chain_rule.py":
        args = ["-o", str(tmp_path / "chain.svg")]
    if demo.name == "curvature.py":
        args = ["-o", str(tmp_path / "curvature.png")]
    done = subprocess.run([sys.executable, str(demo), *args], capture_output=True, text=True, cwd=tmp_path, timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip()


def test_mkdocs_builds_strict(tmp_path):
    pytest.importorskip("mkdocs", reason="the reference is built with mkdocs: pip install -e '.[docs]'")
    done = subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "--site-dir", str(tmp_path / "site")],
        cwd=ROOT,
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0, done.stderr
    assert (tmp_path / "site" / "reference" / "index.html").exists()
