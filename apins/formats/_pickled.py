"""The pickle-based types ``joblib`` and ``pickle``: any picklable Python object.

Loading a pickle runs code chosen by whoever wrote the file. These types are therefore marked
``pickle_based``; the Board refuses to read them without the user's explicit consent
(``allow_pickle_read``), as pins-python does for joblib. This module does not check consent.
"""

from __future__ import annotations

import pickle
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from ..errors import UnsupportedType
from ._base import BinarySink, Format, Output, pick_file
from ._deps import require


def _unpicklable(obj: Any, type_: str, exc: Exception) -> UnsupportedType:
    return UnsupportedType(f"a {type(obj).__qualname__} cannot be stored as type {type_!r}: {exc}")


def write_joblib(obj: Any, out: BinarySink) -> None:
    """``joblib.dump`` the object (needs ``apins[joblib]``)."""
    joblib = require("joblib", "type 'joblib'")
    try:
        joblib.dump(obj, out)
    except (pickle.PicklingError, TypeError, AttributeError) as exc:
        raise _unpicklable(obj, "joblib", exc) from exc


def read_joblib(paths: Sequence[Path], output: Output | None) -> Any:
    """``joblib.load`` the object; ``output`` does not apply."""
    joblib = require("joblib", "type 'joblib'")
    return joblib.load(pick_file(paths, "joblib", "joblib"))


def write_pickle(obj: Any, out: BinarySink) -> None:
    """``pickle.dump`` the object with the default protocol."""
    try:
        pickle.dump(obj, out, protocol=pickle.DEFAULT_PROTOCOL)
    except (pickle.PicklingError, TypeError, AttributeError) as exc:
        raise _unpicklable(obj, "pickle", exc) from exc


def read_pickle(paths: Sequence[Path], output: Output | None) -> Any:
    """``pickle.load`` the object; ``output`` does not apply."""
    with pick_file(paths, "pickle", "pickle").open("rb") as f:
        return pickle.load(f)


JOBLIB = Format("joblib", "joblib", write_joblib, read_joblib, pickle_based=True)
PICKLE = Format("pickle", "pickle", write_pickle, read_pickle, pickle_based=True)
