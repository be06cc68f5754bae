"""``python -m apins``: the same as the ``apins`` console script."""

from __future__ import annotations

import sys

from .cli import main

sys.exit(main())
