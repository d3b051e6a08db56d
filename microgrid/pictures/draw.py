"""Pictures of the chain rule: computation graphs and small networks, with graphviz.

``draw_dot(root)`` draws every value as a box (label, data, grad) and every op as its own
small node; each edge from a parent into an op carries the local derivative
d(out)/d(parent) at the current values, so every factor of the chain rule is on the page.
``highlight=leaf`` colours every path from that leaf to the root and writes, in a caption,
the product of the local derivatives along each path and their sum, which is leaf.grad.

graphviz is imported inside the functions: ``import microgrid`` stays light, and building
a Digraph (and its DOT source) needs only the Python package, not the ``dot`` program.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..engine import Value
from ..ops import OPS
from ..ops import local_derivatives as _local
from ..support.atomic import write_bytes_atomically

if TYPE_CHECKING:
    import graphviz

    from ..nn import MLP

__all__ = [
    "draw_dot",
    "draw_network",
    "render",
    "local_derivatives",
    "chain_paths",
    "FORMATS",
    "RenderError",
]

FORMATS = ("svg", "png", "pdf", "dot")
DOT_EXPAND = 8  # a fused weighted sum with more inputs than this has its leaf inputs grouped
HIGHLIGHT = "#d62728"
POSITIVE, NEGATIVE = "#b2182b", "#2166ac"  # weight signs: the ends of RdBu_r, as everywhere in microgrid
MAX_PATHS = 12


class RenderError(RuntimeError):
    """Rendering failed: the ``dot`` program is missing, or the output cannot be written."""


def _num(x: float) -> str:
    if x == 0.0:
        return "0"
    if math.isinf(x) or math.isnan(x):
        return str(x)
    if 1e-3 <= abs(x) < 1e5:
        return f"{x:.4f}".rstrip("0").rstrip(".")
    return f"{x:.3e}"


def escape(text: str) -> str:
    """Escape text for a graphviz record label: backslash, quotes, braces, <, >, |."""
    out = text.replace("\\", "\\\\")
    for ch in '"{}|<>':
        out = out.replace(ch, "\\" + ch)
    return out


def local_derivatives(node: Value) -> tuple[float, ...]:
    """d(node)/d(parent) for each parent, at the current values (the rule with upstream 1)."""
    return _local(node) if node.parents else ()


def symbol(op: str) -> str:
    """An op's label in drawings: its table symbol ("×" for "*"), else its name."""
    entry = OPS.get(op)
    return entry.symbol if entry is not None and entry.symbol else op


def _grouped(node: Value) -> set[int]:
    """Positions of the parents of a big fused dot node that are drawn as groups."""
    if node.op != "dot":
        return set()
    n = (len(node.parents) - 1) // 2
    if n <= DOT_EXPAND:
        return set()
    return {i for i, p in enumerate(node.parents[: 2 * n]) if p.is_leaf}


def _visible(root: Value, order: list[Value]) -> list[Value]:
    """The Values of ``order`` drawn one by one (leaves behind a grouped dot input are left out)."""
    hidden: set[int] = set()
    shown_elsewhere: set[int] = set()
    for node in order:
        grouped = _grouped(node)
        for i, p in enumerate(node.parents):
            (hidden if i in grouped else shown_elsewhere).add(id(p))
    return [n for n in order if id(n) not in hidden or id(n) in shown_elsewhere or n is root]


def chain_paths(root: Value, leaf: Value) -> list[list[tuple[Value, Value, float]]]:
    """Every path leaf -> ... -> root as a list of edges (parent, child, local derivative)."""
    children: dict[int, list[tuple[Value, float]]] = {}
    for node in root.topological_order():
        for parent, d in zip(node.parents, local_derivatives(node)):
            children.setdefault(id(parent), []).append((node, d))
    paths: list[list[tuple[Value, Value, float]]] = []
    stack: list[tuple[Value, list[tuple[Value, Value, float]]]] = [(leaf, [])]
    while stack:
        node, path = stack.pop()
        if node is root:
            paths.append(path)
            continue
        for child, d in reversed(children.get(id(node), [])):
            stack.append((child, [*path, (node, child, d)]))
    return paths


def _caption(root: Value, leaf: Value, paths: list[list[tuple[Value, Value, float]]]) -> str:
    who = leaf.label or "the highlighted leaf"
    root_name = root.label or "the root"
    lines = [f"d {root_name} / d {who}: the sum over every path of the product of its local derivatives"]
    total = 0.0
    for k, path in enumerate(paths):
        product = math.prod(d for _, _, d in path)
        total += product
        if k < MAX_PATHS:
            factors = " × ".join(_num(d) for _, _, d in path)
            steps = " → ".join([who] + [e[1].label or symbol(e[1].op) for e in path])
            lines.append(f"path {k + 1}: {steps}:  {factors} = {_num(product)}")
    if len(paths) > MAX_PATHS:
        lines.append(f"... and {len(paths) - MAX_PATHS} more paths")
    lines.append(f"sum = {_num(total)}   ({who}.grad = {_num(leaf.grad)})")
    return "\n".join(lines)


