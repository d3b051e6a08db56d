"""Graph rendering, the chain-rule demos, explain() and the expression parser."""

import math
import re
import subprocess
import sys
from pathlib import Path

import pytest

from microgrid import MLP, Neuron, Value
from microgrid.pictures.draw import RenderError, chain_paths, draw_dot, draw_network, escape, local_derivatives, render
from microgrid.pictures.explain import explain_text
from microgrid.support.chain import one_neuron_chain, two_neuron_layers
from microgrid.support.expr import ExpressionError, parse_expression

graphviz = pytest.importorskip("graphviz", reason="the graphviz Python package draws graphs: pip install graphviz")
ROOT = Path(__file__).resolve().parents[1]


def run(*args, cwd=None):
    return subprocess.run([sys.executable, "-m", "microgrid", *args], capture_output=True, text=True, cwd=cwd)


def test_value_and_op_nodes_with_local_derivatives_on_edges():
    w, x = Value(0.5, label="w"), Value(2.0, label="x")
    out = w * x
    out.label = "out"
    out.backward()
    src = draw_dot(out).source
    assert "w | data 0.5 | grad 2" in src and "x | data 2 | grad 0.5" in src
    assert "out | data 1 | grad 1" in src
    assert re.search(rf'v{id(w)} -> v{id(out)}op \[label="× 2"', src)  # d(w x)/dw = x = 2
    assert re.search(rf'v{id(x)} -> v{id(out)}op \[label="× 0.5"', src)
    assert f"v{id(out)}op -> v{id(out)}" in src and 'label="×"' in src


def test_edge_labels_match_the_engine_rules():
    example = one_neuron_chain()
    src = draw_dot(example.cost).source
    for node in example.cost.topological_order():
        for parent, d in zip(node.parents, local_derivatives(node)):
            label = f"{d:.4f}".rstrip("0").rstrip(".") if d else "0"
            assert f'v{id(parent)} -> v{id(node)}op [label="× {label}"' in src


def test_fan_out_draws_both_edges():
    a = Value(3.0, label="a")
    c = a * a
    c.backward()
    src = draw_dot(c).source
    assert src.count(f"v{id(a)} -> v{id(c)}op") == 2


def test_highlight_colours_the_paths_and_caption_sums_to_grad():
    example = two_neuron_layers()
    leaf = example.highlight
    paths = chain_paths(example.cost, leaf)
    assert len(paths) == 2
    total = sum(math.prod(d for _, _, d in path) for path in paths)
    assert total == pytest.approx(leaf.grad, rel=1e-12)
    src = draw_dot(example.cost, highlight=leaf).source
    assert "path 1:" in src and "path 2:" in src
    assert f"sum = {leaf.grad:.4f}".rstrip("0") in src
    red_edges = re.findall(r'v(\d+) -> v(\d+)op \[[^\]]*color="#d62728"', src)
    assert (str(id(leaf)), str(id(example.values["z_0(L)"]))) in red_edges
    assert (str(id(leaf)), str(id(example.values["z_1(L)"]))) in red_edges
    assert (str(id(example.values["w_00(L)"])), str(id(example.values["z_0(L)"]))) not in red_edges


def test_highlight_must_belong_to_the_graph():
    with pytest.raises(ValueError, match="not"):
        draw_dot(Value(1.0) * 2, highlight=Value(3.0))


def test_fused_dot_node_is_grouped():
    n = Neuron(784, seed=0)
    out = n([0.5] * 784)
    out.backward()
    src = draw_dot(out).source
    assert "784 weights" in src and "784 inputs" in src
    assert src.count("->") < 20


def test_max_nodes_is_enforced_with_advice():
    x = Value(1.0)
    y = x
    for _ in range(600):
        y = y * 1.0
    with pytest.raises(ValueError, match=r"has \d+ values, more than max_nodes=500.*draw_network"):
        draw_dot(y)
    assert draw_dot(y, max_nodes=2000).source


def test_labels_are_escaped_for_dot(tmp_path):
    weird = Value(1.0, label='a "quoted" {brace} <tag> | pipe \\ slash')
    out = weird * 2
    out.backward()
    src = draw_dot(out).source
    assert escape('a "quoted" {brace} <tag> | pipe \\ slash') in src
    path = render(draw_dot(out), tmp_path / "weird.svg")
    text = path.read_text()
    assert "quoted" in text and "brace" in text and "&lt;tag&gt;" in text


@pytest.mark.parametrize("fmt", ["svg", "png", "pdf", "dot"])
def test_render_formats(tmp_path, fmt):
    example = one_neuron_chain()
    path = render(draw_dot(example.cost, highlight=example.highlight), tmp_path / f"chain.{fmt}")
    data = path.read_bytes()
    magic = {"svg": b"<svg", "png": b"\x89PNG", "pdf": b"%PDF", "dot": b"digraph"}[fmt]
    assert magic in data[:400]


def test_render_errors(tmp_path, monkeypatch):
    graph = draw_dot(Value(1.0) + 1)
    with pytest.raises(ValueError, match="unknown format 'gif'"):
        render(graph, tmp_path / "x.gif")
    with pytest.raises(RenderError, match="does not exist"):
        render(graph, tmp_path / "missing" / "x.svg")
    monkeypatch.setenv("PATH", str(tmp_path))  # no `dot` on PATH
    with pytest.raises(RenderError, match="apt-get install graphviz"):
        render(graph, tmp_path / "x.svg")
    assert render(graph, tmp_path / "x.dot").read_text().startswith("digraph")  # DOT source still works


