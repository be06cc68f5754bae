"""``import apins`` stays light: no heavy library is imported until it is needed."""

from __future__ import annotations

import json
import subprocess

import pytest

from tests._helpers import PYTHON, subprocess_env

HEAVY = [
    "pyarrow", "pandas", "polars", "numpy", "aiobotocore", "botocore", "aiohttp", "joblib",
    "rdata", "dask", "distributed", "fsspec", "requests", "urllib3",
    *["azure", "msal", "google", "cryptography"],  # cloud credential SDKs: only when asked for
]  # fmt: skip
#: what only a credential that needs it may import: never a board with a key or an emulator
CLOUD_SDKS = ["azure", "msal", "google", "cryptography"]


def modules_after(code: str, names: list[str]) -> list[str]:
    """Run ``code`` in a fresh interpreter; return which of ``names`` it left in sys.modules."""
    # the set is taken before json is imported (json brings in re)
    probe = f"{code}\nimport sys\nfound = sorted(set(sys.modules) & {set(names)!r})\n" + (
        "import json\nprint(json.dumps(found))"
    )
    proc = subprocess.run(
        [PYTHON, "-c", probe], capture_output=True, text=True, env=subprocess_env(), timeout=60
    )
    assert proc.returncode == 0, proc.stderr
    return list(json.loads(proc.stdout.strip().splitlines()[-1]))


def heavy_modules_after(code: str) -> list[str]:
    """The heavy modules ``code`` left in sys.modules of a fresh interpreter."""
    return modules_after(code, HEAVY)


def test_import_apins_is_light() -> None:
    assert heavy_modules_after("import apins") == []


@pytest.mark.parametrize(
    "code",
    [
        "import apins; apins.PinsError; apins.board_folder",
        "from apins import sync",
        "from apins import sync; sync.board_folder('/nonexistent/apins-board')",
        "import apins; apins.board_temp()",
        "import apins.dask",
    ],
)
def test_boards_and_facade_are_light_until_used(code: str) -> None:
    assert heavy_modules_after(code) == []


def test_the_probe_sees_heavy_imports() -> None:
    assert "pyarrow" in heavy_modules_after("import pyarrow")
    assert {"azure", "msal"} <= set(modules_after("import azure.identity", CLOUD_SDKS))
    assert {"google", "cryptography"} <= set(modules_after("import google.auth.crypt", CLOUD_SDKS))


def test_cloud_boards_load_no_sdk_until_a_credential_needs_it() -> None:
    code = (
        "import apins\n"
        "apins.board_azure('c/p', connection_string='UseDevelopmentStorage=true')\n"
        "apins.board_azure('c/p', account_url='http://127.0.0.1:9/acct', credential='sv=1&sig=x')\n"
        "apins.board_gcs('b/p', endpoint_url='http://127.0.0.1:9')\n"
        "apins.board_gcs('b/p', anonymous=True)\n"
        "apins.board_gcs('b/p', token='ya29.not-a-real-token')\n"
    )
    assert modules_after(code, CLOUD_SDKS) == []


LOGGING = ["apins._redact", "logging", "logging.handlers"]


def test_import_apins_loads_no_logging() -> None:
    # the secrets filter is installed by the first board or store, not by the import
    assert modules_after("import apins; apins.PinsError", [*LOGGING, "re", "typing"]) == []
    assert modules_after("import apins; apins.board_temp()", LOGGING) == [
        "apins._redact",
        "logging",
    ]
