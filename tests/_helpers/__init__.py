"""Shared helpers for the foundation behaviour tests (interop, folder boards, processes)."""

from __future__ import annotations

import importlib
import os
import shutil
import sys
from pathlib import Path
from types import ModuleType
from typing import Any, NoReturn

import pins
import pytest

REPO = Path(__file__).resolve().parents[2]
PYTHON = sys.executable
HELPERS = Path(__file__).resolve().parent

#: the R-written boards shipped inside the pins-python wheel (spec §12)
PINS_FIXTURES = Path(pins.__file__).resolve().parent / "tests"


def same_meta(py_meta: Any, meta: Any) -> None:
    """pins-python's Meta of a version and apins's Meta of the same version agree field by field
    (as each library reports it)."""
    assert py_meta.title == meta.title
    assert py_meta.description == meta.description
    assert py_meta.user == meta.user
    assert py_meta.type == meta.type
    assert py_meta.file == meta.file
    assert py_meta.file_size == meta.file_size
    assert py_meta.pin_hash == meta.pin_hash
    assert py_meta.created == meta.created
    assert py_meta.api_version == meta.api_version == 1
    assert py_meta.version.version == meta.version


def required(module: str, package: str) -> ModuleType:
    """Import ``module`` of the [test] extra's ``package``; missing, it fails the test (in CI
    and locally alike: a suite that silently skips is a suite that does not run)."""
    try:
        return importlib.import_module(module)
    except ModuleNotFoundError as exc:
        pytest.fail(f"{package} is not installed (it is in the [test] extra): {exc}", pytrace=False)


def missing(message: str, *, module_level: bool = False) -> NoReturn:
    """A tool outside the Python [test] extra is missing: a failure under CI (``CI=true``,
    where the test command installs it), a skip elsewhere."""
    if os.environ.get("CI") == "true":
        pytest.fail(message, pytrace=False)
    pytest.skip(message, allow_module_level=module_level)


def subprocess_env(**extra: str) -> dict[str, str]:
    """The current environment with the repository importable (apins is not installed)."""
    env = dict(os.environ)
    old = env.get("PYTHONPATH")
    env["PYTHONPATH"] = str(REPO) + (os.pathsep + old if old else "")
    env.update(extra)
    return env


def copy_fixture(name: str, dest: Path) -> Path:
    """Copy the fixture board ``name`` (e.g. ``"pins-compat"``) to ``dest`` and return it."""
    target = dest / name
    shutil.copytree(PINS_FIXTURES / name, target)
    for p in target.rglob("*"):  # R marks data files read-only; tests corrupt copies
        p.chmod(0o755 if p.is_dir() else 0o644)
    return target


def read_bytes(path: str | os.PathLike[str]) -> bytes:
    """A file's bytes (a plain function, so async tests state their blocking reads plainly)."""
    return Path(path).read_bytes()


def exists(path: str | os.PathLike[str]) -> bool:
    """Whether ``path`` exists."""
    return Path(path).exists()


def file_size(path: str | os.PathLike[str]) -> int:
    return Path(path).stat().st_size


def hidden_names(folder: Path) -> list[str]:
    """Names of the hidden entries directly in ``folder``."""
    return [p.name for p in folder.iterdir() if p.name.startswith(".")]


def list_files(folder: Path) -> list[Path]:
    """Every file under ``folder``, sorted."""
    return sorted(p for p in folder.rglob("*") if p.is_file())


#: ``APINS_STRESS=1`` (the ``nox -s stress`` session) runs the full trial counts of the race
#: and crash suites; CI runs a reduced number.
STRESS = os.environ.get("APINS_STRESS", "") == "1"


def trials(ci: int, stress: int) -> int:
    """How many trials to run: ``stress`` under APINS_STRESS=1, else ``ci``."""
    return stress if STRESS else ci
