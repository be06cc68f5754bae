"""A scheduled refresh, as a notebook or script that Posit Connect runs on a schedule.

Each run pulls the newest raw orders pin, totals them per region, writes the summary as a new
version of a pin that every signed-in user may read, and keeps only the newest versions.

Connect sets CONNECT_SERVER and CONNECT_API_KEY for scheduled content; board_connect() reads
them. Settings (environment variables, with defaults):

    ETL_SOURCE_PIN   the raw pin to pull        (default: "orders-raw" of the current user)
    ETL_TARGET_PIN   the pin to refresh         (default: "orders-by-region")
    ETL_KEEP         versions to keep           (default: 5)

Run: python examples/connect_etl.py
"""

from __future__ import annotations

import os
from datetime import datetime, timezone

import pandas as pd

from apins import sync


def transform(orders: pd.DataFrame) -> pd.DataFrame:
    """Units and revenue per region, largest revenue first."""
    orders = orders.assign(revenue=orders["units"] * orders["price"])
    summary = orders.groupby("region", as_index=False)[["units", "revenue"]].sum()
    return summary.sort_values("revenue", ascending=False, ignore_index=True)


def main() -> None:
    source = os.environ.get("ETL_SOURCE_PIN", "orders-raw")
    target = os.environ.get("ETL_TARGET_PIN", "orders-by-region")
    keep = int(os.environ.get("ETL_KEEP", "5"))

    with sync.board_connect() as board:
        raw_meta = board.pin_meta(source)  # pull
        orders = board.pin_read(source, version=raw_meta.version, output="pandas")
        summary = transform(orders)  # transform
        meta = board.pin_write(  # publish
            summary,
            target,
            type="parquet",
            title="Orders by region",
            description=f"Totals of {raw_meta.name}, refreshed on a schedule.",
            metadata={
                "source_pin": raw_meta.name,
                "source_version": raw_meta.version,
                "refreshed_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
            },
            access_type="logged_in",
        )
        pruned = board.pin_versions_prune(target, n=keep)  # keep the newest versions
        print(
            f"wrote {meta.name} version {meta.version} from {raw_meta.name}@{raw_meta.version}; "
            f"pruned {len(pruned)} old version(s)"
        )


if __name__ == "__main__":
    main()
