"""Developer and CI sessions: `nox -s tests`, `nox -s lint`, `nox -s typecheck`, `nox -s bench`,
`nox -s stress` (full crash and race trial counts)."""

from __future__ import annotations

import os
import shutil
import subprocess

import nox

# uv when nox can find it (on PATH or as the `uv` package), else virtualenv.
nox.options.default_venv_backend = "uv|virtualenv"
nox.options.reuse_venv = "yes"
nox.options.sessions = ["tests", "lint", "typecheck"]

LINT_PATHS = ["apins", "tests", "benchmarks", "examples", "noxfile.py"]


def _extras() -> set[str]:
    """Names of the optional-dependency extras declared in pyproject.toml."""
    import tomllib

    with open("pyproject.toml", "rb") as f:
        project = tomllib.load(f)["project"]
    return set(project.get("optional-dependencies", {}))


def _apt_install(session: nox.Session, what: str, *packages: str) -> None:
    """apt-get install ``packages`` (as root; without recommends) or explain what is missing."""
    if os.geteuid() != 0:
        session.error(f"the tests need {what}: install it (apt-get install {' '.join(packages)})")
    env = {"DEBIAN_FRONTEND": "noninteractive"}
    session.run("apt-get", "update", "-qq", external=True, env=env)
    session.run(
        "apt-get", "install", "-y", "-qq", "--no-install-recommends", *packages,
        external=True, env=env,
    )  # fmt: skip


def _ensure_nginx(session: nox.Session) -> None:
    """Make nginx available for the real-server tests (apt-get as root when missing)."""
    if shutil.which("nginx") or os.path.exists("/usr/sbin/nginx"):
        return
    _apt_install(session, "nginx", "nginx-light")


def _ensure_tool(session: nox.Session, command: str, package: str) -> None:
    """A command-line tool from Debian's package ``package`` (apt-get as root when missing)."""
    if shutil.which(command):
        return
    _apt_install(session, command, package)


def _ensure_r(session: nox.Session) -> None:
    """Rscript with R's yaml package, for tests/test_r_yaml.py (Debian packages; no CRAN)."""
    rscript = shutil.which("Rscript")
    if rscript:
        probe = [rscript, "--vanilla", "-e", "library(yaml)"]
        if subprocess.run(probe, capture_output=True).returncode == 0:
            return
    _apt_install(session, "R and its yaml package", "r-base-core", "r-cran-yaml")


#: Azurite (the Azure Blob emulator) lives in this git-ignored folder, pinned to a tested version
AZURITE_DIR = ".azurite"
AZURITE_VERSION = "3.35.0"


def _ensure_azurite(session: nox.Session) -> None:
    """Install node/npm (apt, as root) and Azurite (npm, into AZURITE_DIR) when missing."""
    main = os.path.join(AZURITE_DIR, "node_modules", "azurite", "dist", "src", "blob", "main.js")
    if os.path.exists(main):
        return
    if not (shutil.which("node") and shutil.which("npm")):
        if os.geteuid() != 0:
            session.error("the tests need node and npm: install them (apt-get install nodejs npm)")
        env = {"DEBIAN_FRONTEND": "noninteractive"}
        session.run("apt-get", "update", "-qq", external=True, env=env)
        session.run("apt-get", "install", "-y", "-qq", "nodejs", "npm", external=True, env=env)
    session.run(
        "npm", "install", "--prefix", AZURITE_DIR, "--no-audit", "--no-fund",
        f"azurite@{AZURITE_VERSION}", external=True,
    )  # fmt: skip


@nox.session
def tests(session: nox.Session) -> None:
    """Run pytest against real local servers (SeaweedFS, moto, nginx, Azurite) and R."""
    session.install("-e", ".[test]")
    _ensure_nginx(session)
    _ensure_azurite(session)
    _ensure_r(session)
    _ensure_tool(session, "curl", "curl")  # tests/test_benchmarks_wan.py checks a link with it
    # Only exit code 0 is success: pytest's 5 ("no tests collected") fails the session.
    session.run("pytest", *session.posargs, success_codes=[0])


#: the suites whose trial counts grow under APINS_STRESS=1 (see tests/_helpers.trials)
STRESS_TESTS = [
    "tests/test_unversioned_race.py",
    "tests/test_crash_consistency.py",
    "tests/test_cache_integrity.py",
]


@nox.session
def stress(session: nox.Session) -> None:
    """The race and crash suites with their full trial counts (CI runs fewer)."""
    session.install("-e", ".[test]")
    _ensure_nginx(session)
    tests = [t for t in STRESS_TESTS if os.path.exists(t)]
    # 25 crash trials of one case take longer than the suite's per-test timeout on a busy
    # machine; a stuck trial is still caught, by this longer bound
    session.run(
        "pytest", "--timeout=3600", *tests, *session.posargs,
        env={"APINS_STRESS": "1"}, success_codes=[0],
    )  # fmt: skip


@nox.session
def docs(session: nox.Session) -> None:
    """Build the documentation site (mkdocs-material + mkdocstrings) with --strict."""
    session.install("-e", ".[docs]")
    session.run(
        "mkdocs",
        "build",
        "--strict",
        "--site-dir",
        "site",
        *session.posargs,
        env={"NO_MKDOCS_2_WARNING": "1"},
    )


@nox.session
def lint(session: nox.Session) -> None:
    """ruff check and ruff format --check."""
    session.install("ruff>=0.6")
    paths = [p for p in LINT_PATHS if os.path.exists(p)]
    session.run("ruff", "check", *paths)
    session.run("ruff", "format", "--check", *paths)


@nox.session
def typecheck(session: nox.Session) -> None:
    """mypy --strict on the apins package."""
    session.install("-e", ".[dev]")
    session.run("mypy", "--strict", "apins")


@nox.session
def bench(session: nox.Session) -> None:
    """Run the benchmarks package (`python -m benchmarks`) with the given arguments."""
    extras = "test,bench" if "bench" in _extras() else "test"
    session.install("-e", f".[{extras}]")
    if os.path.exists("benchmarks/requirements.txt"):
        session.install("-r", "benchmarks/requirements.txt")
    _ensure_nginx(session)
    _ensure_azurite(session)
    _ensure_tool(session, "aria2c", "aria2")  # the `aria2c -x8` anchor of the download rows
    _ensure_tool(session, "curl", "curl")  # the single-stream anchor and the WAN link check
    session.run("python", "-m", "benchmarks", *session.posargs, success_codes=[0])
