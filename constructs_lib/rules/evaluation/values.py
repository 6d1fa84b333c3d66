"""Values before deployment: tokens for unknowns, a template's context, limits and the parameters' domains.

The bottom of the evaluator: every other module of ``rules/evaluation`` (and request detection above it) reads
values through these. See ``reader.py`` for how a ``Reader`` renders intrinsics under one valuation.
"""

import functools
import re
from collections.abc import Iterator, Mapping
from typing import Any, NamedTuple

from constructs_lib.errors import EulaGateError
from constructs_lib.patterns import compile_on_use

REGION = "\ue000"
_TOKEN_FIRST = 0xF0000
_TOKEN_LAST = 0xFFFFD
_TOKEN_CHAR = compile_on_use("[\ue000\U000f0000-\U000ffffd]")
_TOKEN_SPLIT = compile_on_use("([\ue000\U000f0000-\U000ffffd])")
_REGION = r"([a-z]{2}(?:-[a-z]+)+-\d)"
_REGION_IN_TEXT = compile_on_use(
    rf"jumpstart-(?:private-)?cache-prod-{_REGION}\b|\.dkr\.ecr\.{_REGION}\.|arn:aws[a-z-]*:[a-z0-9-]+:{_REGION}:"
)
_LIST_PARAMETER_TYPES = ("CommaDelimitedList", "List<")
_SSM_PARAMETER_TYPE = "AWS::SSM::Parameter::Value<"
# Each AWS partition: the pattern of its regions' names and its AWS::URLSuffix (botocore 1.44's
# data/endpoints.json, "regionRegex" and "dnsSuffix"). A region's name places it in one partition.
PARTITIONS: dict[str, tuple[re.Pattern[str], str]] = {
    "aws": (compile_on_use(r"(us|eu|ap|sa|ca|me|af|il|mx)-\w+-\d+"), "amazonaws.com"),
    "aws-cn": (compile_on_use(r"cn-\w+-\d+"), "amazonaws.com.cn"),
    "aws-us-gov": (compile_on_use(r"us-gov-\w+-\d+"), "amazonaws.com"),
    "aws-iso": (compile_on_use(r"us-iso-\w+-\d+"), "c2s.ic.gov"),
    "aws-iso-b": (compile_on_use(r"us-isob-\w+-\d+"), "sc2s.sgov.gov"),
    "aws-iso-e": (compile_on_use(r"eu-isoe-\w+-\d+"), "cloud.adc-e.uk"),
    "aws-iso-f": (compile_on_use(r"us-isof-\w+-\d+"), "csp.hci.ic.gov"),
    "aws-eusc": (compile_on_use(r"eusc-de-\w+-\d+"), "amazonaws.eu"),
}

MAX_DEPTH = 40  # intrinsics nested deeper than this: the resource cannot be evaluated (a finding)
MAX_EXPANSIONS = 4096  # texts one value may take (candidates multiplied); more: the resource cannot be evaluated
# Readings of one resource: one per combination of the choices it meets (conditions, compared parameters).
# More: the resource is reported as one that cannot be evaluated (EULA000), never passed.
MAX_READINGS = 1024


class EvaluationLimit(EulaGateError):
    """A value past one of the evaluator's limits: its resource is reported as one that cannot be evaluated (the
    engine catches it)."""


class DeploymentFails(EulaGateError):
    """This reading cannot deploy (a lookup that finds nothing fails the stack): nothing in it is deployed (the
    engine catches it)."""


class PassedValues(NamedTuple):  # a NamedTuple: cheaper to define at start-up than a dataclass
    """What the stacks nesting a template pass its parameters: one assignment per deployment of theirs.

    ``assignments[i][j]`` is the text deployment ``i`` passes parameter ``names[j]``, or ``None`` where that
    deployment leaves it unknown (the parameter is then free in it). A valuation of the nested template takes one
    assignment (the same for every parameter: what the parents correlate stays correlated). ``limit`` says why
    the assignments could not all be listed: a valuation that meets a passed parameter cannot be evaluated.
    """

    names: tuple[str, ...]
    assignments: tuple[tuple[str | None, ...], ...]
    limit: str | None = None


class _Absent:
    """A property that is not there: missing, or ``Ref: AWS::NoValue``."""

    def __repr__(self) -> str:
        return "ABSENT"


ABSENT: Any = _Absent()


class Token(NamedTuple):  # a NamedTuple: cheaper to define at start-up than a dataclass
    """Something unknown before deployment, as it reads in text (``display``) and in a sentence."""

    display: str
    description: str
    candidates: tuple[str, ...] = ()  # texts it may be (they may hold tokens themselves)
    # True when it can be nothing but its candidates (a mapping's values, a known list's elements).
    exhaustive: bool = False
    resource: str | None = None  # the template's resource it is a Ref to or an attribute of
    # True when it is an AWS identifier of that resource (its Ref, or an ARN attribute) and the resource's type is
    # AWS's own: then it is an ARN, name or id of that resource, never, say, a service integration's ARN. A custom
    # resource's or nested stack's attributes are whatever its code or template returns, and stay any text.
    identifier: bool = False


