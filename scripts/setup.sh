#!/usr/bin/env bash
# Creates .venv (the project, editable, with its "cdk" extra) and the local CDK CLI (node_modules, aws-cdk@2):
# what the quickstart runs, nothing more. `setup.sh --dev` adds the test and lint tools (scripts/test.sh does).
#
# Python packages come from the committed lock files, exact versions with hashes: requirements-cdk.lock (the
# package's dependencies and its cdk extra) and requirements-dev.lock (the same pins plus the dev tools), made by
# `bash scripts/lock.sh`. They are installed with uv, itself installed from PyPI into .venv first (a binary wheel,
# seconds): a machine needs only Python 3.11 and Node 20. .venv has no pip of its own (creating it with pip takes
# longer than the rest of the install): `.venv/bin/uv pip install NAME` adds a package. Each step prints one line.
# Idempotent: a second run only compares stamps and returns.
set -euo pipefail
cd "$(dirname "$0")/.."

UV_VERSION=0.13.9
dev=false
[ "${1:-}" = "--dev" ] && dev=true

PYTHON="${PYTHON:-python3.11}"
command -v "$PYTHON" >/dev/null 2>&1 || PYTHON=python3
"$PYTHON" -c 'import sys; sys.exit(sys.version_info < (3, 11))' \
  || { echo "setup: Python 3.11 or newer is needed (found $("$PYTHON" --version 2>&1)); set PYTHON=/path/to/python3.11" >&2; exit 2; }
command -v npm >/dev/null 2>&1 || { echo "setup: npm (Node 20) is needed for the local CDK CLI" >&2; exit 2; }

# Runs "$@" with its output in .venv/setup.log, shown (its end) only when it fails.
logged() {
  if ! "$@" >> .venv/setup.log 2>&1; then
    tail -n 30 .venv/setup.log >&2
    echo "setup: failed: $*; the whole log is .venv/setup.log" >&2
    exit 1
  fi
}

stamp_of() { cat "$@" | sha256sum | cut -c1-16; }
# uv copies files into .venv (its cache may sit on another file system, where it would warn about hard links).
export UV_LINK_MODE=copy UV_NO_PROGRESS=1

# The Python's own pip installs uv into .venv when it can aim at another environment (pip 22.3 and newer);
# otherwise .venv gets a pip of its own.
system_pip() { "$PYTHON" -c 'import pip, sys; sys.exit(tuple(map(int, pip.__version__.split(".")[:2])) < (22, 3))' 2>/dev/null; }

cdk_stamp=$(stamp_of pyproject.toml requirements.txt requirements-cdk.txt requirements-build.txt requirements-cdk.lock)
if [ ! -x .venv/bin/python ] || [ "$(cat .venv/.eulagate-stamp 2>/dev/null)" != "$cdk_stamp" ]; then
  if [ ! -x .venv/bin/python ]; then
    echo "setup: creating .venv ($("$PYTHON" --version 2>&1))"
    if system_pip; then "$PYTHON" -m venv --without-pip .venv; else "$PYTHON" -m venv .venv; fi
  fi
  : > .venv/setup.log
  if [ "$(.venv/bin/uv --version 2>/dev/null)" != "uv $UV_VERSION" ]; then
    echo "setup: installing the installer uv $UV_VERSION into .venv"
    if [ -x .venv/bin/pip ]; then
      logged .venv/bin/python -m pip install --disable-pip-version-check "uv==$UV_VERSION"
    else
      logged "$PYTHON" -m pip --python .venv/bin/python install --disable-pip-version-check "uv==$UV_VERSION"
    fi
  fi
  echo "setup: installing eulagate with its cdk extra (aws-cdk-lib, cdk-nag, boto3) from requirements-cdk.lock"
  logged .venv/bin/uv pip install --python .venv/bin/python --require-hashes -r requirements-cdk.lock
  # aws-cdk-lib and its dependency aws-cdk.cloud-assembly-schema both write aws_cdk/cloud_assembly_schema/; uv
  # installs in parallel, so either may win, and jsii then misses aws-cdk-lib's types (pip happens to install
  # aws-cdk-lib last). aws-cdk-lib's files are the ones its own code needs: installed again, they win.
  logged .venv/bin/uv pip install --python .venv/bin/python --require-hashes --reinstall-package aws-cdk-lib \
    -r requirements-cdk.lock
  logged .venv/bin/uv pip install --python .venv/bin/python --no-deps --no-build-isolation -e .
  echo "$cdk_stamp" > .venv/.eulagate-stamp
  rm -f .venv/.eulagate-dev-stamp  # the dev tools are checked against the new pins
fi

if "$dev"; then
  dev_stamp=$(stamp_of requirements-dev.txt requirements-dev.lock)
  if [ "$(cat .venv/.eulagate-dev-stamp 2>/dev/null)" != "$dev_stamp" ]; then
    echo "setup: installing the test and lint tools (pytest, moto, ruff, mypy) from requirements-dev.lock"
    logged .venv/bin/uv pip install --python .venv/bin/python --require-hashes -r requirements-dev.lock
    echo "$dev_stamp" > .venv/.eulagate-dev-stamp
  fi
fi

node_stamp=$(stamp_of package-lock.json)
if [ ! -x node_modules/.bin/cdk ] || [ "$(cat node_modules/.eulagate-stamp 2>/dev/null)" != "$node_stamp" ]; then
  echo "setup: installing the CDK CLI (aws-cdk@2) into node_modules"
  logged npm ci --no-audit --no-fund --loglevel=error
  echo "$node_stamp" > node_modules/.eulagate-stamp
fi
