"""The transfer engine: store-independent downloads and uploads with retries and progress.

Division of labour with stores: a store's verbs (``list``, ``head``, ``put_bytes``,
``delete_many``, ``commit_version``...) retry on their own. Its streaming primitives
(``open_read`` and reading the stream, ``put_file_single``, the multipart calls) make one
attempt and raise :class:`TransientError` when another attempt may help; this engine retries
them, resuming a cut download from the last byte received.
"""

from __future__ import annotations

from .download import DownloadResult, download
from .progress import ProgressAggregator, TqdmProgress, tqdm_progress
from .retry import TransientError, is_transient, with_retries
from .upload import SinglePutStore, upload_file

__all__ = [
    "DownloadResult",
    "ProgressAggregator",
    "SinglePutStore",
    "TqdmProgress",
    "TransientError",
    "download",
    "is_transient",
    "tqdm_progress",
    "upload_file",
    "with_retries",
]
