"""Transfer limits and timeouts, with sane defaults; every board takes a TransferSettings."""

from __future__ import annotations

from dataclasses import dataclass

MiB = 1024 * 1024


@dataclass(frozen=True, slots=True)
class TransferSettings:
    """How bytes move. Memory in flight is bounded by ``max_concurrency * part_size``."""

    #: files at least this large download as concurrent byte ranges; a body this large on
    #: plain HTTP (no TLS) is read from the socket into one reused buffer, not through aiohttp
    range_threshold: int = 32 * MiB
    #: files at least this large upload as multipart
    multipart_threshold: int = 32 * MiB
    #: size of one range / multipart part (S3 needs >= 5 MiB except the last part)
    part_size: int = 16 * MiB
    #: parts in flight for one file
    max_concurrency: int = 8
    #: a large download starts as one stream for the whole object and stays one stream while
    #: it moves at least this many bytes per second (its average over the first half second,
    #: then over every two seconds); falling below adds ``max_concurrency - 1`` ranges.
    #: None: ranges from the start (0: never split)
    split_below: float | None = 100e6
    #: requests in flight for one board (connection pool size)
    max_connections: int = 16
    #: chunk size when streaming a body
    chunk_size: int = 1 * MiB
    #: retries after the first attempt, with exponential backoff and full jitter
    retries: int = 5
    backoff_base: float = 0.25
    backoff_max: float = 10.0
    #: the longest ``Retry-After`` wait honoured (a server asking for more waits this long)
    retry_after_max: float = 30.0
    #: seconds to open a connection; also how long an offline-capable read waits for a
    #: first answer before it serves the cache (offline mode)
    connect_timeout: float = 10.0
    #: idle-read timeout: the longest silence while waiting for an answer or mid-body
    read_timeout: float = 60.0
    #: total seconds one board verb (pin_read, pin_write...) may take, retries included;
    #: None (the default) bounds only each request, as a large transfer may take hours
    deadline: float | None = None
    #: concurrent metadata requests (pin_search, listing versions of many pins)
    meta_concurrency: int = 16
