"""The shape every pin type shares: a :class:`Format` record and the binary sink it writes to."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal, Protocol, runtime_checkable

from ..errors import UnsupportedType

#: What ``read`` returns for tables: None = a ``pyarrow.Table`` (json: plain Python data).
Output = Literal["arrow", "pandas", "polars"]

OUTPUTS: tuple[str, ...] = ("arrow", "pandas", "polars")


@runtime_checkable
class BinarySink(Protocol):
    """A write-only binary stream (the Board's hashing writer): no seek, no read."""

    @property
    def closed(self) -> bool: ...

    def write(self, data: bytes, /) -> int | None: ...

    def tell(self) -> int: ...

    def flush(self) -> None: ...

    def writable(self) -> bool: ...


Writer = Callable[[Any, BinarySink], None]
Reader = Callable[[Sequence[Path], "Output | None"], Any]


@dataclass(frozen=True, slots=True)
class Format:
    """One pin type: how its data file is named, written and read.

    ``write(obj, out)`` and ``read(paths, output=...)`` are synchronous and meant to run in a
    worker thread. ``write`` raises :class:`~apins.errors.UnsupportedType` when ``obj`` cannot
    be stored as this type; on any error ``out`` holds partial bytes the caller must discard.
    """

    #: the ``type:`` written to data.txt
    type: str
    #: data file name is ``<name>.<extension>``
    extension: str
    _writer: Writer
    _reader: Reader
    #: reading executes pickled code (joblib, pickle): the Board gates it on consent
    pickle_based: bool = False
    #: False for types pin_write cannot produce (rds, file)
    can_write: bool = True

    def write(self, obj: Any, out: BinarySink) -> None:
        """Serialise ``obj`` into ``out`` (never seeks, reads or closes it)."""
        self._writer(obj, out)

    def read(self, paths: Sequence[Path], *, output: Output | None = None) -> Any:
        """Load the version's data files (``paths``) into a Python object."""
        if output is not None and output not in OUTPUTS:
            raise ValueError(f"output must be one of {', '.join(OUTPUTS)} or None, not {output!r}")
        return self._reader(paths, output)

    def __repr__(self) -> str:
        return f"Format(type={self.type!r}, extension={self.extension!r})"


def pick_file(paths: Sequence[Path], extension: str, type_: str) -> Path:
    """The one data file to read: the only one, else the one named ``*.<extension>`` (R's rule)."""
    if len(paths) == 1:
        return paths[0]
    matches = [p for p in paths if p.name.endswith(f".{extension}")]
    if len(matches) == 1:
        return matches[0]
    names = ", ".join(p.name for p in paths) or "no files"
    raise UnsupportedType(
        f"cannot tell which file holds the {type_!r} data among: {names} "
        f"(expected exactly one '*.{extension}' file)"
    )
