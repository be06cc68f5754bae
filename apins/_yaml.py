"""YAML in and out, the way both pins libraries can read it.

Reading is PyYAML's safe loader without anchors/aliases and with a size limit, so a hostile
data.txt cannot expand or run anything. Writing is a small block-style emitter that quotes
every string R's ``yaml`` package or PyYAML would read as something else (``y``, ``no``,
``~``, ``1e5``, ``0x1F``, dates...), as R's own emitter does (spec §2.2).

Integers outside R's 32-bit range (e.g. the ``file_size`` of a file over 2 GiB) are written
as ``3221225472.0``: R's ``yaml`` reads a plain ``3221225472`` as NA, but this form as the
exact double; PyYAML (pins-python) reads a float of the same value, and apins's reader turns
such integral decimals back into ints. Beyond 2**53 no double is exact, so those stay plain
integers (exact for Python readers; R cannot hold them).
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence
from typing import Any

import yaml

from .errors import InvalidMetadata

MAX_YAML_BYTES = 4 * 1024 * 1024
#: the largest integer R's yaml package reads as an integer (larger ones become NA)
R_INT_MAX = 2**31 - 1
#: integers up to this magnitude are exact as doubles
EXACT_DOUBLE = 2**53
_INTEGRAL_DECIMAL = re.compile(r"^[-+]?[0-9]+\.0*$")


def _construct_float(loader: Any, node: Any) -> Any:
    """A YAML float, except that ``3221225472.0`` beyond R's int range reads as an int."""
    value = yaml.constructor.SafeConstructor.construct_yaml_float(loader, node)
    if _INTEGRAL_DECIMAL.match(node.value) and R_INT_MAX < abs(value) <= EXACT_DOUBLE:
        return int(value)
    return value


_CBase: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class _Base(_CBase):  # type: ignore[misc]
    """The fast loader with apins's float rule."""


_Base.add_constructor("tag:yaml.org,2002:float", _construct_float)


class _PyNoAlias(yaml.SafeLoader):
    def compose_node(self, parent: Any, index: Any) -> Any:
        if self.check_event(yaml.events.AliasEvent):
            event = self.peek_event()  # type: ignore[no-untyped-call]
            raise yaml.composer.ComposerError(
                None, None, "YAML aliases are not allowed in pins metadata", event.start_mark
            )
        return super().compose_node(parent, index)


_PyNoAlias.add_constructor("tag:yaml.org,2002:float", _construct_float)


def load(data: bytes | str, *, what: str = "YAML") -> Any:
    """Parse YAML safely; raise InvalidMetadata with a clear message on anything suspicious."""
    raw = data.encode("utf-8") if isinstance(data, str) else data
    if len(raw) > MAX_YAML_BYTES:
        raise InvalidMetadata(f"{what} is {len(raw)} bytes; refusing to parse more than 4 MiB.")
    try:
        text = raw.decode("utf-8-sig", errors="strict")
        flat = _flat(text)
        if flat is not None:
            return flat
        if "*" not in text:
            # no '*' means no alias can appear: the fast C loader is safe here
            return yaml.load(text, Loader=_Base)
        return yaml.load(text, Loader=_PyNoAlias)
    except UnicodeDecodeError as e:
        raise InvalidMetadata(f"{what} is not valid UTF-8: {e}") from e
    except yaml.YAMLError as e:
        raise InvalidMetadata(f"{what} is not valid YAML: {e}") from e
    except RecursionError as e:
        raise InvalidMetadata(f"{what} is nested too deeply to parse.") from e
    except Exception as e:  # any other parser failure is still bad metadata
        raise InvalidMetadata(f"{what} cannot be parsed: {type(e).__name__}: {e}") from e


#: the lines the fast reader knows: ``key: value``, ``key:`` and ``- item`` (R's list style),
#: in printable ASCII
_FLAT_LINE = re.compile(r"([A-Za-z_][A-Za-z0-9_]*):(?: (.*))?|- (.+)")
#: a plain string starting with a letter or '_' (no ':' or '#' can follow)...
_FLAT_WORDY = re.compile(r"[A-Za-z_][A-Za-z0-9_ .,/()+=@$%^&;<>-]*")
#: ...is read as text unless it is one of these words (booleans, nulls, inf and nan)
_FLAT_RESERVED = frozenset(
    ["y", "Y", "yes", "Yes", "YES", "n", "N", "no", "No", "NO", "true", "True", "TRUE",
     "false", "False", "FALSE", "on", "On", "ON", "off", "Off", "OFF", "null", "Null", "NULL",
     "inf", "Inf", "INF", "nan", "NaN", "NAN"]
)  # fmt: skip
_SAFE_KEYS: dict[str, bool] = {}
_FLAT_INT = re.compile(r"-?(?:0|[1-9][0-9]*)")
_FLAT_FLOAT = re.compile(r"-?[0-9]+\.[0-9]+")  # R's "api_version: 1.0"
_FLAT_QUOTED = re.compile(r"'(?:[^']|'')*'")
_FLAT_WORDS: dict[str, Any] = {"~": None, "null": None, "true": True, "false": False}
_NOTHING = object()


