"""apins quick start: a table pin with two versions on a local folder board.

Run: python examples/quickstart.py [BOARD_DIR]
"""

from __future__ import annotations

import asyncio
import sys
import tempfile

import pyarrow as pa

import apins


async def main(path: str) -> None:
    async with apins.board_folder(path) as board:
        sales = pa.table({"region": ["north", "south"], "units": [120, 80]})
        first = await board.pin_write(
            sales,
            "sales",
            type="parquet",
            description="Units sold per region",
            metadata={"source": "quickstart"},
        )
        print(f"wrote {first.name} version {first.version}: {first.title}")

        more = pa.table({"region": ["north", "south", "east"], "units": [130, 85, 40]})
        second = await board.pin_write(more, "sales", type="parquet")
        print(f"wrote {second.name} version {second.version}: {second.title}")

        print("\nversions, oldest first:")
        for v in await board.pin_versions("sales"):
            print(f"  {v.version}  created {v.created:%Y-%m-%d %H:%M:%S} UTC  hash {v.hash}")

        latest = await board.pin_read("sales")
        oldest = await board.pin_read("sales", version=first.version)
        print(f"\nlatest version ({latest.num_rows} rows):\n{latest.to_pandas()}")
        print(f"\nfirst version ({oldest.num_rows} rows):\n{oldest.to_pandas()}")
        meta = await board.pin_meta("sales")
        print(f"\nmetadata of the latest version: type={meta.type} hash={meta.pin_hash}")
        print(f"board folder: {path}")


if __name__ == "__main__":
    target = sys.argv[1] if len(sys.argv) > 1 else tempfile.mkdtemp(prefix="apins-quickstart-")
    asyncio.run(main(target))
