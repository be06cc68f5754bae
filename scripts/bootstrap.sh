#!/bin/sh
# Set up apins from a clone on a fresh machine, then run the demo or the test suite.
#
#   sh scripts/bootstrap.sh demo     # a virtual environment in .venv, then examples/quickstart.py
#   sh scripts/bootstrap.sh tests    # nox in .venv, then `nox -s tests` (real servers included)
#
# Works with Debian's and Ubuntu's own python3 (PEP 668: nothing is installed outside a
# virtual environment) and with any other Python >= 3.10; PYTHON=/path/to/python picks one.
# On Debian/Ubuntu without the venv module it installs python3-venv with apt (as root, or
# through sudo).
set -eu
cd "$(dirname "$0")/.."
what=${1:-demo}
py=${PYTHON:-python3}

if ! command -v "$py" >/dev/null 2>&1; then
    echo "bootstrap: $py not found; install Python 3.10 or newer (or set PYTHON=...)" >&2
    exit 1
fi
if ! "$py" -c 'import sys; sys.exit(sys.version_info < (3, 10))'; then
    echo "bootstrap: apins needs Python >= 3.10; $py is $("$py" -V 2>&1)" >&2
    exit 1
fi

# Debian and Ubuntu ship venv (and its ensurepip) in a separate package.
if ! "$py" -c 'import ensurepip, venv' >/dev/null 2>&1; then
    pkg="python3-venv"
    if command -v apt-get >/dev/null 2>&1; then
        if [ "$(id -u)" = 0 ]; then sudo=""; else sudo="sudo"; fi
        echo "bootstrap: installing $pkg (the venv module) with apt-get" >&2
        $sudo apt-get update -qq
        DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "$pkg"
    else
        echo "bootstrap: $py has no venv module; install it (e.g. the $pkg package)" >&2
        exit 1
    fi
fi

if [ ! -x .venv/bin/python ]; then
    "$py" -m venv .venv
fi
pip="./.venv/bin/python -m pip"
$pip install -q --upgrade pip >/dev/null 2>&1 || true

case "$what" in
    demo)
        $pip install -q -e '.[pandas]'
        exec ./.venv/bin/python examples/quickstart.py
        ;;
    tests)
        $pip install -q nox uv
        exec ./.venv/bin/nox -s tests
        ;;
    *)
        echo "usage: sh scripts/bootstrap.sh [demo|tests]" >&2
        exit 2
        ;;
esac
