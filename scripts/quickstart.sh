#!/usr/bin/env bash
# The main job on a fresh machine: set up, synthesize the model table to cdk.out (offline, no AWS account),
# then run the EULA policy check over the cloud assembly. Extra arguments go to `cdk synth`
# (for example `-c table=examples/unaccepted.yaml`).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh

export JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION=20
export AWS_EC2_METADATA_DISABLED=true   # offline: don't wait on the instance-metadata service for credentials
rm -rf cdk.out
echo "quickstart: cdk synth (the synth-time EULA gate runs inside it)"
node_modules/.bin/cdk synth --quiet "$@"
echo "quickstart: eulagate check cdk.out"
.venv/bin/eulagate check cdk.out
