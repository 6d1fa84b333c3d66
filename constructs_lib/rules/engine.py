"""The rule engine: every request in a template, read under each valuation (deployment) it can take, by each rule.

Fail closed: a resource whose evaluation stops (a limit of the evaluator, a malformed part, any exception) is
reported as one that cannot be evaluated (EULA000), and the rest of the template is still checked.
"""

from __future__ import annotations

from collections.abc import Collection, Iterator, Mapping
from typing import Any

from constructs_lib.catalog import Catalog
from constructs_lib.errors import InputError
from constructs_lib.records import Record
from constructs_lib.rules.artifacts import catalog_index
from constructs_lib.rules.base import Check, Problem, Rule
from constructs_lib.rules.detection.requests import Extractor, Subject, stray_artifact_subjects, subject_extractor
from constructs_lib.rules.eula000_unevaluable import UnevaluableResource
from constructs_lib.rules.eula001_model import GatedModelWithoutAcceptance
from constructs_lib.rules.eula002_model_package import GatedModelPackageWithoutAcceptance
from constructs_lib.rules.eula003_automl import GatedAutoMLJobWithoutAcceptance
from constructs_lib.rules.eula004_training import GatedTrainingJobWithoutAcceptance
from constructs_lib.rules.eula005_jumpstart_package import GatedJumpStartModelPackage
from constructs_lib.rules.eula006_not_shown import RequestsNotShown
from constructs_lib.rules.eula007_unreadable import UnreadableDefinition
from constructs_lib.rules.eula008_stray_artifact import GatedArtifactElsewhere
from constructs_lib.rules.eula009_serverless import GatedModelServedServerless
from constructs_lib.rules.evaluation.foreach import expand_for_each, uses_for_each
from constructs_lib.rules.evaluation.reader import Reader, later_readings
from constructs_lib.rules.evaluation.values import (
    ABSENT,
    DeploymentFails,
    EvaluationLimit,
    PassedValues,
    TemplateContext,
)
from constructs_lib.rules.finding import Finding, Severity
from constructs_lib.rules.suppressions import SuppressedFinding, apply_suppressions

RULES: tuple[type[Rule], ...] = (
    UnevaluableResource,
    GatedModelWithoutAcceptance,
    GatedModelPackageWithoutAcceptance,
    GatedAutoMLJobWithoutAcceptance,
    GatedTrainingJobWithoutAcceptance,
    GatedJumpStartModelPackage,
    RequestsNotShown,
    UnreadableDefinition,
    GatedArtifactElsewhere,
    GatedModelServedServerless,
)


def index_rules(rules: tuple[type[Rule], ...]) -> dict[str, list[Rule]]:
    """Each request kind -> the rules that read it, in registry order."""
    by_kind: dict[str, list[Rule]] = {}
    for rule in (rule_class() for rule_class in rules):
        for kind in rule.kinds:
            by_kind.setdefault(kind, []).append(rule)
    return by_kind


_RULES_BY_KIND = index_rules(RULES)

CDK_PATH_METADATA = "aws:cdk:path"
DEFAULT_EULA_REGION = "us-east-1"


# How to find requests in a resource of each type met so far (None: no rule applies to the type).
_EXTRACTORS: dict[str, Extractor | None] = {}
_UNSEEN: Any = object()


class TemplateScan(Record):
    """What checking one template found, and what it looked at (for reports)."""

    template: str
    resource_count: int
    checked: tuple[tuple[str, str], ...]  # (logical id, type) of each resource a rule applies to
    findings: tuple[Finding, ...]  # what is reported: errors always, warnings unless their resource suppresses them
    suppressed: tuple[SuppressedFinding, ...]  # warnings suppressed in resource metadata, with the reason

    def __init__(self, template: str, resource_count: int, checked: tuple[tuple[str, str], ...],
                 findings: tuple[Finding, ...], suppressed: tuple[SuppressedFinding, ...] = ()) -> None:
        vars(self).update(
            template=template, resource_count=resource_count, checked=checked, findings=findings,
            suppressed=suppressed,
        )


class _Resource:
    """Where a finding is: one per resource read, so a plain class (a dataclass costs more to define and make)."""

    __slots__ = ("logical_id", "metadata", "template", "type")

    def __init__(self, template: str, logical_id: str, resource_type: str, metadata: Any) -> None:
        self.template = template
        self.logical_id = logical_id
        self.type = resource_type
        self.metadata = metadata  # its Metadata section, read only when a fix is written

    @property
    def cdk_made(self) -> bool:
        return isinstance(self.metadata, Mapping) and CDK_PATH_METADATA in self.metadata