def _flat_scalar(v: str) -> Any:
    """A one-line scalar as PyYAML's safe loader reads it, or _NOTHING when unsure."""
    if v in _FLAT_WORDS:
        return _FLAT_WORDS[v]
    if v == "{}":
        return {}
    if v == "[]":
        return []
    if _FLAT_INT.fullmatch(v):
        return int(v)
    if _FLAT_FLOAT.fullmatch(v):
        x = float(v)
        return int(x) if R_INT_MAX < abs(x) <= EXACT_DOUBLE and _INTEGRAL_DECIMAL.match(v) else x
    if _FLAT_WORDY.fullmatch(v):  # what _needs_quotes says of these, without its 4 regexes
        return _NOTHING if v[-1] == " " or v in _FLAT_RESERVED else v
    if v[:1] == "'":
        return v[1:-1].replace("''", "'") if _FLAT_QUOTED.fullmatch(v) else _NOTHING
    return _NOTHING if _needs_quotes(v) else v


def _safe_key(key: str) -> bool:
    """A key the writer would not quote (the few data.txt keys are remembered)."""
    safe = _SAFE_KEYS.get(key)
    if safe is None:
        safe = not _needs_quotes(key)
        if len(_SAFE_KEYS) < 256:
            _SAFE_KEYS[key] = safe
    return safe


def _flat(text: str) -> dict[str, Any] | None:
    """What the YAML loader makes of ``text`` when it is a flat mapping of one-line scalars
    and lists of them (every data.txt apins, pins-python or R writes for a plain pin), read
    without PyYAML (about 10x faster: a search parses hundreds). None when the text holds
    anything else, or anything whose reading is not certain; the full loader reads it then.
    A plain string is taken as such only where the writer would not quote it
    (:func:`_needs_quotes`), so it reads back the same in both.
    """
    if not text.isascii():
        return None
    lines = text.split("\n")
    if lines[-1] == "":
        lines.pop()
    if not lines:
        return None
    out: dict[str, Any] = {}
    listing: str | None = None  # the key of a "key:" line the "- " lines below belong to
    for line in lines:
        m = _FLAT_LINE.fullmatch(line)
        if m is None or not line.isprintable():  # ASCII: no tab, CR or other control
            return None
        key, value, item = m.groups()
        if key is None:  # "- item"
            v = _flat_scalar(item)
            if listing is None or v is _NOTHING or isinstance(v, dict | list):
                return None
            if out[listing] is None:
                out[listing] = []
            out[listing].append(v)
            continue
        if key in out or not _safe_key(key):
            return None
        if value is None:  # "key:": a list follows, or nothing (null)
            out[key] = None
            listing = key
            continue
        listing = None
        v = _flat_scalar(value)
        if v is _NOTHING:
            return None
        out[key] = v
    return out


_BOOLISH = re.compile(
    r"^(y|Y|yes|Yes|YES|n|N|no|No|NO|true|True|TRUE|false|False|FALSE|on|On|ON|off|Off|OFF"
    r"|null|Null|NULL|~|)$"
)
_NUMERIC = re.compile(
    r"""^[-+]?(
        [0-9][0-9_,]*(\.[0-9_]*)?([eE][-+]?[0-9]+)?   # 1, 1.5, 1e5, 1_000, 1,000
      | \.[0-9_]+([eE][-+]?[0-9]+)?                  # .5
      | 0[xX][0-9a-fA-F_]+ | 0[oO]?[0-7_]+ | 0[bB][01_]+
      | [0-9][0-9_]*(:[0-5]?[0-9])+(\.[0-9_]*)?      # sexagesimal
      | \.(inf|Inf|INF|nan|NaN|NAN)
      | (inf|Inf|INF|nan|NaN|NAN|Inf)
    )$""",
    re.VERBOSE,
)
_DATEISH = re.compile(r"^\d{4}-\d{1,2}-\d{1,2}")
_PLAIN_OK = re.compile(
    r"^[A-Za-z0-9_\u0080-\U0010ffff][A-Za-z0-9_ .,/()+=@$%^&;<>\u0080-\U0010ffff-]*$"
)


