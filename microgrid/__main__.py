"""``python -m microgrid``: see :mod:`microgrid.cli`."""

import sys

from .cli import main

sys.exit(main())
