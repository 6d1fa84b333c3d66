#!/usr/bin/env bash
# Rewrites the lock files scripts/setup.sh installs, after a change to requirements*.txt:
#   requirements-dev.lock: every dependency (package, cdk extra, build backend, dev tools), exact, with hashes;
#   requirements-cdk.lock: the quickstart's part of it (no dev tools), at the same versions.
# Universal (any OS, Python 3.11 and newer), so CI and every user install the same versions.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh >/dev/null  # for .venv/bin/uv
compile() {
  .venv/bin/uv pip compile --quiet --universal --python-version 3.11 --generate-hashes \
    --custom-compile-command "bash scripts/lock.sh" "$@"
}
compile requirements.txt requirements-cdk.txt requirements-build.txt requirements-dev.txt -o requirements-dev.lock
compile requirements.txt requirements-cdk.txt requirements-build.txt -c requirements-dev.lock -o requirements-cdk.lock
