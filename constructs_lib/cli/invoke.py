"""``eulagate invoke ENDPOINT --body JSON|@FILE [--accept-eula] [--inference-component NAME]``: send one request
and print the model's reply; ``--input-location s3://...`` queues a request on an asynchronous endpoint instead
and prints where its response will be written.

Exit codes: 0 on a reply, 2 for bad input (body, custom attributes, endpoint name, AWS configuration), 1 when
the endpoint or the SageMaker API refuses the request or cannot be reached.
"""

from __future__ import annotations

import argparse
import json
import sys

from constructs_lib.errors import InputError
from constructs_lib.files import UnreadableFile, read_file_bytes

EXIT_REFUSED = 1
JSON_CONTENT_TYPES = ("application/json",)
# InvokeEndpoint takes a Body of at most 6 MiB (BodyBlob, max 6291456, in the SageMaker Runtime API model): a
# bigger body could only be refused by SageMaker, after it was read and sent. Asynchronous input is read from S3.
MAX_BODY_BYTES = 6 * 1024 * 1024
_BODY_LIMIT_NOTE = ("(SageMaker's InvokeEndpoint limit); send a bigger request to an asynchronous endpoint with "
                    "--input-location s3://...")


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "invoke",
        help="invoke a SageMaker endpoint and print the reply",
        description="Send one request to a SageMaker endpoint. --accept-eula adds accept_eula=true to the "
        "CustomAttributes header, which JumpStart endpoints of EULA-gated models deployed without "
        "ModelAccessConfig require on every request.",
    )
    parser.add_argument("endpoint", metavar="ENDPOINT", help="the endpoint name")
    request = parser.add_mutually_exclusive_group(required=True)
    request.add_argument(
        "--body", metavar="JSON|@FILE",
        help="the request body, or @FILE to read it (@- for stdin); at most 6 MiB, InvokeEndpoint's limit"
    )
    request.add_argument(
        "--input-location", metavar="S3_URI",
        help="an asynchronous endpoint: the S3 URI of the request body (InvokeEndpointAsync); prints where the "
        "response will be written",
    )
    parser.add_argument(
        "--inference-component", metavar="NAME",
        help="the inference component to serve the request, on an endpoint that hosts several models",
    )
    parser.add_argument(
        "--accept-eula", action="store_true", help="accept the model's EULA for this request (accept_eula=true)"
    )
    parser.add_argument("--custom-attributes", metavar="K=V;...", help="more CustomAttributes pairs to send")
    parser.add_argument("--content-type", default="application/json", help="the body's MIME type")
    parser.add_argument("--accept", default="application/json", help="the reply MIME type to ask for")
    parser.add_argument("--region", help="the endpoint's AWS region (default: the AWS configuration's)")
    parser.add_argument(
        "--timeout", type=float, default=None, metavar="SECONDS",
        help="seconds to wait for the reply (default: 70; SageMaker ends invocations after 60). Only refusals that "
        "say the request was not processed are retried, so the model never runs a request twice",
    )
    parser.set_defaults(handler=run)


def read_body(argument: str, content_type: str) -> bytes:
    """The body text or file contents; a JSON content type requires valid JSON."""
    if argument.startswith("@"):
        path = argument[1:]
        if not path:
            raise InputError("--body @ names no file; pass @FILE, or @- to read the body from stdin")
        body = _read_stdin() if path == "-" else _read_body_file(path)
        origin = f"body file {path}"
    else:
        body = argument.encode("utf-8")
        origin = "--body"
    if content_type.split(";")[0].strip().lower() in JSON_CONTENT_TYPES:
        try:
            json.loads(body)
        except ValueError as error:
            raise InputError(
                f"{origin} is not valid JSON ({error}); pass a JSON document, @FILE, "
                "or set --content-type for other formats"
            ) from None
    return body


def _read_body_file(path: str) -> bytes:
    """A regular file's bytes, up to ``MAX_BODY_BYTES``: a FIFO is refused, not waited on (``@-`` reads a pipe)."""
    try:
        return read_file_bytes(path, limit=MAX_BODY_BYTES, limit_note=_BODY_LIMIT_NOTE,
                               reads="pipe the body to --body @- instead")
    except UnreadableFile as refused:
        raise InputError(f"--body @{refused}") from None  # the reader's line starts with the file's name


def _read_stdin() -> bytes:
    """Standard input, up to ``MAX_BODY_BYTES`` (``< /dev/zero`` must not fill the memory)."""
    body = sys.stdin.buffer.read(MAX_BODY_BYTES + 1)
    if len(body) > MAX_BODY_BYTES:
        raise InputError(f"--body @-: more than the {MAX_BODY_BYTES:,} bytes EulaGate reads {_BODY_LIMIT_NOTE}")
    return body


def run(args: argparse.Namespace) -> int:
    from constructs_lib.client.runtime import DEFAULT_TIMEOUT_SECONDS, InvocationError, invoke, invoke_async

    options = {
        "accept_eula": args.accept_eula, "custom_attributes": args.custom_attributes, "region": args.region,
        "content_type": args.content_type, "accept": args.accept,
        "timeout": DEFAULT_TIMEOUT_SECONDS if args.timeout is None else args.timeout,
    }
    try:
        if args.input_location is not None:
            if args.inference_component is not None:
                raise InputError("--inference-component is for real-time endpoints; asynchronous endpoints "
                                 "(--input-location) host one model")
            queued = invoke_async(args.endpoint, args.input_location, **options)
            print(json.dumps({"InferenceId": queued.inference_id, "OutputLocation": queued.output_location,
                              "FailureLocation": queued.failure_location}))
            return 0
        body = read_body(args.body, args.content_type)
        result = invoke(args.endpoint, body, inference_component=args.inference_component, **options)
    except InvocationError as error:
        print(f"eulagate invoke: {error}", file=sys.stderr)
        return EXIT_REFUSED
    except ValueError as error:
        raise InputError(str(error)) from None
    sys.stdout.buffer.write(result.body)
    if not result.body.endswith(b"\n"):
        sys.stdout.buffer.write(b"\n")
    sys.stdout.flush()
    return 0