def check_template(template: Mapping[str, Any], *, template_path: str = "<template>",
                   catalog: Catalog | None = None, strict: bool = False,
                   nested_templates_read: Collection[str] = ()) -> list[Finding]:
    """The findings of every rule on one template (a parsed dict), less the warnings its resources suppress.
    Pure: no I/O beyond the catalog's load.

    ``strict``: a location unknown before deployment that may be a gated artifact is an error, not a warning.
    ``nested_templates_read``: the logical ids of the nested stacks (``AWS::CloudFormation::Stack``,
    ``AWS::Serverless::Application``) whose templates the caller checks as templates of their own; every other
    nested stack is reported (EULA006), since nothing shows what it deploys.
    """
    return list(scan_template(template, template_path=template_path, catalog=catalog, strict=strict,
                              nested_templates_read=nested_templates_read).findings)


def scan_template(template: Mapping[str, Any], *, template_path: str = "<template>",
                  catalog: Catalog | None = None, strict: bool = False,
                  nested_templates_read: Collection[str] = (), passed: PassedValues | None = None) -> TemplateScan:
    """What ``check_template`` finds, with what it looked at. ``passed``: what the stacks nesting this template
    pass its parameters, one assignment per deployment of theirs (``constructs_lib.synth.assembly`` finds it);
    the template is then judged as they deploy it, not on its own."""
    resources = template.get("Resources") if isinstance(template, Mapping) else None
    if not isinstance(resources, Mapping):
        return TemplateScan(template_path, 0, (), ())
    if uses_for_each(template):
        try:
            template = expand_for_each(template)
        except (EvaluationLimit, RecursionError) as error:
            finding = _unevaluable(_Resource(template_path, "Fn::ForEach", "AWS::LanguageExtensions", None),
                                   f"its Fn::ForEach loops cannot be expanded: {error}")
            return TemplateScan(template_path, len(resources), (), (finding,))
        resources = template["Resources"] if isinstance(template.get("Resources"), Mapping) else {}
    context: TemplateContext | None = None
    check: Check | None = None  # what rules see, made on the template's first request (with the catalog's index)
    checked: list[tuple[str, str]] = []
    findings: list[Finding] = []
    spare: Reader | None = None  # a reader as new, of this template's context (see below)
    for logical_id, resource in resources.items():
        resource_type = resource.get("Type") if isinstance(resource, dict) else None
        if not isinstance(resource_type, str):
            continue
        extract = _EXTRACTORS.get(resource_type, _UNSEEN)
        if extract is _UNSEEN:
            extract = _EXTRACTORS[resource_type] = subject_extractor(resource_type)
        if extract is None:  # the common case: two dict look-ups per resource
            continue
        if logical_id in nested_templates_read:  # a nested stack whose template is checked on its own
            continue
        # A type no rule reads counts as checked only when its values name JumpStart.
        stray = extract is stray_artifact_subjects
        logical_id = str(logical_id)
        if not stray:
            checked.append((logical_id, resource_type))
        properties = resource.get("Properties")
        if not isinstance(properties, dict):
            continue
        if context is None:
            context = TemplateContext(template, passed)
        # The resource's Condition, asked once it holds a request (most hold none); where its findings are, made
        # once it has one.
        condition: str | None = None
        where: _Resource | None = None
        # Fail closed: a resource whose reading stops is one EULA000 finding instead of its own.
        found: list[Finding] = []
        read = False
        try:
            for subject in extract(properties, context):
                if not read:
                    read = True
                    condition = resource.get("Condition")
                    if not isinstance(condition, str):
                        condition = None
                if spare is not None and subject.context is None and spare.exact_keys == subject.exact_keys:
                    reader, spare = spare, None
                else:
                    reader = Reader(subject.context or context, exact_keys=subject.exact_keys)
                if check is None:
                    check = Check(reader, catalog_index(catalog or Catalog.default()), subject.kind, ABSENT,
                                  subject.path)
                problems = _subject_problems(subject, reader, check, condition)
                # A reading that consulted nothing leaves its reader as new: the next request reads with it.
                if reader.context is context and reader.as_new():
                    spare = reader
                if problems:
                    where = where or _Resource(template_path, logical_id, resource_type, resource.get("Metadata"))
                    found.extend(_finding(rule, problem, subject, where, context, note, strict)
                                 for rule, problem, note in problems)
        except EvaluationLimit as error:
            where = where or _Resource(template_path, logical_id, resource_type, resource.get("Metadata"))
            found, read = [_unevaluable(where, str(error))], True
        except InputError:  # a catalog that cannot be read is bad input (exit 2), not a property of the resource
            raise
        except Exception as error:
            where = where or _Resource(template_path, logical_id, resource_type, resource.get("Metadata"))
            found, read = [_unevaluable(where, f"{type(error).__name__} while reading it ({error})"[:300])], True
        if stray and read:
            checked.append((logical_id, resource_type))
        if found:
            findings.extend(found)
    # Suppressions are read from the template as deployed (Fn::ForEach expanded): one place for every caller.
    result = apply_suppressions(template, findings)
    return TemplateScan(template_path, len(resources), tuple(checked), result.findings, result.suppressed)


