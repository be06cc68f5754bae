"""The address of a version folder on each kind of store, for ``Board.pin_url``.

Folder boards give a ``file://`` URL, S3 an ``s3://bucket/key/`` URI, GCS ``gs://bucket/key/``,
Azure the https URL of the blob prefix (no credential), URL boards the folder's http(s) URL.
"""

from __future__ import annotations

from typing import Any

from .errors import PinsError, UnsupportedType


def location_url(store: Any, folder_key: str) -> str:
    """The URL of the folder ``folder_key`` (``name/version``) on ``store``, ending in ``/``."""
    from .stores.azure import AzureStore
    from .stores.folder import FolderStore
    from .stores.gcs import GCSStore
    from .stores.http import HTTPStore
    from .stores.s3 import S3Store

    if isinstance(store, FolderStore):
        return store.local_path(folder_key).absolute().as_uri() + "/"
    if isinstance(store, S3Store):
        return f"s3://{store.bucket}/{store.prefix}{folder_key}/"
    if isinstance(store, GCSStore):
        return f"gs://{store.bucket}/{store.prefix}{folder_key}/"
    if isinstance(store, AzureStore):
        return store.blob_url(folder_key) + "/"
    if isinstance(store, HTTPStore):
        try:
            return store.url_for(folder_key + "/")
        except PinsError:
            return store.url_for(folder_key)
    raise UnsupportedType(f"No URL is known for pins on {store!r}.")
