"""``eulagate hook simulate EVENT.json [--template FILE]`` and ``eulagate hook bundle OUT.zip``.

``simulate`` runs the deploy-time hook's handler on a Lambda Hook request event, here, and prints the response
the hook would return. For stack and change-set events, ``--template`` stands in for the payload download (which
only CloudFormation's presigned URL allows). It reads regular files only (never a FIFO or a device), of bounded
size. Exit status: 0 for SUCCESS, 1 for FAILED (NonCompliant), 2 for bad input (an unreadable event or template,
or a request the hook cannot evaluate: its InternalFailure response is printed too).

``bundle`` writes the hook's Lambda code as a zip, for the organisation rollout's code buckets (docs/hook.md).
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable, Mapping
from typing import Any

from constructs_lib.errors import InputError
from constructs_lib.files import read_text_file

EXIT_NON_COMPLIANT = 1
EXIT_BAD_INPUT = 2
# Lambda takes synchronous invocation payloads of at most 6 MB: no real hook event is larger.
MAX_EVENT_BYTES = 6 * 1024 * 1024
PAYLOAD_TARGETS = ("STACK", "CHANGE_SET")


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
    from constructs_lib.hook.payload import MAX_PAYLOAD_BYTES

    event = _read_json(args.event)
    data = event.get("requestData") if isinstance(event, Mapping) else None
    target = data.get("targetName") if isinstance(data, Mapping) else None
    if args.template:
        if target not in PAYLOAD_TARGETS:
            raise InputError(f"{args.event}: --template stands in for a stack or change-set payload, and this "
                             f"event's requestData.targetName is {_quoted(target)}")
        fetch_payload = _payload_of(_read_text(args.template, MAX_PAYLOAD_BYTES))
    elif target in PAYLOAD_TARGETS:
        raise InputError(f"{args.event}: a {target} event's template is downloaded from a presigned S3 URL that "
                         "only CloudFormation can give; pass --template FILE with the template to simulate it")
    else:
        fetch_payload = _payload_of("")  # resource events download nothing
    response = handle(event, fetch_payload=fetch_payload)
    sys.stdout.write(json.dumps(response, indent=2) + "\n")
    if response["hookStatus"] == "SUCCESS":
        return 0
    if response.get("errorCode") == "NonCompliant":
        return EXIT_NON_COMPLIANT
    print(f"eulagate hook: {args.event}: {response['message']}", file=sys.stderr)  # the InternalFailure's one line
    return EXIT_BAD_INPUT


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


def _quoted(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else f"{text[:60]}..."


def _read_text(path: str, limit: int) -> str:
    """A regular file's text, at most ``limit`` bytes: never a FIFO (which would block) or a device."""
    return read_text_file(path, limit=limit, reads="eulagate hook simulate reads only regular files",
                          limit_note="(a hook request or payload holds no more)")


def _read_json(path: str) -> Any:
    from constructs_lib.rules.detection.template_text import TemplateTextError, parse_json_text

    try:  # the template reader's JSON: one line for syntax, nesting, 4,300-digit integers and lone surrogates
        return parse_json_text(_read_text(path, MAX_EVENT_BYTES))
    except TemplateTextError as error:
        raise InputError(f"{path}: {error}") from error
