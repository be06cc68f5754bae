"""The argument parser of ``apins`` (help text is part of the docs: keep it stable)."""

from __future__ import annotations

import argparse
import sys
from typing import Any, NoReturn

from .. import __version__
from .errors import USAGE
from .mirror_cmd import add_mirror_command
from .read_cmds import add_read_commands
from .watch_cmd import add_watch_command
from .write_cmds import add_write_commands

#: help is wrapped at a fixed width, so `apins --help` is the same in every terminal
HELP_WIDTH = 100

DESCRIPTION = """\
apins: read, write and mirror pins on boards (folder, S3, GCS, Azure, HTTP, Posit Connect).

Boards are named by URL:
  PATH or file:///PATH               a folder board
  s3://BUCKET[/PREFIX]               an S3 board (--endpoint-url, --region, --profile or the
                                     AWS_* environment; ?endpoint_url=...&region=...&profile=...
                                     in the URL sets them for that board only)
  gs://BUCKET[/PREFIX]               a Google Cloud Storage board (application default credentials;
                                     STORAGE_EMULATOR_HOST; ?endpoint_url=...&project=...
                                     &anonymous=true in the URL)
  az://CONTAINER[/PREFIX]            an Azure Blob board (AZURE_STORAGE_CONNECTION_STRING, or
                                     AZURE_STORAGE_ACCOUNT_URL or ?account_url=... with
                                     AZURE_STORAGE_SAS_TOKEN, AZURE_STORAGE_ACCOUNT_KEY or
                                     the default credential chain of apins[azure])
  https://HOST/PATH/                 a URL board (read-only; reads PATH/_pins.yaml)
  connect://HOST[:PORT]              Posit Connect over https (key from CONNECT_API_KEY);
                                     connect+http://HOST:PORT for plain http"""

EPILOG = """\
exit codes: 0 ok, 1 error, 2 bad usage, 3 board, pin or version not found.
Run 'apins COMMAND --help' for the options of one command."""


class _Formatter(argparse.RawDescriptionHelpFormatter):
    def __init__(self, prog: str) -> None:
        super().__init__(prog, width=HELP_WIDTH, max_help_position=32)


class Parser(argparse.ArgumentParser):
    """Usage errors print one line, ``apins: error: ...``, and exit with 2."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("formatter_class", _Formatter)
        super().__init__(*args, **kwargs)

    def error(self, message: str) -> NoReturn:
        hint = f" (see '{self.prog} --help')"
        sys.stderr.write(f"apins: error: {message}{hint}\n")
        raise SystemExit(USAGE)


def _common(suppress: bool) -> argparse.ArgumentParser:
    """Options accepted before and after the sub-command."""
    default = argparse.SUPPRESS if suppress else None
    p = Parser(add_help=False)
    g = p.add_argument_group("common options")
    g.add_argument("--json", action="store_true", default=default, help="print JSON for scripts")
    g.add_argument("--no-progress", action="store_true", default=default, help="no progress bars")
    g.add_argument(
        "--debug", action="store_true", default=default, help="tracebacks and apins's debug logs"
    )
    g.add_argument(
        "--debug-all",
        action="store_true",
        default=default,
        help="--debug plus the client libraries' debug logs (botocore, aiohttp...), redacted",
    )
    g.add_argument("--endpoint-url", default=default, metavar="URL", help="S3 endpoint URL")
    g.add_argument("--region", default=default, help="S3 region")
    g.add_argument("--profile", default=default, help="AWS profile for S3 credentials")
    return p


def build_parser() -> Parser:
    """The full ``apins`` parser."""
    parser = Parser(prog="apins", description=DESCRIPTION, epilog=EPILOG, parents=[_common(False)])
    parser.add_argument("--version", action="version", version=f"apins {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", title="commands")
    sub.required = True
    common = _common(True)
    add_read_commands(sub, common)
    add_write_commands(sub, common)
    add_mirror_command(sub, common)
    add_watch_command(sub, common)
    return parser