# Resource types whose attributes are whatever their code or template returns.
_OPEN_ATTRIBUTE_TYPES = ("AWS::CloudFormation::CustomResource", "AWS::CloudFormation::Stack",
                         "AWS::Serverless::Application")
REGION_TOKEN = Token("${AWS::Region}", "the pseudo parameter AWS::Region")
_UNKNOWN_TOKEN = Token("${?}", "a value unknown before deployment")


def is_intrinsic(value: Any) -> bool:
    return isinstance(value, dict) and len(value) == 1 and is_function_key(*value)


def is_function_key(key: Any) -> bool:
    """Whether the one key of an object names an intrinsic function (``Ref``, ``Condition``, ``Fn::...``)."""
    return isinstance(key, str) and (key == "Ref" or key == "Condition" or key.startswith("Fn::"))


class TemplateContext:
    """What intrinsics can refer to in one template, and the tokens handed out while reading it."""

    def __init__(self, template: Mapping[str, Any], passed: PassedValues | None = None) -> None:
        self.template = template
        self.passed = passed
        # The choice key of each parameter the nesting stacks pass -> its position in their assignments.
        self.passed_slots = {parameter_choice(name): slot for slot, name in enumerate(passed.names)} if passed else {}
        self.parameters = _mapping(template.get("Parameters"))
        self.mappings = _mapping(template.get("Mappings"))
        self.resources = _mapping(template.get("Resources"))
        self.conditions = _mapping(template.get("Conditions"))
        self._tokens: list[Token] = []
        self._chars: dict[Token, str] = {}
        # JSON documents parsed without reading a condition, by the value that holds them (kept alive here).
        self.parsed: dict[tuple[int, int], tuple[Any, Any, Any]] = {}
        self.derived: dict[str, Any] = {}  # facts about the template other modules find once (conditions.py)

    @functools.cached_property
    def literal_region(self) -> str | None:
        """A region the template writes out (a JumpStart bucket, an ECR image, a regional ARN), if any.

        Found on demand (a walk of the whole template), only for findings whose own values name no region.
        """
        pending: list[Any] = [self.template]
        while pending:
            value = pending.pop()
            if isinstance(value, str):
                match = _REGION_IN_TEXT.search(value)
                if match is not None:
                    return next(group for group in match.groups() if group)
            elif isinstance(value, dict):
                pending.extend(reversed(value.values()))
            elif isinstance(value, list):
                pending.extend(reversed(value))
        return None

    def token(self, display: str, description: str, candidates: tuple[str, ...] = (), *,
              exhaustive: bool = False, resource: str | None = None, attribute: str | None = None) -> str:
        """The character standing for an unknown; ``attribute`` names the attribute of ``resource`` it reads
        (None for its Ref)."""
        token = Token(display, description, candidates, exhaustive, resource,
                      identifier=resource is not None and self._identifies(resource, attribute))
        char = self._chars.get(token)
        if char is None:
            code = _TOKEN_FIRST + len(self._tokens)
            if code > _TOKEN_LAST:  # a template with ~65,000 distinct unknowns: describe the rest generically
                return chr(_TOKEN_LAST)
            char = chr(code)
            self._tokens.append(token)
            self._chars[token] = char
        return char

    def _identifies(self, resource: str, attribute: str | None) -> bool:
        declared = self.resources.get(resource)
        kind = declared.get("Type") if isinstance(declared, Mapping) else None
        return (isinstance(kind, str) and kind.startswith("AWS::") and not kind.startswith(_OPEN_ATTRIBUTE_TYPES)
                and (attribute is None or attribute.endswith("Arn")))

    def choice(self, display: str, description: str, options: list[str], *, complete: bool) -> str:
        """A value that is one of ``options`` (or, when not ``complete``, possibly anything)."""
        options = list(dict.fromkeys(options))
        if complete and len(options) == 1:
            return options[0]
        return self.token(display, description, tuple(options), exhaustive=complete and bool(options))

    def token_at(self, char: str) -> Token:
        if char == REGION:
            return REGION_TOKEN
        index = ord(char) - _TOKEN_FIRST
        return self._tokens[index] if 0 <= index < len(self._tokens) else _UNKNOWN_TOKEN

    def tokens_in(self, text: str) -> list[Token]:
        return [] if text.isascii() else [self.token_at(char) for char in _TOKEN_CHAR.findall(text)]

    def display(self, text: str) -> str:
        """Text as a person reads it: each token shown as ``${...}``."""
        return text if text.isascii() else _TOKEN_CHAR.sub(lambda match: self.token_at(match.group()).display, text)

    def expand(self, text: str, depth: int = 0) -> list[str]:
        """Every text a value may take: each token replaced by each candidate, and kept where it may be anything.

        Raises ``EvaluationLimit`` past ``MAX_EXPANSIONS`` texts: a truncated list would drop possibilities.
        """
        if not has_tokens(text):
            return [text]
        if depth > MAX_DEPTH:
            raise EvaluationLimit(f"candidate values nest more than {MAX_DEPTH} deep")
        results = [""]
        for piece in _TOKEN_SPLIT.split(text):
            if not piece:
                continue
            options = [piece]
            if _TOKEN_CHAR.fullmatch(piece):
                token = self.token_at(piece)
                if token.candidates:
                    options = [option for candidate in token.candidates for option in self.expand(candidate, depth + 1)]
                    if not token.exhaustive:
                        options.append(piece)
            if len(results) * len(options) > MAX_EXPANSIONS:
                raise EvaluationLimit(f"a value may take more than {MAX_EXPANSIONS} texts")
            results = [done + option for done in results for option in options]
        return list(dict.fromkeys(results))

    def always(self, text: str, value: str) -> bool:
        """Whether text with unknowns is ``value`` whatever they turn out to be (within what the template fixes)."""
        return all(option == value for option in self.expand(text))