def _unevaluable(where: _Resource, reason: str) -> Finding:
    rule = UnevaluableResource
    return Finding(
        rule_id=rule.id, severity=rule.severity, template=where.template, logical_id=where.logical_id,
        resource_type=where.type, model_id=None,
        message=f"The resource cannot be evaluated, so EULA acceptance cannot be proven: {reason}.",
        fix="Simplify the resource (fewer nested intrinsic functions or conditions) or fix the part named, so "
            "that the engine can read every SageMaker request in it.",
    )


def _subject_problems(subject: Subject, reader: Reader, check: Check,
                      condition: str | None) -> list[tuple[Rule, Problem, str]]:
    """The problems of one request in every valuation, read first with ``reader`` (a new one): each once, with the
    note naming the valuation it was first found in when it is not found in every one. ``check``: the
    template's, aimed here at each reading in turn (no Check made per reading; rules keep none)."""
    rules = _RULES_BY_KIND.get(subject.kind)
    if not rules:
        return []
    first_seen: dict[tuple[str, str, str | None], tuple[Rule, Problem, Reader]] = {}
    seen_in: dict[tuple[str, str, str | None], int] = {}
    read = 0
    # A request in a StackSet's template follows that template's own resource Condition.
    if subject.context is not None:
        condition = subject.condition
    # The other readings (``later_readings``) are planned only when the first met a choice: most requests meet
    # none, and skip a generator's frames.
    later: Iterator[Reader] | None = None
    while True:
        found: list[tuple[tuple[str, str, str | None], Rule, Problem]] = []
        try:
            # A resource whose Condition is false in this valuation is not deployed in it.
            request = subject.request(reader) if condition is None or reader.choose(condition) else ABSENT
            if request is not ABSENT:
                check.reader, check.kind, check.request, check.path = reader, subject.kind, request, subject.path
                check.containers = None  # read afresh in each reading (``model_containers``)
                for rule in rules:
                    for problem in rule.check(check):
                        key = (rule.id, problem.location,
                               problem.model.model_id if problem.model else problem.artifact)
                        found.append((key, rule, problem))
            # The Rules section: a valuation CloudFormation refuses deploys nothing and is not counted (asked
            # only when it matters).
            refused = reader.refusing_rule() is not None if found else False
        except DeploymentFails:  # nothing deploys in this valuation; its other choices are still read
            found, refused = [], False
        if not refused:
            read += 1
            if found:  # the common case has nothing to count (no set built per reading)
                for key, rule, problem in found:
                    first_seen.setdefault(key, (rule, problem, reader))
                for key in {key for key, _rule, _problem in found}:
                    seen_in[key] = seen_in.get(key, 0) + 1
        if later is None:
            if not reader.new_conditions:
                break
            later = later_readings(reader)
        following = next(later, None)
        if following is None:
            break
        reader = following
    if not first_seen:
        return []
    return [(rule, problem, reader.condition_note() if seen_in[key] < read else "")
            for key, (rule, problem, reader) in first_seen.items()]


def _finding(rule: Rule, problem: Problem, subject: Subject, where: _Resource, context: TemplateContext,
             note: str, strict: bool) -> Finding:
    model = problem.model
    # An artifact's own location says whether the template fixes its region; a job that names only a model
    # (Autopilot) takes a region the template writes elsewhere, looked for once per template.
    region = problem.region or (context.literal_region if model is not None and problem.artifact is None else None)
    lead = problem.lead or (f"{model.display_name} is EULA-gated" if model is not None
                            else f"The artifact {problem.artifact} is in JumpStart's EULA-gated bucket")
    message = f"{subject.via}: {lead}" if subject.via else lead
    message += f", {problem.what}" + (f" {note}" if note else "") + "."
    eula_url = model.eula_url(region or DEFAULT_EULA_REGION) if model is not None else None
    if eula_url:  # last, and without a full stop, so terminals and Markdown link it whole
        where_published = "" if region else " (the us-east-1 copy: the template does not fix its region)"
        message += f" EULA{where_published}: {eula_url}"
    # A problem's own warning is an unknown (a location or a model the catalog does not know): strict, an error.
    severity: Severity = problem.severity or rule.severity
    if strict and problem.severity == "warning":
        severity = "error"
    return Finding(
        rule_id=rule.id,
        severity=severity,
        template=where.template,
        logical_id=where.logical_id,
        resource_type=where.type,
        model_id=model.model_id if model is not None else None,
        message=message,
        fix=_fix(rule, problem, subject, where),
        eula_url=eula_url,
    )


def _fix(rule: Rule, problem: Problem, subject: Subject, where: _Resource) -> str:
    if (problem.severity or rule.severity) != "error":
        return problem.fix[:1].upper() + problem.fix[1:] + "."
    if where.cdk_made and rule.construct and not subject.json_source:
        return (f"After reading the EULA, set `accept_eula: true` in the model table row (or pass "
                f"accept_eula=True to {rule.construct}); in an L1 construct or escape hatch, {problem.fix}.")
    return f"After reading the EULA, {problem.fix}."
