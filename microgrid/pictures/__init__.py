"""The pictures: computation graphs drawn with graphviz, the backward pass in words, and
matplotlib figures of what a trained digit reader learned.

``draw`` and ``explain`` are pure Python until a graph is rendered (graphviz is imported
then); ``figures`` needs matplotlib (the ``viz`` extra) and is imported on its own:
``from microgrid.pictures.figures import plot_weights``.
"""

from .draw import draw_dot, draw_network, render
from .explain import explain, explain_text

__all__ = ["draw_dot", "draw_network", "render", "explain", "explain_text"]
