#!/usr/bin/env bash
# The main job on a fresh machine: set up, synthesize the model table to cdk.out (offline, no AWS account),
# then run the EULA policy check over the cloud assembly. Extra arguments go to `cdk synth`
# (for example `-c table=examples/unaccepted.yaml`).
#
# After setup's progress lines (a first run only), it prints the table the synth read, the synth's outcome and
# the gate's verdict: app.py silences jsii's Node end-of-life banner, cdk.json turns off notices and telemetry
# and pins the feature flags, and the two lines the CDK CLI cannot be told to leave out are dropped below
# (tests/integration/test_quickstart_output.py checks all of it).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh

export AWS_EC2_METADATA_DISABLED=true   # offline: don't wait on the instance-metadata service for credentials
rm -rf cdk.out
log=$(mktemp)
trap 'rm -f "$log"' EXIT
echo "quickstart: cdk synth (the synth-time EULA gate runs inside it)"
status=0
# The CLI writes its messages to stderr, or to stdout when CI=true: both are collected, then shown filtered.
node_modules/.bin/cdk synth --quiet "$@" >"$log" 2>&1 || status=$?
grep -v -e '^Successfully synthesized to ' -e '^Supply a stack id ' "$log" || true
if [ "$status" -ne 0 ]; then
  echo "quickstart: cdk synth failed (exit $status)" >&2
  exit "$status"
fi
echo "quickstart: synthesized to cdk.out; the synth-time EULA gate passed"
.venv/bin/eulagate check cdk.out
