"""What the deploy-time hook costs inside its 30-second limit: cold start and evaluation of the largest template.

    .venv/bin/python bench/hook_cost.py [--resources 450] [--rounds 5]

It stages the hook's Lambda bundle (constructs_lib/hook/bundle.py) and runs it as the Lambda runtime would:
a fresh Python process with only the bundle on sys.path (``-I``: no site-packages, so PyYAML's pure-Python
loader, as in Lambda). In each of --rounds processes it times:
  - cold start: importing the handler module;
  - the first request (a resource event for an unaccepted Llama 2 model): loads the catalog;
  - a stack request whose payload (served over HTTPS by the tests' S3 stand-in on 127.0.0.1, reached through the
    download's test seam, as CloudFormation's presigned URL would be from S3) holds the largest template of
    bench/check_throughput.py (--resources, 450 by default), as JSON and as YAML;
and, in the same processes, the floor: ``json.loads`` of the same template text.
It prints medians, each as a fraction of the hook's 30 s, and evaluation / parse floor. Target: cold start plus
the slowest evaluation well under 30 s: below 5 s, a quarter of the handler's own 20 s deadline, since Lambda's
one vCPU (1,769 MB) may be slower than this machine's.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
from pathlib import Path

import yaml
from check_throughput import build_stack  # bench/ is on sys.path: the script's own directory

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from constructs_lib.hook.bundle import stage_bundle  # noqa: E402 - after the path is set
from tests.support.https_payloads import payload_server  # noqa: E402

WORK = ROOT / "bench" / ".work" / "hook-cost"
HOOK_LIMIT_SECONDS = 30.0
TARGET_SECONDS = 5.0
EVENTS = ROOT / "examples" / "hook-events"

# Runs in the bundle: argv = bundle, resource event, stack event, JSON url, YAML url, template file, test CA, port.
CHILD = r"""
import functools, json, socket, ssl, sys, time
started = time.perf_counter()
sys.path.insert(0, sys.argv[1])
from constructs_lib.hook.handler import handle
from constructs_lib.hook.payload import Connector, download_payload
imported = time.perf_counter()
port = int(sys.argv[8])
connector = Connector(ssl.create_default_context(cafile=sys.argv[7]),
                      lambda _address, timeout, _source=None: socket.create_connection(("127.0.0.1", port), timeout))
fetch = functools.partial(download_payload, region="us-east-1", connector=connector)
resource_event = json.load(open(sys.argv[2]))
first = handle(resource_event)
first_done = time.perf_counter()
stack = json.load(open(sys.argv[3]))
timings = {"import": imported - started, "first_request": first_done - imported}
for name, url in (("stack_json", sys.argv[4]), ("stack_yaml", sys.argv[5])):
    stack["requestData"]["payload"] = url
    begin = time.perf_counter()
    response = handle(stack, fetch_payload=fetch)
    timings[name] = time.perf_counter() - begin
    assert response["hookStatus"] == "FAILED" and response["errorCode"] == "NonCompliant", response
text = open(sys.argv[6]).read()
begin = time.perf_counter()
json.loads(text)
timings["json_floor"] = time.perf_counter() - begin
assert first["errorCode"] == "NonCompliant", first
print(json.dumps(timings))
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--resources", type=int, default=450, help="resources of the template (at most 500)")
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()

    WORK.mkdir(parents=True, exist_ok=True)
    template = build_stack("Serving00", args.resources, "us-east-1")
    template_text = json.dumps(template, indent=1)
    (WORK / "template.json").write_text(template_text)
    (WORK / "payload.json").write_text(json.dumps({"template": template_text, "previousTemplate": ""}))
    yaml_text = yaml.dump(template, Dumper=getattr(yaml, "CSafeDumper", yaml.SafeDumper), sort_keys=False)
    (WORK / "payload-yaml.json").write_text(json.dumps({"template": yaml_text, "previousTemplate": ""}))
    bundle = stage_bundle()
    print(f"template: {len(template['Resources'])} resources, {len(template_text) / 1e6:.2f} MB as JSON, "
          f"{len(yaml_text) / 1e6:.2f} MB as YAML; bundle {bundle}")

    runs = []
    with payload_server(WORK) as server:
        command = [sys.executable, "-I", "-c", CHILD, str(bundle), str(EVENTS / "llama2-model-unaccepted.json"),
                   str(EVENTS / "stack-llama2-tuning.json"),
                   server.serve("/payload.json", (WORK / "payload.json").read_bytes()),
                   server.serve("/payload-yaml.json", (WORK / "payload-yaml.json").read_bytes()),
                   str(WORK / "template.json"), str(server.ca), str(server.port)]
        for _ in range(args.rounds):
            result = subprocess.run(command, capture_output=True, text=True, timeout=300, check=True)
            runs.append(json.loads(result.stdout))
    medians = {name: statistics.median(run[name] for run in runs) for name in runs[0]}

    def line(label: str, seconds: float) -> str:
        return f"{label:<44} {seconds:8.3f} s  ({seconds / HOOK_LIMIT_SECONDS:6.2%} of the hook's 30 s)"

    print(f"medians of {args.rounds} fresh processes:")
    print(line("cold start (import the handler)", medians["import"]))
    print(line("first request (resource event, loads catalog)", medians["first_request"]))
    print(line(f"stack request, {args.resources} resources, JSON payload", medians["stack_json"]))
    print(line(f"stack request, {args.resources} resources, YAML payload", medians["stack_yaml"]))
    worst = medians["import"] + medians["first_request"] + max(medians["stack_json"], medians["stack_yaml"])
    print(line("cold start + first request + slowest stack", worst))
    print(f"stack JSON request / json.loads floor: {medians['stack_json'] / medians['json_floor']:.1f}x "
          f"(floor {medians['json_floor'] * 1000:.1f} ms; the request adds the download and the rules)")
    print(f"target: cold start + first request + slowest stack below {TARGET_SECONDS:g} s: "
          f"{'met' if worst < TARGET_SECONDS else 'NOT met'}")


if __name__ == "__main__":
    main()
