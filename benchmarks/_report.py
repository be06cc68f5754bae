"""Render result rows as a plain-text table (stdout) and a Markdown table (README)."""

from __future__ import annotations

from typing import Any

from ._core import spread as _spread


def _num(x: float | None, unit: str = "") -> str:
    if x is None:
        return "-"
    if unit == "requests":
        return f"{x:.0f}"
    if abs(x) >= 100:
        return f"{x:.0f}"
    if abs(x) >= 10:
        return f"{x:.1f}"
    return f"{x:.3g}"


def _target(row: dict[str, Any]) -> str:
    if row.get("target_text"):
        return str(row["target_text"])
    if row.get("target") is not None:
        return f">= {row['target']:g}x"
    return "-"


def _met(row: dict[str, Any]) -> str:
    if row["status"] != "ok":
        return row["status"]
    if row.get("met") is None:
        return "(info)"
    return "met" if row["met"] else "MISSED"


def _value(row: dict[str, Any], field: str, spread: str) -> str:
    """The median, and the spread of the samples (min-max) when the row has one."""
    if row["status"] != "ok":
        return "-"
    unit = row["unit"]
    text = _num(row.get(field), unit)
    span = row.get(spread)
    if span is None:  # a results file written before the ranges were stored
        side = row.get("subject", "apins") if field == "apins" else row.get("reference", "")
        span = _spread(row.get("samples", {}).get(side), row.get(field), row.get("size"))
    if span:
        text += f" ({_num(span[0], unit)}-{_num(span[1], unit)})"
    return text


def _cells(row: dict[str, Any]) -> list[str]:
    ok = row["status"] == "ok"
    unit = row["unit"]
    ratio = row.get("ratio")
    return [
        row["group"],
        row["scenario"],
        unit,
        _value(row, "apins", "apins_range"),
        row.get("reference") or "-",
        _value(row, "ref_value", "ref_range"),
        f"{ratio:.2f}x" if ok and ratio is not None else "-",
        _target(row),
        _met(row),
    ]


HEADERS = ["group", "scenario", "unit", "apins", "reference", "ref", "ratio", "target", "result"]


def text_table(rows: list[dict[str, Any]]) -> str:
    """Aligned columns for the terminal (values: median (min-max) of the samples)."""
    table = [HEADERS] + [_cells(r) for r in rows]
    widths = [min(max(len(c[i]) for c in table), 60) for i in range(len(HEADERS))]
    out = []
    for cells in table:
        out.append("  ".join(c[: widths[i]].ljust(widths[i]) for i, c in enumerate(cells)))
    return "\n".join(out)


def markdown_table(rows: list[dict[str, Any]]) -> str:
    """A Markdown table (ratios > 1 favour apins), grouped as measured; values are medians
    with the min-max of the samples in parentheses."""
    lines = [
        "| " + " | ".join(HEADERS[1:]) + " |",
        "|" + "---|" * (len(HEADERS) - 1),
    ]
    group = None
    for r in rows:
        if r["group"] != group:
            group = r["group"]
            lines.append(f"| **{group}** |" + " |" * (len(HEADERS) - 2))
        lines.append("| " + " | ".join(c.replace("|", "/") for c in _cells(r)[1:]) + " |")
    notes = [f"- {r['scenario']}: {r['note']}" for r in rows if r.get("note")]
    return "\n".join([*lines, *(["", *notes] if notes else [])])
