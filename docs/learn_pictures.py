"""Screenshots of the training panel for docs/live-learn.md: python docs/learn_pictures.py

Serves the panel (``microgrid.app.web.learn_app``) on a free port, drives Debian's Chromium
with Playwright, and writes docs/images/learn-mid.png (the notes' network mid-training),
learn-end.png (the same run finished) and learn-toy.png (the two-moons toy, trained).
"""

from __future__ import annotations

import socket
import threading
import time
from pathlib import Path

import uvicorn
from playwright.sync_api import sync_playwright

from microgrid.app.web.learn_app import create_app

IMAGES = Path(__file__).resolve().parent / "images"
STATUS = "document.getElementById('learn').dataset.status"


def main() -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    app = create_app()
    server = uvicorn.Server(uvicorn.Config(app, port=port, log_level="warning", timeout_graceful_shutdown=1))
    threading.Thread(target=server.run, daemon=True).start()
    while not server.started:
        time.sleep(0.05)
    try:
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=["--no-sandbox"])
            page = browser.new_page(viewport={"width": 1280, "height": 1000})
            page.goto(f"http://127.0.0.1:{port}/learn")
            page.wait_for_selector('#learn[data-ready="1"]')
            # the notes' network, mini-batches of 10, ten epochs
            page.select_option("#learn-preset", "notes")
            page.fill("#learn-batch_size", "10")
            page.fill("#learn-epochs", "10")
            page.click("#learn-start")
            page.wait_for_function(
                f"{STATUS} === 'running' && document.getElementById('learn-test-accuracy').dataset.value !== ''"
                " && document.getElementById('learn-cosine').textContent !== '-'",
                timeout=120_000,
            )
            page.wait_for_timeout(400)
            page.locator("#learn").screenshot(path=str(IMAGES / "learn-mid.png"))
            page.wait_for_function(f"{STATUS} === 'done'", timeout=300_000)
            page.wait_for_timeout(500)
            page.locator("#learn").screenshot(path=str(IMAGES / "learn-end.png"))
            page.click("#learn-mode-toy")
            page.click("#learn-toy-start")
            page.wait_for_function(f"{STATUS} === 'running'")
            page.wait_for_function(f"{STATUS} === 'done'", timeout=300_000)
            page.wait_for_timeout(500)
            page.locator("#learn").screenshot(path=str(IMAGES / "learn-toy.png"))
            browser.close()
    finally:
        app.state.training.shutdown()
        server.should_exit = True


if __name__ == "__main__":
    main()
