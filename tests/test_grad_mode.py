"""Grad mode is per thread and per asyncio task; no_grad() restores it exactly; @no_grad()."""

import asyncio
import sys
import threading

import pytest

from microgrid import MLP, SGD, Value, mse, no_grad
from microgrid.engine import is_grad_enabled


@pytest.fixture
def fast_switching():
    """Switch threads every 10 us (default 5 ms), so blocks of different threads interleave."""
    old = sys.getswitchinterval()
    sys.setswitchinterval(1e-5)
    yield
    sys.setswitchinterval(old)


def _run(*targets):
    threads = [threading.Thread(target=t) for t in targets]
    for t in threads:
        t.start()
    for t in threads:
        t.join()


def test_training_threads_keep_their_graph_while_another_thread_evaluates(fast_switching):
    """Two threads train while a third loops `with no_grad(): net(x)`: every step has a
    graph and non-zero grads (before: 1,411 of 2,000 steps had neither)."""
    x = [0.1, -0.2, 0.3]
    broken: list[str] = []
    steps = [0]
    stop = threading.Event()

    def train(seed):
        net = MLP(3, [4, 1], seed=seed)
        opt = SGD(net.parameters(), lr=0.01)
        for step in range(400):
            loss = mse(net(x), 1.0)
            opt.zero_grad()
            loss.backward()
            opt.step()
            steps[0] += 1
            if loss.is_leaf or not any(p.grad != 0.0 for p in net.parameters()):
                broken.append(f"seed {seed} step {step}")

    evaluations = []

    def evaluate():
        net = MLP(3, [4, 1], seed=9)
        while not stop.is_set():
            with no_grad():
                (out,) = net(x)
            evaluations.append(out.is_leaf)

    evaluator = threading.Thread(target=evaluate)
    evaluator.start()
    try:
        _run(lambda: train(1), lambda: train(2))
    finally:
        stop.set()
        evaluator.join()
    assert steps[0] == 800
    assert broken == []
    assert evaluations and all(evaluations)  # and the evaluator's own blocks built no graph
    assert is_grad_enabled()


def test_interleaved_blocks_of_two_threads_restore_each_thread():
    """A enters, B enters, A exits, B exits: each thread's mode is its own; after both,
    grad is on everywhere (before: it stayed off for the whole process)."""
    a_in, b_in, a_out = threading.Event(), threading.Event(), threading.Event()
    seen = {}

    def a():
        with no_grad():
            a_in.set()
            b_in.wait()
            seen["A inside, B inside"] = is_grad_enabled()
        seen["A after exit, B inside"] = is_grad_enabled()
        a_out.set()

    def b():
        a_in.wait()
        seen["B before entering, A inside"] = is_grad_enabled()
        with no_grad():
            b_in.set()
            a_out.wait()
            seen["B inside, A exited"] = is_grad_enabled()
            seen["B inside: a product is a leaf"] = (Value(2.0) * 3.0).is_leaf
        seen["B after exit"] = is_grad_enabled()

    _run(a, b)
    assert seen == {
        "A inside, B inside": False,
        "A after exit, B inside": True,
        "B before entering, A inside": True,
        "B inside, A exited": False,
        "B inside: a product is a leaf": True,
        "B after exit": True,
    }
    assert is_grad_enabled()
    assert (Value(2.0) * 3.0).parents != ()


def test_one_no_grad_object_shared_by_threads_and_nested():
    shared = no_grad()
    results = []

    def use():
        for _ in range(200):
            with shared:
                with shared:
                    results.append(is_grad_enabled())
                results.append(is_grad_enabled())
            results.append(not is_grad_enabled())

    old = sys.getswitchinterval()
    sys.setswitchinterval(1e-5)
    try:
        _run(use, use, use)
    finally:
        sys.setswitchinterval(old)
    assert len(results) == 3 * 200 * 3 and not any(results)
    assert is_grad_enabled()


def test_nested_blocks_restore_exactly_and_after_an_exception():
    with no_grad():
        with no_grad():
            assert not is_grad_enabled()
        assert not is_grad_enabled()
        with pytest.raises(ZeroDivisionError):
            with no_grad():
                Value(1.0) / 0
        assert not is_grad_enabled()
    assert is_grad_enabled()


def test_a_new_thread_starts_with_grad_on():
    seen = []
    with no_grad():
        _run(lambda: seen.append((is_grad_enabled(), (Value(1.0) + 1.0).is_leaf)))
    assert seen == [(True, False)]


def test_decorator_runs_each_call_without_grad_and_keeps_the_function():
    @no_grad()
    def evaluate(v, k=2.0):
        """Doc."""
        return v * k, is_grad_enabled()

    out, enabled = evaluate(Value(3.0), k=4.0)
    assert out.data == 12.0 and out.is_leaf and enabled is False
    assert is_grad_enabled()
    assert evaluate.__name__ == "evaluate" and evaluate.__doc__ == "Doc."
    assert not evaluate(Value(1.0))[0].parents  # reusable: a fresh block per call

    @no_grad()
    def fails():
        raise KeyError("x")

    with pytest.raises(KeyError):
        fails()
    assert is_grad_enabled()


def test_decorator_misuse_is_a_clear_type_error():
    with pytest.raises(TypeError, match=r"@no_grad\(\) with parentheses"):

        @no_grad
        def f():
            pass

    with pytest.raises(TypeError, match="generator function"):

        @no_grad()
        def gen():
            yield 1

    with pytest.raises(TypeError, match="decorates a function, got int"):
        no_grad()(3)


def test_exit_without_enter_is_a_clear_error():
    with pytest.raises(RuntimeError, match="without a matching enter"):
        no_grad().__exit__(None, None, None)
    assert is_grad_enabled()


def test_asyncio_tasks_have_their_own_grad_mode():
    """A task awaiting inside no_grad() does not switch off the graph of a task that trains."""
    log = []

    async def evaluator(started, trained):
        with no_grad():
            started.set()
            await trained.wait()  # the trainer runs while this block is open
            log.append(("evaluator", is_grad_enabled(), (Value(1.0) * 2.0).is_leaf))
        log.append(("evaluator after", is_grad_enabled()))

    async def trainer(started, trained):
        await started.wait()
        x = Value(2.0)
        y = x * x
        await asyncio.sleep(0)
        y.backward()
        log.append(("trainer", is_grad_enabled(), y.is_leaf, x.grad))
        trained.set()

    @no_grad()
    async def decorated():
        await asyncio.sleep(0)
        return is_grad_enabled()

    async def main():
        started, trained = asyncio.Event(), asyncio.Event()
        await asyncio.gather(evaluator(started, trained), trainer(started, trained))
        log.append(("decorated coroutine", await decorated()))
        log.append(("main", is_grad_enabled()))

    asyncio.run(main())
    assert log == [
        ("trainer", True, False, 4.0),
        ("evaluator", False, True),
        ("evaluator after", True),
        ("decorated coroutine", False),
        ("main", True),
    ]
