"""The digits: NumPy, the bundled MNIST, the fast path, training, model files, the digit reader.

The fast path (:mod:`.fast`) is the notes' matrix equations over a whole mini-batch; it is
checked against the scalar engine by :mod:`.crosscheck`.
"""

from .data import Dataset, load_mnist
from .fast import FastMLP
from .model_file import load_model, save_model
from .predict import read_digit
from .train import PRESETS, TrainConfig, train

__all__ = [
    "Dataset",
    "load_mnist",
    "FastMLP",
    "load_model",
    "save_model",
    "read_digit",
    "PRESETS",
    "TrainConfig",
    "train",
]
