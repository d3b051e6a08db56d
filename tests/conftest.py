"""Hypothesis profiles: 'dev' for quick local runs, 'ci' (selected when CI is set) for depth."""

import os

from hypothesis import HealthCheck, settings

settings.register_profile("dev", max_examples=150, deadline=None)
settings.register_profile(
    "ci", max_examples=2000, deadline=None, suppress_health_check=[HealthCheck.too_slow], derandomize=True
)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci" if os.environ.get("CI") else "dev"))


# -- the table of ops: a test leaves it as it found it -------------------------------------
# An op name is defined once per process (microgrid.ops.register refuses a second
# definition), and the tests share one process. So each test gets the table back as it was,
# and a page of the docs, which a learner runs in a fresh process, starts with the built-in
# ops only (the pages define their own softplus, sin, ... as tests/test_custom_ops.py does).

import pytest  # noqa: E402

from microgrid import custom_ops, ops  # noqa: E402

FRESH_PROCESS_MODULES = {"test_docs"}


@pytest.fixture(autouse=True)
def _op_table_as_it_was(request: pytest.FixtureRequest):
    saved_ops, saved_registry = dict(ops.OPS), dict(custom_ops.REGISTRY)
    if request.node.module.__name__ in FRESH_PROCESS_MODULES:
        for name in set(ops.OPS) - ops.BUILTIN:
            del ops.OPS[name]
        custom_ops.REGISTRY.clear()
    yield
    ops.OPS.clear()
    ops.OPS.update(saved_ops)
    custom_ops.REGISTRY.clear()
    custom_ops.REGISTRY.update(saved_registry)


# -- the page's browser tests: one server and one Chromium per test module ------------------


@pytest.fixture(scope="module")
def server():
    """``python -m microgrid serve`` on a free loopback port for one test module: the page's URL."""
    from web_server import running_server

    with running_server() as (url, _):
        yield url


@pytest.fixture(scope="module")
def browser():
    """Debian's Chromium driven by Playwright for one test module (skipped where Playwright is absent)."""
    from web_server import launched_chromium

    sync_api = pytest.importorskip("playwright.sync_api", reason="browser tests need playwright (the test extra)")
    yield from launched_chromium(sync_api)
