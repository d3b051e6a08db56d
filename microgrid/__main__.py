"""``python -m microgrid``: see :mod:`microgrid.app.cli`."""

import sys

from .app.cli import main

sys.exit(main())
