"""``eulagate hook simulate EVENT.json [--template FILE]`` and ``eulagate hook bundle OUT.zip``.

``simulate`` runs the deploy-time hook's handler on a Lambda Hook request event, here, and prints the response
the hook would return. For stack and change-set events, ``--template`` stands in for the payload download.
Exit status: 0 for SUCCESS, 1 for FAILED (NonCompliant), 2 for bad input (an unreadable event or template, or
a request the hook cannot evaluate: its InternalFailure response is printed too).

``bundle`` writes the hook's Lambda code as a zip, for the organisation rollout's code buckets (docs/hook.md).
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from constructs_lib.errors import InputError

EXIT_NON_COMPLIANT = 1
EXIT_BAD_INPUT = 2


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "hook",
        help="run the deploy-time CloudFormation hook locally, or build its Lambda code",
        description="The EulaGate CloudFormation Lambda Hook (docs/hook.md).",
    )
    actions = parser.add_subparsers(dest="hook_command", required=True, metavar="ACTION")
    simulate = actions.add_parser(
        "simulate",
        help="print the hook's response to a Lambda Hook request event",
        description="Run the hook's handler on EVENT (a Lambda Hook request, as CloudFormation sends it) and "
        "print its JSON response. Exit status: 0 SUCCESS, 1 FAILED (NonCompliant), 2 bad input.",
    )
    simulate.add_argument("event", metavar="EVENT.json", help="the hook request event")
    simulate.add_argument("--template", metavar="FILE",
                          help="for a stack or change-set event: the template (JSON or YAML) the payload holds")
    simulate.set_defaults(handler=run_simulate)
    bundle = actions.add_parser("bundle", help="write the hook's Lambda code as a zip",
                                description="Write the hook's Lambda code (zip) and print the S3 key the "
                                "organisation rollout reads it from.")
    bundle.add_argument("output", metavar="OUT.zip")
    bundle.set_defaults(handler=run_bundle)


def run_simulate(args: argparse.Namespace) -> int:
    from constructs_lib.hook.handler import handle
    from constructs_lib.hook.payload import download_payload

    event = _read_json(args.event)
    fetch_payload: Callable[[str], Mapping[str, Any]] = download_payload
    if args.template:
        target = event.get("requestData", {}).get("targetName") if isinstance(event, Mapping) else None
        if target not in ("STACK", "CHANGE_SET"):
            raise InputError(f"{args.event}: --template stands in for a stack or change-set payload, and this "
                             f"event's requestData.targetName is {target!r}")
        fetch_payload = _payload_of(_read_text(args.template))
    response = handle(event, fetch_payload=fetch_payload)
    sys.stdout.write(json.dumps(response, indent=2) + "\n")
    if response["hookStatus"] == "SUCCESS":
        return 0
    return EXIT_NON_COMPLIANT if response.get("errorCode") == "NonCompliant" else EXIT_BAD_INPUT


def run_bundle(args: argparse.Namespace) -> int:
    from constructs_lib.hook.bundle import bundle_key, write_bundle_zip

    try:
        write_bundle_zip(args.output)
    except OSError as error:
        raise InputError(f"cannot write {args.output}: {error.strerror or error}") from error
    print(bundle_key())  # alone on stdout, for scripts: key=$(eulagate hook bundle hook.zip)
    print(f"eulagate hook: wrote {args.output}; copy it to s3://<code bucket prefix>-<region>/{bundle_key()} in "
          "each region of the rollout", file=sys.stderr)
    return 0


def _payload_of(template: str) -> Callable[[str], Mapping[str, Any]]:
    """A payload fetcher that returns ``template`` whatever the URL: the local stand-in for the download."""

    def fetch(_url: str) -> Mapping[str, Any]:
        return {"template": template}

    return fetch


def _read_text(path: str) -> str:
    try:
        return Path(path).read_bytes().decode("utf-8-sig")
    except OSError as error:
        raise InputError(f"cannot read {path}: {error.strerror or error}") from error
    except UnicodeDecodeError as error:
        raise InputError(f"{path}: not UTF-8 text (byte {error.start}: {error.reason})") from error


def _read_json(path: str) -> Any:
    text = _read_text(path)
    try:
        return json.loads(text)
    except json.JSONDecodeError as error:
        raise InputError(f"{path}: malformed JSON at line {error.lineno} column {error.colno}: {error.msg}") from error