def test_draw_network_edges_by_sign_and_size():
    net = MLP(3, [4, 2], seed=1)
    src = draw_network(net).source
    # red positive, blue negative (matplotlib's RdBu_r, as in show weights), every edge
    drawn = re.findall(r"L(\d)_(\d+) -> L(\d)_(\d+) \[arrowhead=none color=\"#(\w{6})\"", src)
    assert len(drawn) == src.count("arrowhead=none") == 3 * 4 + 4 * 2
    for _, k, layer, j, colour in drawn:
        w = net.layers[int(layer) - 1].neurons[int(j)].w[int(k)].data
        r, b = int(colour[:2], 16), int(colour[4:], 16)
        assert (r > b) if w > 0 else (b > r), (layer, j, k, w, colour)
    with pytest.raises(ValueError, match="up to 32"):
        draw_network(MLP(3, [40]))
    assert "784 inputs" in draw_network(MLP(784, [16, 16, 10])).source


def test_value_draw_method():
    out = Value(2.0, label="q").tanh()
    assert "q | data 2" in draw_dot(out, show_grad=False).source
    assert "grad" not in draw_dot(out, show_grad=False).source


def test_chain_demo_hand_vs_engine():
    example = one_neuron_chain()
    assert example.worst_difference() <= 1e-12
    assert len(example.rows) == 3
    layer = two_neuron_layers()
    assert layer.worst_difference() <= 1e-12


def test_explain_matches_engine_grads():
    example = one_neuron_chain()
    text = explain_text(example.cost)
    lines = text.splitlines()
    assert lines[0].startswith("C0  [** 2]")
    w = example.values["w(L)"]
    assert f"w(L).grad = {w.grad:.6g}" in text
    product = example.values["w(L) a(L-1)"]
    expected = example.values["a(L-1)"].data * product.grad
    assert f"-> w(L): local d(w(L) a(L-1))/dw(L) = 0.6  x upstream grad {product.grad:.6g}  = {expected:.6g}" in text


@pytest.mark.parametrize(
    "text", ["__import__('os')", "x.__class__", "(lambda: 1)()", "open('f')", "x[0]", "'a'*3", "[x]", "x if x else x"]
)
def test_parser_rejects_unsafe_expressions(text):
    with pytest.raises(ExpressionError):
        parse_expression(text, {"x": 1.0})


def test_parser_builds_the_engine_graph():
    root, leaves = parse_expression("tanh(w*x + b) + 2 ** w - exp(-x) / 3", {"w": 0.5, "x": 2.0, "b": -1.0})
    root.backward()
    w, x, b = 0.5, 2.0, -1.0
    assert root.data == pytest.approx(math.tanh(w * x + b) + 2**w - math.exp(-x) / 3, rel=1e-15)
    assert leaves["w"].grad == pytest.approx(x * (1 - math.tanh(w * x + b) ** 2) + 2**w * math.log(2), rel=1e-14)
    with pytest.raises(ExpressionError, match="unknown variable 'z'"):
        parse_expression("z + 1", {})


def test_cli_draw_chain_writes_svg_and_prints_hand_derivation(tmp_path):
    r = run("draw", "chain", "-o", str(tmp_path / "chain.svg"))
    assert r.returncode == 0, r.stderr
    assert "dC0/dw(L) = a(L-1) * sigma'(z(L)) * 2(a(L) - y)" in r.stdout
    assert (tmp_path / "chain.svg").read_text().count('<g id="node') == 9 + 5  # 9 values, 5 ops


def test_cli_draw_layer_and_expr(tmp_path):
    r = run("draw", "layer", "--format", "png", "-o", str(tmp_path / "layer.png"))
    assert r.returncode == 0 and "dC0/da_0(L-1) = sum over j" in r.stdout
    r = run(
        "draw",
        "expr",
        "tanh(w*x + b)",
        "--set",
        "w=0.5",
        "x=2",
        "b=-1",
        "--highlight",
        "w",
        "-o",
        str(tmp_path / "e.pdf"),
    )
    assert r.returncode == 0, r.stderr
    assert "d/dw = 2" in r.stdout and (tmp_path / "e.pdf").read_bytes().startswith(b"%PDF")
    r = run("draw", "chain", "--text")
    assert r.returncode == 0 and "added to its grad" in r.stdout


@pytest.mark.parametrize(
    "args,message",
    [
        (["draw", "expr", "x.__class__", "--set", "x=1"], "attribute access not allowed"),
        (["draw", "expr", "x + 1", "--set", "x=abc"], "expected a number"),
        (["draw", "chain", "-o", "/nonexistent/dir/c.svg"], "does not exist"),
        (["draw", "chain", "-o", "chain.gif"], "unknown format 'gif'"),
        (["draw", "expr"], "needs an expression"),
    ],
)
def test_cli_draw_errors_are_one_line(args, message, tmp_path):
    r = run(*args, cwd=tmp_path)
    assert r.returncode == 2, r.stdout
    assert message in r.stderr and "Traceback" not in r.stderr
    assert len(r.stderr.strip().splitlines()) == 1


def test_demo_chain_rule(tmp_path):
    r = subprocess.run([sys.executable, str(ROOT / "demos" / "chain_rule.py"), "-o", str(tmp_path / "c.svg")],
                       capture_output=True, text=True)  # fmt: skip
    assert r.returncode == 0, r.stderr
    assert (tmp_path / "c.svg").exists() and "by hand" in r.stdout
