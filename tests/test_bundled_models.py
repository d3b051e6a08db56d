"""The two models that ship in the package: what they were trained by, and what they read."""

from pathlib import Path

import pytest

from microgrid.digits.model_file import load_model
from microgrid.digits.predict import DEFAULT_MODEL, read_digit

ROOT = Path(__file__).resolve().parents[1]
MODELS = ROOT / "microgrid" / "digits" / "models"


@pytest.mark.parametrize("digit", range(10))
def test_the_bundled_model_reads_every_demo_digit(digit):
    assert read_digit(ROOT / "demos" / "digits" / f"{digit}.png").digit == digit


def test_the_bundled_model_records_its_training_command():
    _, meta = load_model(DEFAULT_MODEL)
    recipe = "--preset best --augment 2 --epochs 8 --lr-decay 0.6 --seed 0"
    assert meta["command"].startswith(f"python -m microgrid train {recipe}")
    assert meta["config"]["augment"] == 2 and meta["config"]["seed"] == 0 and len(meta["history"]) == 8
    assert meta["config"]["lr_decay"] == 0.6


def test_the_notes_model_is_the_notes_net_and_says_which_seed():
    model, meta = load_model(MODELS / "notes.npz")
    assert model.sizes == [784, 16, 16, 10]
    assert model.activation == model.output_activation == "sigmoid"
    assert meta["config"]["loss"] == "mse" and meta["config"]["optimizer"] == "sgd"
    seed = meta["config"]["seed"]
    assert meta["command"].startswith(f"python -m microgrid train --preset notes --seed {seed} ")
