"""The EulaGate CloudFormation Lambda Hook: the EULA rules, enforced on every deployment in an account.

``handle`` is the Lambda function's entry point (``HANDLER``). It reads the hook request (``request.py``),
evaluates it with the same rule engine as ``eulagate check`` and the synth-time gate, and answers in the
documented response format (CloudFormation Hooks User Guide, "Create Lambda functions to evaluate resources for
Lambda Hooks"):

- resource operations: the resolved properties, wrapped in a one-resource template;
- stack and change-set operations: the whole template from the request's payload URL, as ``eulagate check``
  reads a template file (custom resources, Step Functions and every other surface the engine knows);
- an error finding gives ``FAILED`` / ``NonCompliant`` with the findings and their fixes in ``message``;
  warnings (EULA005) are annotations on a ``SUCCESS`` response;
- whatever stops the evaluation (a malformed event, a payload that cannot be downloaded or parsed, the
  deadline, a bug) gives ``FAILED`` / ``InternalFailure`` with a one-line reason: never a silent pass. With the
  hook's ``FailureMode: FAIL`` (the default) CloudFormation stops the operation; with ``WARN`` it goes on with a
  warning, a timeout included: WARN lets every FAILED through (docs/hook.md).

The deadline cannot be swallowed: ``EvaluationTimeout`` is a ``BaseException`` (as ``KeyboardInterrupt`` is), so
the engine's per-resource ``except Exception`` does not catch it; the timer fires again until the evaluation
ends; and a verdict reached after the deadline is answered as a timeout all the same.
"""

from __future__ import annotations

import json
import logging
import signal
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from constructs_lib.errors import EulaGateError, InputError
from constructs_lib.hook.payload import PayloadError, download_payload
from constructs_lib.hook.request import HookRequest, client_request_token, parse_request
from constructs_lib.rules import Finding, TemplateScan, scan_template
from constructs_lib.rules.judgeable import refuse_unjudgeable
from constructs_lib.synth.templates import parse_template_text

HANDLER = "constructs_lib.hook.handler.handle"
# CloudFormation truncates the message to 4,096 characters; for Cloud Control API requests, to 1,024.
MAX_MESSAGE = 4096
MAX_CLOUD_CONTROL_MESSAGE = 1024
# The hook waits 30 s for the function, which times out at 25 s: an evaluation still running at 20 s is stopped
# and answered with an InternalFailure, rather than left to end as a timed-out invocation. The deadline is
# earlier when Lambda has less time left than that (``context.get_remaining_time_in_millis``), with this margin
# kept to answer.
EVALUATION_SECONDS = 20.0
ANSWER_MARGIN_SECONDS = 3.0
# A swallowed timer signal fires again this often until the evaluation stops.
_REFIRE_SECONDS = 0.2
_MORE = "\n... and {count} more finding(s): see the hook's annotations"

LOG = logging.getLogger(__name__)
LOG.setLevel(logging.INFO)

FetchPayload = Callable[[str], Mapping[str, Any]]


@dataclass(frozen=True)
class Evaluation:
    """What the rules found in one hook request (``scan`` None: nothing to evaluate, ``note`` says why)."""

    request: HookRequest
    scan: TemplateScan | None
    note: str = ""

    @property
    def errors(self) -> list[Finding]:
        return [finding for finding in self.scan.findings if finding.severity == "error"] if self.scan else []

    @property
    def warnings(self) -> list[Finding]:
        return [finding for finding in self.scan.findings if finding.severity != "error"] if self.scan else []


class EvaluationTimeout(BaseException):
    """The evaluation ran past its deadline. A ``BaseException``, as ``KeyboardInterrupt`` is: raised from a timer
    signal anywhere in the evaluation, it must cross every ``except Exception`` on its way out."""


def handle(event: Any, context: Any = None, *, fetch_payload: FetchPayload = download_payload,
           deadline: float = EVALUATION_SECONDS) -> dict[str, Any]:
    """The hook's response to ``event``. ``fetch_payload`` reads a stack or change-set payload URL."""
    started = time.monotonic()
    token = client_request_token(event)
    seconds = _evaluation_seconds(deadline, context)
    try:
        with _deadline(seconds):
            evaluation = evaluate(parse_request(event), fetch_payload)
        if time.monotonic() - started > seconds:  # a verdict reached late (the signal was not delivered)
            raise EvaluationTimeout()
        response = respond(evaluation)
    except EvaluationTimeout:
        response = internal_failure(token, f"the evaluation took over {seconds:g} s and was stopped")
    except PayloadError as error:
        LOG.warning(json.dumps({"payload": error.detail}))  # for the operator; the answer says only DOWNLOAD_FAILED
        response = internal_failure(token, str(error))
    except EulaGateError as error:
        response = internal_failure(token, str(error))
    except Exception as error:  # fail closed: any surprise blocks the operation, with its one-line reason
        LOG.exception("EulaGate hook: unexpected error")
        response = internal_failure(token, f"unexpected {type(error).__name__}: {error}")
    LOG.info(json.dumps({"hookStatus": response["hookStatus"], "errorCode": response.get("errorCode"),
                         "seconds": round(time.monotonic() - started, 3)}))
    return response


