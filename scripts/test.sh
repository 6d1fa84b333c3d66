#!/usr/bin/env bash
# The whole test suite: the quickstart's setup plus the test and lint tools (idempotent), lint and type checks,
# then pytest. Extra arguments go to pytest.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh --dev
export JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION=20
export AWS_EC2_METADATA_DISABLED=true
.venv/bin/ruff check .
.venv/bin/mypy   # about 90 s on a cold cache, seconds after that
.venv/bin/python -m pytest "$@"