def draw_dot(
    root: Value,
    *,
    rankdir: str = "LR",
    show_grad: bool = True,
    local_derivatives: bool = True,
    highlight: Value | None = None,
    max_nodes: int = 500,
) -> graphviz.Digraph:
    """The computation graph that ends in ``root`` as a ``graphviz.Digraph``.

    Args:
        root: the output Value (call ``root.backward()`` first to see grads).
        rankdir: "LR" (left to right, default) or "TB" (top to bottom).
        show_grad: print each value's grad under its data.
        local_derivatives: label each edge into an op with d(out)/d(parent), e.g. "× 0.5".
        highlight: a Value of the graph: colour every path from it to root and add a
            caption with each path's chain-rule product and their sum (= highlight.grad).
        max_nodes: refuse graphs with more values than this (ValueError).

    A Digraph renders inline in Jupyter; ``render(graph, "out.svg")`` writes a file.
    """
    import graphviz

    if rankdir not in ("LR", "TB", "RL", "BT"):
        raise ValueError(f"rankdir must be LR, TB, RL or BT, got {rankdir!r}")
    order = root.topological_order()
    nodes = _visible(root, order)
    if len(nodes) > max_nodes:
        raise ValueError(
            f"the graph has {len(nodes)} values, more than max_nodes={max_nodes}: draw a smaller piece "
            "(one neuron's output, or a loss on fewer inputs), pass a larger max_nodes, or use "
            "draw_network(mlp) for a picture of the architecture"
        )
    on_path: set[tuple[int, int]] = set()
    caption = ""
    if highlight is not None:
        if not any(n is highlight for n in order):
            raise ValueError(f"highlight must be a Value of this graph ({highlight!r} is not)")
        paths = chain_paths(root, highlight)
        on_path = {(id(p), id(c)) for path in paths for p, c, _ in path}
        caption = _caption(root, highlight, paths)

    dot = graphviz.Digraph(graph_attr={"rankdir": rankdir, "fontname": "Helvetica"})
    dot.attr("node", fontname="Helvetica", fontsize="11")
    dot.attr("edge", fontname="Helvetica", fontsize="10")
    lit_nodes = {i for pair in on_path for i in pair}
    for node in nodes:
        uid = f"v{id(node)}"
        fields = [escape(node.label)] if node.label else []
        fields.append(f"data {escape(_num(node.data))}")
        if show_grad:
            fields.append(f"grad {escape(_num(node.grad))}")
        color = HIGHLIGHT if id(node) in lit_nodes or node is highlight else "black"
        width = "2" if color != "black" else "1"
        dot.node(uid, label="{ " + " | ".join(fields) + " }", shape="record", color=color, penwidth=width)
        if node.parents:
            op_id = uid + "op"
            op_color = HIGHLIGHT if id(node) in lit_nodes else "black"
            label = f"^{_num(node.constants[0])}" if node.op == "**" else symbol(node.op)
            dot.node(op_id, label=escape(label), shape="ellipse", color=op_color, fontcolor=op_color)
            dot.edge(op_id, uid, color=op_color, penwidth="2" if op_color != "black" else "1")
            _draw_parent_edges(dot, node, op_id, local_derivatives, on_path)
    if caption:
        dot.attr(label=caption.replace("\n", "\\l") + "\\l", labelloc="b", labeljust="l", fontcolor=HIGHLIGHT)
    return dot


def _draw_parent_edges(dot: Any, node: Value, op_id: str, show_local: bool, on_path: set[tuple[int, int]]) -> None:
    grouped = _grouped(node)
    derivs = local_derivatives(node)
    if grouped:
        n = (len(node.parents) - 1) // 2
        for title, lo in (("weights", 0), ("inputs", n)):
            members = [i for i in range(lo, lo + n) if i in grouped]
            if not members:
                continue
            values = [node.parents[i].data for i in members]
            gid = f"{op_id}{title}"
            label = f"{{ {len(members)} {title} | data {escape(_num(min(values)))} .. {escape(_num(max(values)))} }}"
            lit = any((id(node.parents[i]), id(node)) in on_path for i in members)
            dot.node(gid, label=label, shape="record", style="dashed", color=HIGHLIGHT if lit else "gray40")
            dot.edge(gid, op_id, label=f"{len(members)} edges" if show_local else "", color="gray40")
    for i, (parent, d) in enumerate(zip(node.parents, derivs)):
        if i in grouped:
            continue
        lit = (id(parent), id(node)) in on_path
        dot.edge(
            f"v{id(parent)}",
            op_id,
            label=f"× {_num(d)}" if show_local else "",
            color=HIGHLIGHT if lit else "black",
            fontcolor=HIGHLIGHT if lit else "black",
            penwidth="2" if lit else "1",
        )


