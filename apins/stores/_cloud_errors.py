"""botocore errors → apins errors, with a hint the user can act on. S3Store calls this for
every API call and presigning; the API boundary (:mod:`apins._one_error`) for any that slip by.

botocore is imported lazily, inside the function, so ``import apins`` stays light.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping

from ..errors import InvalidArgument, StoreAccessError, TransferError
from ..transfer.retry import StoreUnreachable, TransientError, probing, transient_for_status
from .base import NotModified, ObjectNotFound, PreconditionFailed, RangeNotSatisfiable

#: where botocore looks for credentials, in order (for error messages)
CREDENTIALS_HINT = (
    "AWS credentials are looked for in: the access_key/secret_key (and session_token) "
    "arguments; the AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY/AWS_SESSION_TOKEN environment "
    "variables; the profile (profile= or AWS_PROFILE) in ~/.aws/credentials and ~/.aws/config "
    "(AWS_SHARED_CREDENTIALS_FILE, AWS_CONFIG_FILE); then the container or instance role. "
    "For a public bucket pass anonymous=True."
)

_ACCESS_CODES = frozenset(
    {
        "403",
        "AccessDenied",
        "InvalidAccessKeyId",
        "SignatureDoesNotMatch",
        "ExpiredToken",
        "InvalidToken",
        "TokenRefreshRequired",
        "AllAccessDisabled",
        "AuthorizationHeaderMalformed",
    }
)
_MISSING_CODES = frozenset({"404", "NoSuchKey", "NotFound"})


def is_transport_error(exc: BaseException) -> bool:
    """Connection drops, timeouts and truncated bodies, from aiohttp or botocore."""
    import aiohttp
    from botocore import exceptions as bex

    return isinstance(
        exc,
        aiohttp.ClientError
        | asyncio.TimeoutError
        | ConnectionError
        | bex.HTTPClientError
        | bex.ConnectionError
        | bex.IncompleteReadError
        | bex.ResponseStreamingError,
    )


def map_s3_answer(
    status: int | None,
    code: str,
    *,
    op: str,
    where: str,
    key: str | None = None,
    message: str = "",
    if_none_match: str | None = None,
    headers: Mapping[str, str] | None = None,
) -> Exception:
    """The apins error for an S3 error answer (HTTP ``status``, XML error ``code``)."""
    if code == "NoSuchBucket":
        return ObjectNotFound(f"the bucket of {where} does not exist")
    if code in _MISSING_CODES or status == 404:
        return ObjectNotFound(f"no object {where}")
    if code == "304" or status == 304:
        return NotModified(key or "", if_none_match)
    if code == "PreconditionFailed" or status == 412:
        return PreconditionFailed(f"{where} no longer matches the expected ETag")
    if code == "InvalidRange" or status == 416:
        return RangeNotSatisfiable(f"requested range lies outside {where}")
    if code in _ACCESS_CODES or status in (401, 403):
        return StoreAccessError(
            f"S3 refused {op} on {where} ({code or status}): check the access key, "
            f"secret, session token and the bucket's permissions. {CREDENTIALS_HINT}"
        )
    transient = transient_for_status(
        status or 0, f"S3 {op} on {where} failed: {code or status}", headers, code=code
    )
    if transient is not None:
        return transient
    return TransferError(f"S3 {op} on {where} failed: {code or status} {message}".strip())


def map_botocore_error(exc: Exception, *, op: str, where: str, key: str | None = None) -> Exception:
    """The apins error for ``exc`` (raised by ``op`` on ``where``), or ``exc`` if unknown."""
    from botocore import exceptions as bex

    if isinstance(exc, bex.ClientError):
        error = exc.response.get("Error", {})
        status = exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode")
        return map_s3_answer(
            status, str(error.get("Code", "")), op=op, where=where, key=key,
            message=str(error.get("Message", "")),
            headers=exc.response.get("ResponseMetadata", {}).get("HTTPHeaders"),
        )  # fmt: skip
    if isinstance(exc, bex.NoCredentialsError | bex.PartialCredentialsError):
        return StoreAccessError(f"No usable AWS credentials for {where}. {CREDENTIALS_HINT}")
    if isinstance(exc, bex.ProfileNotFound):
        return StoreAccessError(f"{exc} (for {where}). {CREDENTIALS_HINT}")
    if isinstance(exc, bex.ParamValidationError):
        return InvalidArgument(
            f"S3 rejected the request {op} on {where} before sending it: {exc}. A board path "
            "is 'bucket' or 'bucket/prefix' (an 's3://' in front is fine)."
        )
    if isinstance(exc, bex.NoRegionError):
        return InvalidArgument(f"{exc} for {where}: pass region= or set AWS_DEFAULT_REGION.")
    if is_transport_error(exc):
        text = f"S3 {op} on {where} failed: {type(exc).__name__}"
        no_connection = isinstance(exc, bex.EndpointConnectionError | bex.ConnectTimeoutError)
        if no_connection or (probing() and isinstance(exc, bex.ReadTimeoutError)):
            return StoreUnreachable(text)
        return TransientError(text)
    if isinstance(exc, bex.BotoCoreError):
        return TransferError(f"S3 {op} on {where} failed: {type(exc).__name__}: {exc}")
    return exc
