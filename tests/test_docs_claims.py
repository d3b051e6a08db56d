"""What the prose of the docs says about a picture or a run, checked against the run itself.

The code blocks' outputs are checked by test_docs.py; this file checks the sentences and
alt texts around them: the curve's numbers (from the bundled notes' model the picture is
drawn from), which first-layer neurons are sharp strokes, the misread digit, and that the
README's set-up command is the one its tested block and CI run.
"""

import re
from pathlib import Path

import numpy as np
from docs_exec import FENCE

from microgrid.digits.model_file import load_model

ROOT = Path(__file__).resolve().parents[1]
README = (ROOT / "README.md").read_text()
TUTORIAL = (ROOT / "docs" / "tutorial.md").read_text()
BUNDLED_NOTES = ROOT / "microgrid" / "digits" / "models" / "notes.npz"  # what make_pictures.sh draws


def flat(text: str) -> str:
    return " ".join(text.split())


def test_the_curves_alt_text_gives_the_pictured_run():
    _, meta = load_model(BUNDLED_NOTES)
    first, last = meta["history"][0], meta["history"][-1]
    wanted = (
        f"falling from {first['loss']:.2f} to {last['loss']:.2f}; right, the share of training (blue) and test "
        f"(orange) images read right, reaching {last['train_accuracy']:.1%} and {last['test_accuracy']:.1%}"
    )
    for page in (README, TUTORIAL):
        alt = re.search(r"!\[Training of the notes' network: ([^\]]*)\]\([^)]*notes-curves.png\)", page)
        assert alt is not None
        assert wanted in alt.group(1), alt.group(1)


def stroke_share(weights: np.ndarray, pixels: int = 20) -> np.ndarray:
    """Per neuron (row), the share of its squared weights in its ``pixels`` largest."""
    squares = np.asarray(weights, dtype=np.float64) ** 2
    return np.sort(squares, axis=1)[:, -pixels:].sum(axis=1) / squares.sum(axis=1)


STORY = (
    "Some do, most do not: neurons 4, 6, 9 and 13 are short, sharp strokes (13, with blue beside its red, is an "
    "edge), 3 and 14 fainter ones; 0, 2, 7, 8, 11, 12 and 15 are broad bars and arcs; 1, 5 and 10 look close to "
    "noise."
)


def test_the_sharp_strokes_are_the_neurons_with_half_their_weight_in_20_pixels():
    model, _ = load_model(BUNDLED_NOTES)
    share = stroke_share(model.weights[0].data)
    assert set(np.flatnonzero(share > 0.5)) == {4, 6, 9, 13}
    # the fainter strokes and the bar come next, the noise-like ones last
    assert set(np.argsort(-share)[4:7]) == {0, 3, 14}
    assert set(np.argsort(-share)[-6:]) >= {1, 5, 10}


def test_readme_tutorial_and_notebook_tell_one_story_about_the_first_layer():
    notebook = (ROOT / "docs" / "notebook.ipynb").read_text()
    assert STORY in flat(README)
    assert STORY in flat(TUTORIAL)
    assert "neurons 4, 6, 9 and 13 are short, sharp strokes" in notebook
    for page in (README, TUTORIAL, (ROOT / "docs" / "live-learn.md").read_text()):
        assert "stroke detectors" not in flat(page)
        assert "mostly noise" not in flat(page)


PREDICT = re.compile(r"^demos/digits/(\d)\.png: (\d)    activations (.*)$", re.M)


def test_the_readme_shows_nine_of_ten_read_right_and_the_3_read_as_an_8():
    read = {int(shown): int(said) for shown, said, _ in PREDICT.findall(README)}
    assert sorted(read) == list(range(10))
    assert {digit: said for digit, said in read.items() if said != digit} == {3: 8}
    assert "reads nine of the ten pictures right and takes the 3 for an 8" in flat(README)
    assert "reads nine of the ten demo digits" in flat(TUTORIAL)


def test_the_tutorials_misread_digit_sentence_gives_the_printed_activations():
    line = re.search(r"^demos/digits/3\.png: 8    activations (.*)$", TUTORIAL, re.M)
    assert line is not None
    outputs = {int(k): float(v) for k, v in re.findall(r"(\d):(\d\.\d+)", line.group(1))}
    assert f'the "8" neuron is at {outputs[8]:.2f} and the "3" neuron at {outputs[3]:.2f}' in flat(TUTORIAL)
    assert "misread 5" not in TUTORIAL


def setup_commands() -> list[str]:
    block = re.search(r"## Set-up: two commands.*?```console\n(.*?)```", README, re.S)
    assert block is not None
    return [line for line in block.group(1).splitlines() if line and not line.startswith("#")]


def test_the_first_set_up_command_ends_with_the_tested_block():
    first = setup_commands()[0]
    shown = re.search(r"The first command ends with this.*?```sh\n(.*?)```", README, re.S)
    assert shown is not None
    assert first.endswith(" && " + " && ".join(shown.group(1).strip().splitlines()))
    assert "--preset notes " in first and "--preset best" not in first


def test_ci_runs_the_readmes_test_command():
    second = setup_commands()[1]
    after_apt = second[second.index("python3 -m venv") :]
    assert after_apt.endswith("python -m pytest -q")
    install, _, test = after_apt.rpartition(" && ")
    ci = (ROOT / ".ci" / "run").read_text()
    assert install in ci
    assert re.search(r"^CI=true " + re.escape(test) + "$", ci, re.M)
    assert "torch==2.13.0" in second
    # CI installs no other torch
    assert re.findall(r"torch[=<>!~]=?[\d.]+", ci) == ["torch==2.13.0"]


def test_the_fast_path_lines_quoted_in_inside_md_are_in_the_source():
    page = (ROOT / "docs" / "inside.md").read_text()
    source = "".join((ROOT / "microgrid" / "digits" / name).read_text() for name in ("fast.py", "fast_kernels.py"))
    bare_blocks = [m.group(2) for m in FENCE.finditer(page) if m.group(1) == ""]
    quoted = [line.split("#")[0].strip() for block in bare_blocks for line in block.splitlines()]  # the code
    assert len(quoted) >= 5
    for line in quoted:
        assert line in source, f"docs/inside.md quotes a line that is not in fast.py or fast_kernels.py: {line}"