def _needs_quotes(s: str) -> bool:
    if not s or s != s.strip():
        return True
    if _BOOLISH.match(s) or _NUMERIC.match(s) or _DATEISH.match(s):
        return True
    if not _PLAIN_OK.match(s):
        return True
    return ": " in s or " #" in s or s.endswith(":")


def _scalar(value: Any) -> str:
    if value is None:
        return "~"
    if value is True:
        return "true"
    if value is False:
        return "false"
    if isinstance(value, int):
        if R_INT_MAX < abs(value) <= EXACT_DOUBLE:
            return f"{value}.0"  # R reads a plain integer this large as NA
        return str(value)
    if isinstance(value, float):
        if math.isnan(value):
            return ".nan"
        if math.isinf(value):
            return ".inf" if value > 0 else "-.inf"
        text = repr(value)
        mantissa, e, exponent = text.partition("e")
        if e and "." not in mantissa:
            text = f"{mantissa}.0e{exponent}"  # YAML 1.1 floats need a dot: 1e+100 is a string
        return text
    if isinstance(value, str):
        return _string(value)
    raise InvalidMetadata(
        f"Cannot store a {type(value).__name__} in pins metadata; use strings, numbers, "
        "booleans, None, lists and dicts."
    )


def _must_escape(o: int) -> bool:
    """Characters YAML readers refuse raw or take as line breaks (C0/C1 controls, NEL,
    U+2028/2029, surrogates, BOM, U+FFFE/FFFF): written as escapes in double quotes."""
    return (
        o < 32
        or 127 <= o <= 159
        or o in (0x2028, 0x2029, 0xFEFF, 0xFFFE, 0xFFFF)
        or 0xD800 <= o <= 0xDFFF
    )


def _string(s: str) -> str:
    if any(_must_escape(ord(c)) for c in s):
        # double quotes with escapes for control characters and line breaks
        out = ['"']
        for c in s:
            o = ord(c)
            if c == '"':
                out.append('\\"')
            elif c == "\\":
                out.append("\\\\")
            elif c == "\n":
                out.append("\\n")
            elif c == "\t":
                out.append("\\t")
            elif o < 256 and _must_escape(o):
                out.append(f"\\x{o:02X}")
            elif _must_escape(o):
                out.append(f"\\u{o:04X}")
            else:
                out.append(c)
        out.append('"')
        return "".join(out)
    if _needs_quotes(s):
        return "'" + s.replace("'", "''") + "'"
    return s


def _key(k: Any) -> str:
    if not isinstance(k, str):
        raise InvalidMetadata(f"Metadata keys must be strings, not {type(k).__name__}: {k!r}")
    return _string(k)


def _emit(value: Any, indent: int, out: list[str]) -> None:
    """Append lines for a mapping or sequence at ``indent`` spaces."""
    pad = " " * indent
    if isinstance(value, Mapping):
        for k, v in value.items():
            key = _key(k)
            if isinstance(v, Mapping) and v:
                out.append(f"{pad}{key}:")
                _emit(v, indent + 2, out)
            elif isinstance(v, (list, tuple)) and v:
                out.append(f"{pad}{key}:")
                _emit(v, indent, out)  # R style: '- item' at the key's indent
            else:
                out.append(f"{pad}{key}: {_inline(v)}")
    else:
        for item in value:
            if isinstance(item, Mapping) and item:
                sub: list[str] = []
                _emit(item, indent + 2, sub)
                sub[0] = f"{pad}- " + sub[0][indent + 2 :]
                out.extend(sub)
            elif isinstance(item, (list, tuple)) and item:
                sub = []
                _emit(item, indent + 2, sub)
                sub[0] = f"{pad}- " + sub[0][indent + 2 :]
                out.extend(sub)
            else:
                out.append(f"{pad}- {_inline(item)}")


def _inline(v: Any) -> str:
    if isinstance(v, Mapping):
        return "{}"
    if isinstance(v, (list, tuple)):
        return "[]"
    return _scalar(v)


def dump(data: Mapping[str, Any] | Sequence[Any]) -> str:
    """Serialise a mapping (or sequence) of plain data as block-style YAML ending in a newline."""
    out: list[str] = []
    if isinstance(data, Mapping) and not data:
        return "{}\n"
    _emit(data, 0, out)
    return "\n".join(out) + "\n"
