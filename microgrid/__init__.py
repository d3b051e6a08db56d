"""microgrid: a scalar autograd engine, the nets built on it, and a fast MNIST path.

``import microgrid`` loads only the pure-Python core: NumPy, graphviz and hypothesis are
imported by the modules that need them (fast, data, draw, testing), never from here.
"""

from .engine import Value, no_grad
from .explain import explain
from .gradcheck import gradcheck
from .losses import cross_entropy, mse
from .nn import MLP, Layer, Module, Neuron
from .optim import SGD, Adam

__all__ = [
    "Value",
    "no_grad",
    "explain",
    "gradcheck",
    "mse",
    "cross_entropy",
    "Module",
    "Neuron",
    "Layer",
    "MLP",
    "SGD",
    "Adam",
]
__version__ = "0.1.0"
