"""index.html: the self-contained preview page Connect shows for a pin (no scripts, no assets).

It shows the pin's name, title, description, metadata, links to its files, how to read it,
and for a table pin its first rows. Every value from the pin is HTML-escaped.
"""

from __future__ import annotations

import html
import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote

from ..meta import Meta

PREVIEW_ROWS = 100
TABLE_TYPES = frozenset({"csv", "parquet", "arrow"})


@dataclass(frozen=True, slots=True)
class TablePreview:
    """The first rows of a table: column names and rows of cell texts."""

    columns: list[str]
    rows: list[list[str]]
    total_rows: int | None


def _cell(v: Any) -> str:
    return "" if v is None else str(v)


def table_preview(path: Path, ptype: str, n: int = PREVIEW_ROWS) -> TablePreview | None:
    """Read at most ``n`` rows of a csv/parquet/arrow file; None if it cannot be read.

    Blocking (run it in a worker thread); reads only the first batch, not the whole file.
    """
    try:
        if ptype == "parquet":
            import pyarrow.parquet as pq

            pf = pq.ParquetFile(path)
            total: int | None = pf.metadata.num_rows
            batch = next(pf.iter_batches(batch_size=n), None)
            schema_names = pf.schema_arrow.names
        elif ptype == "arrow":
            import pyarrow.ipc as ipc

            reader = ipc.open_file(path)
            total = None
            batch = reader.get_batch(0) if reader.num_record_batches else None
            schema_names = reader.schema.names
        elif ptype == "csv":
            import pyarrow.csv as pcsv

            sreader = pcsv.open_csv(path)
            total = None
            try:
                batch = sreader.read_next_batch()
            except StopIteration:
                batch = None
            schema_names = sreader.schema.names
        else:
            return None
    except Exception:
        return None
    if batch is None:
        return TablePreview(list(schema_names), [], total)
    batch = batch.slice(0, n)
    records = batch.to_pylist()
    cols = list(batch.schema.names)
    return TablePreview(cols, [[_cell(r.get(c)) for c in cols] for r in records], total)


def _e(v: Any) -> str:
    return html.escape(_cell(v), quote=True)


def _meta_rows(meta: Meta) -> list[tuple[str, str]]:
    rows = [
        ("type", ", ".join(meta.types)),
        ("created", meta.created or ""),
        ("hash", meta.pin_hash or ""),
        ("files", ", ".join(meta.files)),
        ("size", str(meta.total_size)),
    ]
    if meta.tags:
        rows.append(("tags", ", ".join(meta.tags)))
    if meta.urls:
        rows.append(("urls", ", ".join(meta.urls)))
    return rows


_STYLE = """
body{font-family:system-ui,-apple-system,"Segoe UI",sans-serif;margin:2rem auto;max-width:60rem;
padding:0 1rem;color:#222}
h1{font-size:1.6rem;margin-bottom:.2rem}.sub{color:#666;margin-top:0}
table{border-collapse:collapse;margin:.5rem 0 1.5rem}
td,th{border:1px solid #ddd;padding:.25rem .5rem;text-align:left;vertical-align:top}
th{background:#f4f4f4}
pre{background:#f6f8fa;padding:.75rem;overflow-x:auto}.preview{overflow-x:auto}
""".strip()


def render_index(
    meta: Meta,
    full_name: str,
    *,
    server_url: str,
    preview: TablePreview | None = None,
) -> bytes:
    """The preview page for one version of pin ``full_name``, as UTF-8 bytes."""
    parts: list[str] = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>{_e(meta.title or full_name)}</title>",
        f"<style>{_STYLE}</style></head><body>",
        f"<h1>{_e(meta.title or full_name)}</h1>",
        f'<p class="sub">Pin <code>{_e(full_name)}</code> · written by apins</p>',
    ]
    if meta.description:
        parts.append(f"<p>{_e(meta.description)}</p>")
    parts.append("<h2>Files</h2><ul>")
    for f in meta.files:
        parts.append(f'<li><a href="{_e(quote(f))}">{_e(f)}</a></li>')
    parts.append('<li><a href="data.txt">data.txt</a> (metadata)</li></ul>')
    parts.append("<h2>Details</h2><table>")
    parts.extend(f"<tr><th>{_e(k)}</th><td>{_e(v)}</td></tr>" for k, v in _meta_rows(meta))
    parts.append("</table>")
    if meta.user:
        parts.append("<h2>Metadata</h2><table>")
        for k, v in meta.user.items():
            shown = v if isinstance(v, str) else json.dumps(v, default=str, ensure_ascii=False)
            parts.append(f"<tr><th>{_e(k)}</th><td>{_e(shown)}</td></tr>")
        parts.append("</table>")
    if preview is not None:
        parts.append(_table_html(preview))
    parts.append("<h2>Read it</h2>")
    for label, code in read_snippets(full_name, server_url):
        parts.append(f"<p>{_e(label)}:</p><pre>{_e(code)}</pre>")
    parts.append("</body></html>\n")
    return "\n".join(parts).encode("utf-8")


def read_snippets(full_name: str, server_url: str) -> list[tuple[str, str]]:
    """(label, code) pairs that read the pin: apins async and sync, pins-python, R.

    Each reads the key from CONNECT_API_KEY (Connect sets it for deployed content).
    """
    return [
        (
            "Python, apins (async)",
            "import asyncio\n\nimport apins\n\n\nasync def main():\n"
            f"    async with apins.board_connect({server_url!r}) as board:\n"
            f"        return await board.pin_read({full_name!r})\n\n\n"
            "x = asyncio.run(main())",
        ),
        (
            "Python, apins (sync)",
            "from apins import sync\n\n"
            f"board = sync.board_connect({server_url!r})\n"
            f"x = board.pin_read({full_name!r})",
        ),
        (
            "Python, pins-python",
            "import pins\n\n"
            f"board = pins.board_connect(server_url={server_url!r})\n"
            f"x = board.pin_read({full_name!r})",
        ),
        (
            "R, pins",
            f'library(pins)\nboard <- board_connect()\nx <- pin_read(board, "{full_name}")',
        ),
    ]


def _table_html(p: TablePreview) -> str:
    shown = len(p.rows)
    total = f" of {p.total_rows}" if p.total_rows is not None else ""
    head = "".join(f"<th>{_e(c)}</th>" for c in p.columns)
    body = "".join("<tr>" + "".join(f"<td>{_e(c)}</td>" for c in row) + "</tr>" for row in p.rows)
    return (
        f"<h2>Preview</h2><p>The first {shown} rows{total}.</p>"
        f'<div class="preview"><table><thead><tr>{head}</tr></thead>'
        f"<tbody>{body}</tbody></table></div>"
    )


def preview_for(meta: Meta, files: Sequence[tuple[str, Path]]) -> TablePreview | None:
    """The table preview of a table pin's data file, else None (blocking)."""
    types = meta.types
    if len(types) != 1 or types[0] not in TABLE_TYPES or len(files) != 1:
        return None
    return table_preview(files[0][1], types[0])
