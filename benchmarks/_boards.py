"""Board factories for both libraries, configured the same way against the same servers."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from tests.servers import S3Server


def apins_s3(
    server: S3Server, bucket: str, prefix: str, cache: Path | bool, settings: Any = None
) -> Any:
    """An apins S3 board (not yet connected; use ``async with``)."""
    import apins

    return apins.board_s3(
        f"{bucket}/{prefix}",
        endpoint_url=server.endpoint_url,
        region=server.region,
        access_key=server.access_key,
        secret_key=server.secret_key,
        cache=cache,
        settings=settings,
    )


def pins_s3(server: S3Server, bucket: str, prefix: str, cache: Path | None) -> Any:
    """A pins-python S3 board with a fresh s3fs instance (no listing cache shared with an
    earlier board) and its cache in ``cache`` (PINS_CACHE_DIR, as pins-python reads it)."""
    import pins

    if cache is not None:
        os.environ["PINS_CACHE_DIR"] = str(cache)
    return pins.board_s3(
        f"{bucket}/{prefix}",
        key=server.access_key,
        secret=server.secret_key,
        client_kwargs={"endpoint_url": server.endpoint_url, "region_name": server.region},
        skip_instance_cache=True,
    )


def pins_available() -> str | None:
    """None when pins-python (with s3fs) imports, else why not."""
    try:
        import pins  # noqa: F401
        import s3fs  # noqa: F401
    except Exception as e:  # pragma: no cover - depends on the environment
        return f"pins-python is not importable ({type(e).__name__}: {e})"
    return None


def feature(module: str, attr: str | None = None) -> str | None:
    """None when apins ``module`` imports (and has ``attr``, if given), else why not."""
    import importlib

    what = f"{module}.{attr}" if attr else module
    try:
        mod = importlib.import_module(module)
        if attr:
            getattr(mod, attr)
    except Exception as e:
        return f"{what} is not available ({type(e).__name__}: {e})"
    return None
