"""Render result rows as a plain-text table (stdout) and a Markdown table (README)."""

from __future__ import annotations

from typing import Any


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


def _cells(row: dict[str, Any]) -> list[str]:
    ok = row["status"] == "ok"
    unit = row["unit"]
    ratio = row.get("ratio")
    return [
        row["group"],
        row["scenario"],
        unit,
        _num(row.get("apins"), unit) if ok else "-",
        row.get("reference") or "-",
        _num(row.get("ref_value"), unit) if ok else "-",
        f"{ratio:.2f}x" if ok and ratio is not None else "-",
        _target(row),
        _met(row),
    ]


HEADERS = ["group", "scenario", "unit", "apins", "reference", "ref", "ratio", "target", "result"]


def text_table(rows: list[dict[str, Any]]) -> str:
    """Aligned columns for the terminal."""
    table = [HEADERS] + [_cells(r) for r in rows]
    widths = [min(max(len(c[i]) for c in table), 60) for i in range(len(HEADERS))]
    out = []
    for cells in table:
        out.append("  ".join(c[: widths[i]].ljust(widths[i]) for i, c in enumerate(cells)))
    return "\n".join(out)


def markdown_table(rows: list[dict[str, Any]]) -> str:
    """A Markdown table (ratios > 1 favour apins), grouped as measured."""
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
