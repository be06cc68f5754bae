"""``python -m apins.cli``: the same as the ``apins`` console script."""

from __future__ import annotations

import sys

from . import main

sys.exit(main())