def draw_network(mlp: MLP, *, max_neurons: int = 32) -> graphviz.Digraph:
    """Neurons as circles in columns, edges coloured by the weight's sign, thick by its size.

    Red edges are positive weights, blue negative (as in ``show weights`` and the live page);
    an input layer wider than ``max_neurons`` (784 pixels) is drawn as one box.
    """
    import graphviz

    sizes = mlp.sizes
    for k, size in enumerate(sizes[1:], start=1):
        if size > max_neurons:
            raise ValueError(f"layer {k} has {size} neurons; draw_network draws up to {max_neurons} a layer")
    dot = graphviz.Digraph(
        graph_attr={"rankdir": "LR", "splines": "line", "nodesep": "0.08", "ranksep": "1.6", "ordering": "out"}
    )
    dot.attr("node", shape="circle", fixedsize="true", width="0.35", fontsize="8")
    big_input = sizes[0] > max_neurons
    if big_input:
        dot.node("in", label=f"{sizes[0]} inputs", shape="box", fixedsize="false", fontsize="11")
    weights = [[[p.data for p in neuron.w] for neuron in layer.neurons] for layer in mlp.layers]
    biggest = max((abs(w) for layer in weights for row in layer for w in row), default=1.0) or 1.0
    for k, size in enumerate(sizes):
        if k == 0 and big_input:
            continue
        act = "" if k == 0 else mlp.layers[k - 1].activation
        with dot.subgraph(name=f"column_{k}") as column:
            column.attr(rank="same")
            title = f"layer {k} ({act})" if k else "inputs"
            column.node(f"T{k}", label=title, shape="plaintext", fixedsize="false", fontsize="10")
            chain = [f"T{k}"] + [f"L{k}_{j}" for j in range(size)]
            for j in range(size):
                column.node(f"L{k}_{j}", label=str(j))
            for upper, lower in zip(chain, chain[1:]):  # invisible links keep 0, 1, 2... in order down the column
                column.edge(upper, lower, style="invis")
    for k, layer in enumerate(weights, start=1):
        if k == 1 and big_input:
            for j in range(sizes[1]):
                dot.edge("in", f"L1_{j}", color="gray70")
            continue
        for j, row in enumerate(layer):
            for i, w in enumerate(row):
                color = POSITIVE if w >= 0 else NEGATIVE
                width = 0.3 + 3.0 * abs(w) / biggest
                dot.edge(f"L{k - 1}_{i}", f"L{k}_{j}", color=color, penwidth=f"{width:.2f}", arrowhead="none")
    return dot


def render(graph: graphviz.Digraph, path: str | Path, fmt: str | None = None) -> Path:
    """Write ``graph`` to ``path`` as svg, png, pdf or dot (from ``fmt`` or the extension).

    Raises RenderError with one clear message when Graphviz's ``dot`` program is missing
    or the file cannot be written, and ValueError for an unknown format.
    """
    import graphviz

    path = Path(path)
    fmt = (fmt or path.suffix.lstrip(".")).lower()
    if fmt not in FORMATS:
        raise ValueError(f"unknown format {fmt!r} for {path}: expected one of {', '.join(FORMATS)}")
    if not path.parent.is_dir():
        raise RenderError(f"cannot write {path}: directory {path.parent} does not exist")
    if fmt == "dot":
        _atomic_write(path, graph.source.encode())
        return path
    try:
        data = graph.pipe(format=fmt)
    except graphviz.ExecutableNotFound:
        raise RenderError(
            "rendering needs Graphviz's `dot` program, which is not on PATH: install it "
            "(Debian/Ubuntu: apt-get install graphviz; macOS: brew install graphviz), "
            "or write the DOT source with format 'dot'"
        ) from None
    except graphviz.CalledProcessError as err:
        raise RenderError(f"dot failed to render {path}: {err}") from None
    _atomic_write(path, data)
    return path


def _atomic_write(path: Path, data: bytes) -> None:
    try:
        write_bytes_atomically(path, data)
    except OSError as err:
        raise RenderError(f"cannot write {path}: {err.strerror or err}") from None
