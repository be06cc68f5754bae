"""Lazy imports of optional dependencies, failing with the extra to install."""

from __future__ import annotations

import importlib
from types import ModuleType

from ..errors import PinsError


class MissingDependency(PinsError, ModuleNotFoundError):
    """An optional package needed for this operation is not installed."""


_EXTRAS = {"pandas": "pandas", "polars": "polars", "joblib": "joblib", "rdata": "rds"}


def require(module: str, purpose: str) -> ModuleType:
    """Import ``module`` or raise :class:`MissingDependency` naming the apins extra to install."""
    try:
        return importlib.import_module(module)
    except ImportError as exc:
        extra = _EXTRAS.get(module, module)
        raise MissingDependency(
            f"{purpose} needs the {module!r} package: pip install 'apins[{extra}]'"
        ) from exc