def partition_of_region(region: str) -> str | None:
    """The partition a region's name places it in (``None`` for a name no partition's pattern matches)."""
    found = [name for name, (pattern, _suffix) in PARTITIONS.items() if pattern.fullmatch(region)]
    return found[0] if len(found) == 1 else None


_WORD_BOUNDARY = re.compile(r"(?<=[a-z0-9])(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z])")


@functools.cache
def key_spellings(key: str) -> tuple[str, str, str]:
    """The other spellings of an API key that SDKs send: Step Functions' ``Key.$`` (read from the state input),
    lowerCamel (JavaScript v2 documents, ``AwsCustomResource``) and snake_case (the Ruby and Rust SDKs,
    ``sagemaker-core``): ``S3DataSource`` -> ``S3DataSource.$``, ``s3DataSource``, ``s3_data_source``."""
    return f"{key}.$", key[:1].lower() + key[1:], _WORD_BOUNDARY.sub("_", key).lower()


def has_tokens(text: str) -> bool:
    # Tokens are private-use characters: ASCII text (a flag CPython keeps on each string) holds none, and the
    # most common one, AWS::Region's, is found without a pattern search.
    return not text.isascii() and (REGION in text or _TOKEN_CHAR.search(text) is not None)


def is_portable(text: str) -> bool:
    """Whether a text means the same in another template: its only unknown, if any, is ``AWS::Region``'s shape
    (``REGION``, one character in every context; other tokens index their own template's table). A value one
    template passes another (a nested stack's, a StackSet's parameter) keeps such a text instead of becoming free,
    so ``s3://jumpstart-cache-prod-${AWS::Region}/<gated model>/...`` stays a gated artifact where it is used."""
    return not has_tokens(text.replace(REGION, ""))


def _mapping(value: Any) -> Mapping[str, Any]:
    return value if isinstance(value, dict) else {}



def scalar_text(value: Any) -> str | None:
    """A literal as CloudFormation reads it in text: ``true``/``false`` for booleans, numbers as written."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str | int | float):
        return str(value)
    return None


def parameter_values(parameter: Mapping[str, Any]) -> tuple[tuple[str, ...], bool]:
    """The texts a parameter may be, and whether it can be no other: its ``AllowedValues`` bound it; its
    ``Default`` is only a candidate (a deployment can override it). An SSM parameter's ``Default`` names the
    SSM parameter, not its value; a list parameter is not text."""
    kind = parameter.get("Type")
    if not isinstance(kind, str) or kind.startswith(_SSM_PARAMETER_TYPE) or kind.startswith(_LIST_PARAMETER_TYPES):
        return (), False
    allowed = parameter.get("AllowedValues")
    if isinstance(allowed, list) and allowed:
        texts = [scalar_text(value) for value in allowed]
        if None not in texts:
            return tuple(dict.fromkeys(text for text in texts if text is not None)), True
    default = scalar_text(parameter.get("Default"))
    return ((default,) if default is not None else ()), False


def is_list_parameter(parameter: Any) -> bool:
    kind = parameter.get("Type") if isinstance(parameter, dict) else None
    return isinstance(kind, str) and kind.startswith(_LIST_PARAMETER_TYPES)


def parameter_choice(name: str) -> str:
    """The choice key of a parameter's value in a reading (set when a condition compares it)."""
    return "${" + name + "}"


def list_items_key(name: str) -> str:
    """The name under which ``parameter_domain`` gives the literals a rule compares the items of list parameter
    ``name`` with (``Fn::EachMemberIn``/``Fn::EachMemberEquals``)."""
    return name + "[]"


def sub_variables(text: str) -> Iterator[tuple[int, int, str]]:
    """``(start, end, name)`` of each ``${name}`` in ``Fn::Sub`` text, in one pass (linear in the text)."""
    end = 0
    while (start := text.find("${", end)) >= 0:
        close = text.find("}", start + 2)
        if close < 0:
            return  # no closing brace anywhere after: no more variables
        yield start, close + 1, text[start + 2:close]
        end = close + 1


def token_pattern(text: str) -> re.Pattern[str]:
    """The texts a text with unknowns may turn out to be, as a regular expression: each unknown any text."""
    return re.compile("".join(".*" if _TOKEN_CHAR.fullmatch(piece) else re.escape(piece)
                              for piece in _TOKEN_SPLIT.split(text) if piece), re.DOTALL)
