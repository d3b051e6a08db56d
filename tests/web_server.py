"""Start ``python -m microgrid serve`` on a free loopback port for a test, and stop it with Ctrl-C."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]


@contextmanager
def running_server(*args: str, timeout: float = 60.0) -> Iterator[tuple[str, subprocess.Popen]]:
    """Yields the page's URL and the server process; port 0 lets the system pick a free port."""
    env = {**os.environ, "PYTHONPATH": str(ROOT), "PYTHONUNBUFFERED": "1"}
    proc = subprocess.Popen(
        [sys.executable, "-m", "microgrid", "serve", "--host", "127.0.0.1", "--port", "0", *args],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env,
    )
    first: list[str] = []
    reader = threading.Thread(target=lambda: first.append(proc.stdout.readline()), daemon=True)  # type: ignore[union-attr]
    reader.start()
    reader.join(timeout)
    try:
        found = re.search(r"http://127\.0\.0\.1:\d+/", first[0] if first else "")
        if not found:
            proc.kill()
            raise RuntimeError(f"the server did not start: {first} {proc.communicate(timeout=10)}")
        yield found.group(0), proc
    finally:
        if proc.poll() is None:
            proc.send_signal(signal.SIGINT)  # what Ctrl-C sends
            try:
                proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()


CHROMIUM = Path("/usr/bin/chromium")


def launched_chromium(sync_api: Any) -> Iterator[Any]:
    """Debian's Chromium driven by Playwright (as root: no sandbox), closed afterwards; for a fixture."""
    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=["--no-sandbox"])
        try:
            yield browser
        finally:
            browser.close()


def open_tab(
    browser: Any, url: str, ready: str, width: int = 1440, height: int = 900, **options: Any
) -> tuple[Any, Any]:
    """A tab of a new browser context at ``url``, returned once the CSS selector ``ready`` matches, as
    (context, tab); ``tab.errors`` collects the console's errors and the page's uncaught exceptions (a
    fixture asserts it is empty at the end; a test that expects a refusal removes its line)."""
    context = browser.new_context(viewport={"width": width, "height": height}, **options)
    tab = context.new_page()
    tab.errors = []
    tab.on("console", lambda m: tab.errors.append(m.text) if m.type == "error" else None)
    tab.on("pageerror", lambda e: tab.errors.append(str(e)))
    tab.goto(url)
    tab.wait_for_selector(ready)
    return context, tab


def draw(page: Any, strokes: list[list[tuple[float, float]]]) -> None:
    """Draw on the page's pad with the mouse: each stroke a list of (x, y) in [0, 1] of the pad,
    each segment moved through in 8 steps, as a hand would."""
    box = page.locator("#pad").bounding_box()
    for stroke in strokes:
        x, y = stroke[0]
        page.mouse.move(box["x"] + x * box["width"], box["y"] + y * box["height"])
        page.mouse.down()
        for (x0, y0), (x1, y1) in zip(stroke, stroke[1:]):
            for t in range(1, 9):
                xt, yt = x0 + (x1 - x0) * t / 8, y0 + (y1 - y0) * t / 8
                page.mouse.move(box["x"] + xt * box["width"], box["y"] + yt * box["height"])
        page.mouse.up()
