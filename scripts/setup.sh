#!/usr/bin/env bash
# Creates .venv (the project, editable, with its "cdk" extra and dev tools) and the local CDK CLI
# (node_modules, aws-cdk@2).
# Idempotent: a second run only checks two stamps and returns.
set -euo pipefail
cd "$(dirname "$0")/.."

PYTHON="${PYTHON:-python3.11}"
command -v "$PYTHON" >/dev/null 2>&1 || PYTHON=python3
"$PYTHON" -c 'import sys; sys.exit(sys.version_info < (3, 11))' \
  || { echo "setup: Python 3.11 or newer is needed (found $("$PYTHON" --version 2>&1)); set PYTHON=/path/to/python3.11" >&2; exit 2; }
command -v npm >/dev/null 2>&1 || { echo "setup: npm (Node 20) is needed for the local CDK CLI" >&2; exit 2; }

python_stamp=$(cat pyproject.toml requirements.txt requirements-cdk.txt requirements-dev.txt | sha256sum | cut -c1-16)
if [ ! -x .venv/bin/python ] || [ "$(cat .venv/.eulagate-stamp 2>/dev/null)" != "$python_stamp" ]; then
  echo "setup: installing the project and its dev tools into .venv"
  [ -x .venv/bin/python ] || "$PYTHON" -m venv .venv
  # pip's log goes to a file so the setup stays readable; it is shown when pip fails.
  if ! .venv/bin/python -m pip install --disable-pip-version-check -e '.[cdk,dev]' > .venv/pip-install.log 2>&1; then
    tail -n 30 .venv/pip-install.log >&2
    echo "setup: pip install failed; the whole log is .venv/pip-install.log" >&2
    exit 1
  fi
  echo "$python_stamp" > .venv/.eulagate-stamp
fi

node_stamp=$(sha256sum package-lock.json | cut -c1-16)
if [ ! -x node_modules/.bin/cdk ] || [ "$(cat node_modules/.eulagate-stamp 2>/dev/null)" != "$node_stamp" ]; then
  echo "setup: installing the CDK CLI (aws-cdk@2) into node_modules"
  npm ci --no-audit --no-fund --loglevel=error
  echo "$node_stamp" > node_modules/.eulagate-stamp
fi
