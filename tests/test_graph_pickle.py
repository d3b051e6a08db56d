"""Pickling many nodes of one graph: each node written once (linear), identity kept, any depth.

Issue 13 item 9: a list of 8,000 nodes of one chain took 164 s and 1.34 GB to pickle (each
node wrote its whole ancestry again) and came back as 8,000 separate chains. These tests
measure the pickle's size, not its time: a quadratic pickle is 16 times larger for 4 times
the nodes.
"""

import copy
import io
import pickle
import random
import sys
import threading

import pytest

from microgrid import MLP, Value, mse, no_grad


def chain_nodes(n):
    """n nodes of one chain, each the only non-leaf parent of the next: z <- z * c, z <- z + c."""
    nodes = [Value(1.0, label="x") * 1.0001]
    while len(nodes) < n:
        nodes.append(nodes[-1] + 0.0001 if len(nodes) % 2 else nodes[-1] * 1.0001)
    return nodes


def assert_one_chain(nodes):
    for i in range(1, len(nodes)):
        assert nodes[i].parents[0] is nodes[i - 1], f"node {i} lost its parent"


def test_round_trip_of_8000_chain_nodes_keeps_identity():
    nodes = chain_nodes(8000)
    back = pickle.loads(pickle.dumps(nodes))
    assert len(back) == 8000
    assert back[1].parents[0] is back[0]
    assert_one_chain(back)
    assert [b.data for b in back] == [n.data for n in nodes]
    back[-1].backward()
    nodes[-1].backward()
    assert [b.grad for b in back] == [n.grad for n in nodes]


def test_pickle_size_is_linear_in_the_number_of_nodes():
    small, large = (len(pickle.dumps(chain_nodes(n))) for n in (2000, 8000))
    assert large / small < 4.5  # linear: 4; quadratic (before): 16
    assert large < 8000 * 100  # bytes per node, its constant leaf included (before: ~20 KB)
    # each node is written once: the list costs no more than its last node, which holds all
    nodes = chain_nodes(8000)
    assert len(pickle.dumps(nodes)) < 1.05 * len(pickle.dumps(nodes[-1]))


@pytest.mark.parametrize("order", ["reversed", "shuffled", "every 7th"])
def test_any_order_and_subset_keeps_identity(order):
    nodes = chain_nodes(3000)
    index = list(range(3000))
    if order == "reversed":
        index.reverse()
    elif order == "shuffled":
        random.Random(0).shuffle(index)
    else:
        index = index[::7]
    back = dict(zip(index, pickle.loads(pickle.dumps([nodes[i] for i in index]))))
    listed = sorted(back)
    for i, j in zip(listed, listed[1:]):  # walking j - i parents up from node j reaches node i itself
        node = back[j]
        for _ in range(j - i):
            node = node.parents[0]
        assert node is back[i]


def test_shared_nodes_of_separate_objects_stay_shared():
    net = MLP(3, [4, 2], seed=0)
    hidden = net.layers[0]([1.0, -2.0, 0.5])
    out = net.layers[1](hidden)
    loss = mse(out, [0.0, 1.0])
    net2, hidden2, loss2 = pickle.loads(pickle.dumps((net, hidden, loss)))
    graph = {id(n) for n in loss2.topological_order()}
    assert all(id(h) in graph for h in hidden2)
    assert all(id(p) in graph for p in net2.parameters())
    loss2.backward()
    loss.backward()
    assert [p.grad for p in net2.parameters()] == [p.grad for p in net.parameters()]


def test_deep_chain_pickles_under_the_default_recursion_limit():
    assert sys.getrecursionlimit() <= 10_000
    nodes = chain_nodes(200_000)
    back = pickle.loads(pickle.dumps(nodes[-1]))
    assert back.data == nodes[-1].data
    back.backward()
    leaf = back.topological_order()[0]
    assert leaf.label == "x" and leaf.grad == pytest.approx(1.0001**100_000, rel=1e-9)


def test_deepcopy_every_protocol_and_two_dumps_of_one_pickler():
    nodes = chain_nodes(1000)
    assert_one_chain(copy.deepcopy(nodes))
    for protocol in range(pickle.HIGHEST_PROTOCOL + 1):
        assert_one_chain(pickle.loads(pickle.dumps(nodes, protocol)))
    buffer = io.BytesIO()
    pickler = pickle.Pickler(buffer)
    pickler.dump(nodes[:400])
    other = pickle.loads(pickle.dumps(nodes[200:700]))  # another pickler while the first lives
    assert_one_chain(other)
    pickler.dump(nodes[400:])
    buffer.seek(0)
    unpickler = pickle.Unpickler(buffer)
    first, second = unpickler.load(), unpickler.load()
    assert_one_chain(first + second)  # one pickler's memo spans its dumps, as for any object


def test_threads_pickle_their_own_graphs_at_once():
    old = sys.getswitchinterval()
    sys.setswitchinterval(1e-5)
    failures = []

    def work(seed):
        for _ in range(10):
            nodes = chain_nodes(500 + seed)
            back = pickle.loads(pickle.dumps(nodes[::-1]))[::-1]
            if not all(back[i].parents[0] is back[i - 1] for i in range(1, len(back))):
                failures.append(seed)

    threads = [threading.Thread(target=work, args=(s,)) for s in range(4)]
    try:
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    finally:
        sys.setswitchinterval(old)
    assert failures == []


def test_unpickling_ignores_grad_mode():
    nodes = chain_nodes(10)
    data = pickle.dumps(nodes)
    with no_grad():
        back = pickle.loads(data)
    assert_one_chain(back)


def test_a_constant_of_an_op_survives_pickling():
    x = Value(3.0, label="x")
    y = pickle.loads(pickle.dumps(x**2.5))
    assert (y.op, y.constants, y.parents[0].label) == ("**", (2.5,), "x")
    y.backward()
    assert y.parents[0].grad == pytest.approx(2.5 * 3.0**1.5, rel=1e-15)


def test_nothing_is_kept_once_a_dump_ends():
    from microgrid.support import graph_pickle

    pickle.dumps(chain_nodes(5000))
    assert graph_pickle._written.seen == set() and graph_pickle._written.planned == set()