def _evaluation_seconds(deadline: float, context: Any) -> float:
    """``deadline``, or less when the Lambda context says the invocation has less time left (minus the margin)."""
    remaining = getattr(context, "get_remaining_time_in_millis", None)
    if callable(remaining):
        try:
            left = float(remaining()) / 1000 - ANSWER_MARGIN_SECONDS
        except (TypeError, ValueError):
            return deadline
        return max(min(deadline, left), 0.001)
    return deadline


@contextmanager
def _deadline(seconds: float) -> Iterator[None]:
    """Raise ``EvaluationTimeout`` in the block after ``seconds``, and again every ``_REFIRE_SECONDS`` should
    something swallow it (a timer signal: Lambda runs handlers on the main thread; elsewhere, e.g. a handler called
    from a worker thread, the late-verdict check in ``handle`` still turns a late answer into a timeout)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def expire(_signal: int, _frame: Any) -> None:
        raise EvaluationTimeout()

    previous = signal.signal(signal.SIGALRM, expire)
    signal.setitimer(signal.ITIMER_REAL, seconds, _REFIRE_SECONDS)
    try:
        yield
    finally:
        while True:  # a signal landing during the clean-up must not leave the timer armed
            try:
                signal.setitimer(signal.ITIMER_REAL, 0)
                signal.signal(signal.SIGALRM, previous)
                break
            except EvaluationTimeout:
                continue  # handle's late-verdict check answers it


def evaluate(request: HookRequest, fetch_payload: FetchPayload = download_payload) -> Evaluation:
    if request.deleting:
        return Evaluation(request, None, "a deletion deploys nothing")
    if request.kind == "resource":
        template = {"Resources": {request.logical_id: {"Type": request.target_name,
                                                       "Properties": dict(request.properties)}}}
        scan = scan_template(template, template_path=request.subject)
        if not scan.checked:
            return Evaluation(request, None, f"the EULA rules read no {request.target_name} resource")
        return Evaluation(request, scan)
    payload = fetch_payload(request.payload_url or "")
    text = payload.get("template")
    if not isinstance(text, str) or not text.strip():
        raise InputError(f"the {request.target_name} payload of {request.logical_id} holds no template")
    template = parse_template_text(text, request.subject)
    if "Resources" not in template:
        raise InputError(f"{request.subject}: not a CloudFormation template (it has no Resources section)")
    refuse_unjudgeable(template, request.subject)
    return Evaluation(request, scan_template(template, template_path=request.subject))


def respond(evaluation: Evaluation) -> dict[str, Any]:
    request = evaluation.request
    limit = MAX_CLOUD_CONTROL_MESSAGE if request.cloud_control else MAX_MESSAGE
    errors, warnings = evaluation.errors, evaluation.warnings
    response: dict[str, Any] = {"hookStatus": "FAILED" if errors else "SUCCESS",
                                "clientRequestToken": request.token}
    subject = request.subject
    if errors:
        response["errorCode"] = "NonCompliant"
        lead = f"EulaGate: {len(errors)} EULA-gated model use(s) without acceptance in {subject}."
    elif evaluation.scan is None:
        lead = f"EulaGate: nothing to check in {subject}: {evaluation.note}."
    else:
        scan = evaluation.scan
        lead = (f"EulaGate: compliant: {len(scan.checked)} of {scan.resource_count} resource(s) in {subject} "
                "read by the EULA rules, no EULA-gated model without acceptance"
                + (f"; {len(warnings)} warning(s)." if warnings else "."))
    response["message"] = _message(lead, [*errors, *warnings], limit)
    if errors or warnings:
        response["annotations"] = [_annotation(finding) for finding in (*errors, *warnings)]
    return response


def internal_failure(token: str, reason: str) -> dict[str, Any]:
    line = " ".join(reason.split())  # one line, whatever the reason held
    return {"hookStatus": "FAILED", "errorCode": "InternalFailure", "clientRequestToken": token,
            "message": _clip(f"EulaGate could not evaluate the request: {line}", MAX_CLOUD_CONTROL_MESSAGE)}


def _entry(finding: Finding) -> str:
    where = f"{finding.logical_id} ({finding.resource_type})"
    return f"{finding.rule_id} {finding.severity} {where}: {finding.message} Fix: {finding.fix}"


def _message(lead: str, findings: list[Finding], limit: int) -> str:
    """``lead`` and one line per finding, as many as fit in ``limit``; then how many more there are."""
    message = lead
    reserve = len(_MORE.format(count=len(findings)))  # room for the "... and N more" line, N at its largest
    for shown, finding in enumerate(findings):
        entry = "\n" + _entry(finding)
        last = shown == len(findings) - 1
        if len(message) + len(entry) + (0 if last else reserve) <= limit:
            message += entry
            continue
        more = "" if last else _MORE.format(count=len(findings) - shown - 1)
        if shown == 0:  # not even one finding fits (Cloud Control keeps 1,024 characters): what fits of it
            return message + _clip(entry, limit - len(message) - len(more)) + more
        return message + _MORE.format(count=len(findings) - shown)
    return message


def _clip(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: max(limit - 3, 0)] + "..."


def _annotation(finding: Finding) -> dict[str, Any]:
    annotation = {
        "annotationName": f"{finding.rule_id}:{finding.logical_id}",
        "status": "FAILED",
        "statusMessage": finding.message,
        "remediationMessage": finding.fix,
        "severityLevel": "HIGH" if finding.severity == "error" else "LOW",
    }
    if finding.eula_url:
        annotation["remediationLink"] = finding.eula_url
    return annotation
