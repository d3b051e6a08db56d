"""Run docs/notebook.ipynb top to bottom in a fresh kernel and save its outputs into it:
python docs/run_notebook.py (docs/make_pictures.sh runs it; tests/test_notebook.py runs
``execute`` too, so the saved outputs are those of the same run the tests check).

Needs nbclient, nbformat and ipykernel (the test extra) and matplotlib.
"""

from __future__ import annotations

import argparse
import os
import tempfile
from pathlib import Path

import nbclient
import nbformat

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOK = ROOT / "docs" / "notebook.ipynb"


def execute(path: Path = NOTEBOOK, timeout: int = 600) -> nbformat.NotebookNode:
    """The notebook at ``path``, run from the repository root in a fresh python3 kernel."""
    notebook = nbformat.read(path, as_version=4)
    client = nbclient.NotebookClient(
        notebook, timeout=timeout, kernel_name="python3", resources={"metadata": {"path": str(ROOT)}}
    )
    client.execute()
    # no widget state, no run-specific metadata: what is saved is what a static viewer shows
    notebook.metadata.pop("widgets", None)
    for cell in notebook.cells:
        cell.metadata.pop("execution", None)
    return notebook


def save(notebook: nbformat.NotebookNode, path: Path = NOTEBOOK) -> None:
    """Write ``notebook`` to ``path`` atomically (a temporary file, then a rename)."""
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as out:
            nbformat.write(notebook, out)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("notebook", nargs="?", type=Path, default=NOTEBOOK)
    args = parser.parse_args()
    save(execute(args.notebook), args.notebook)
    print(f"ran and saved {args.notebook}")


if __name__ == "__main__":
    main()
