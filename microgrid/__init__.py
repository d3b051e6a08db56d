"""microgrid: a scalar autograd engine, the nets built on it, and a fast MNIST path.

The package is four parts, one folder each (see CONTRIBUTING.md):

- the engine, here at the top: ``Value`` and its ops, ``grad``/``hessian``/``hvp``
  (gradients as Values, differentiable again), ``define_op`` (ops of your own),
  ``Neuron``/``Layer``/``MLP``, losses, optimizers, ``gradcheck``; pure Python;
- :mod:`microgrid.pictures`: graphviz graphs, the backward pass in words, figures;
- :mod:`microgrid.digits`: NumPy, the bundled MNIST, the fast path, the digit reader;
- :mod:`microgrid.app`: the command line.

``import microgrid`` loads only the pure-Python core and the graph drawing functions:
graphviz, NumPy, matplotlib and hypothesis are imported by the functions that need them,
never from here.
"""

from .autodiff import grad, hessian, hvp
from .custom_ops import define_op
from .engine import Value, no_grad
from .losses import cross_entropy, mse
from .nn import MLP, Layer, Module, Neuron
from .optim import SGD, Adam
from .pictures.draw import draw_dot
from .pictures.explain import explain
from .support import graph_pickle as _graph_pickle  # noqa: F401 - registers how a Value pickles
from .support.gradcheck import gradcheck

__all__ = [
    "Value",
    "no_grad",
    "grad",
    "hessian",
    "hvp",
    "define_op",
    "explain",
    "draw_dot",
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
