"""The ``file`` type: files stored as they are, by the Board's ``pin_upload``.

There is nothing to serialise or parse: writing and reading go through ``pin_upload`` and
``pin_download``, which handle the original file names.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from ..errors import UnsupportedType
from ._base import BinarySink, Format, Output


def write_file(obj: Any, out: BinarySink) -> None:
    """Always refuses: files are stored with ``pin_upload``."""
    raise UnsupportedType("type 'file' cannot be written with pin_write: use pin_upload")


def read_file(paths: Sequence[Path], output: Output | None) -> Any:
    """Always refuses: file pins are fetched with ``pin_download``."""
    raise UnsupportedType("'file' pins cannot be read with pin_read: use pin_download")


FILE = Format("file", "file", write_file, read_file, can_write=False)
