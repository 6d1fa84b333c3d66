"""Reading template values through CloudFormation's intrinsic functions, as far as the template proves them.

A value is rendered to text in which everything unknown before deployment (a parameter, an attribute of
another resource, an import, a value read from a state machine's input) is one private-use character: a
*token* that remembers what it stands for. ``${AWS::Region}`` is the token ``REGION``. Text keeps its shape
(``jumpstart-private-cache-prod-<REGION>`` still names JumpStart's gated bucket) while unknown parts can never
match a model id or the word ``true``.

``Fn::If`` is followed through a ``Reader``'s choice of condition values; the rule engine reads each request
once per combination of the conditions it meets, so a branch cannot hide an unaccepted model.
"""

from __future__ import annotations

import functools
import json
import re
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

REGION = "\ue000"
_TOKEN_FIRST = 0xF0000
_TOKEN_LAST = 0xFFFFD
_TOKEN_CHAR = re.compile("[\ue000\U000f0000-\U000ffffd]")
_TOKEN_SPLIT = re.compile("([\ue000\U000f0000-\U000ffffd])")
_SUB_VARIABLE = re.compile(r"\$\{([^}]*)\}")
_QUOTE_OR_BACKSLASH = re.compile(r'["\\]')
_REGION = r"([a-z]{2}(?:-[a-z]+)+-\d)"
_REGION_IN_TEXT = re.compile(
    rf"jumpstart-(?:private-)?cache-prod-{_REGION}\b|\.dkr\.ecr\.{_REGION}\.|arn:aws[a-z-]*:[a-z0-9-]+:{_REGION}:"
)

MAX_DEPTH = 40  # intrinsics nested deeper than this are treated as unknown rather than read
MAX_EXPANSIONS = 32  # candidate texts considered for one value (parameter defaults x mapping values)


class _Absent:
    """A property that is not there: missing, or ``Ref: AWS::NoValue``."""

    def __repr__(self) -> str:
        return "ABSENT"


ABSENT: Any = _Absent()


@dataclass(frozen=True)
class Token:
    """Something unknown before deployment, as it reads in text (``display``) and in a sentence."""

    display: str
    description: str
    candidates: tuple[str, ...] = ()  # values it may take, e.g. a parameter's Default and AllowedValues
    # True when it can take no value but these (a mapping's values); a parameter's Default is only a guess.
    exhaustive: bool = False


REGION_TOKEN = Token("${AWS::Region}", "the pseudo parameter AWS::Region")
_UNKNOWN_TOKEN = Token("${?}", "a value unknown before deployment")


def is_intrinsic(value: Any) -> bool:
    if not isinstance(value, dict) or len(value) != 1:
        return False
    key = next(iter(value))
    return isinstance(key, str) and (key == "Ref" or key == "Condition" or key.startswith("Fn::"))


class TemplateContext:
    """What intrinsics can refer to in one template, and the tokens handed out while reading it."""

    def __init__(self, template: Mapping[str, Any]) -> None:
        self.template = template
        self.parameters = _mapping(template.get("Parameters"))
        self.mappings = _mapping(template.get("Mappings"))
        self.resources = _mapping(template.get("Resources"))
        self._tokens: list[Token] = []
        self._chars: dict[Token, str] = {}

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
              exhaustive: bool = False) -> str:
        token = Token(display, description, candidates, exhaustive)
        char = self._chars.get(token)
        if char is None:
            code = _TOKEN_FIRST + len(self._tokens)
            if code > _TOKEN_LAST:  # a template with ~65,000 distinct unknowns: describe the rest generically
                return chr(_TOKEN_LAST)
            char = chr(code)
            self._tokens.append(token)
            self._chars[token] = char
        return char

    def token_at(self, char: str) -> Token:
        if char == REGION:
            return REGION_TOKEN
        index = ord(char) - _TOKEN_FIRST
        return self._tokens[index] if 0 <= index < len(self._tokens) else _UNKNOWN_TOKEN

    def tokens_in(self, text: str) -> list[Token]:
        return [self.token_at(char) for char in _TOKEN_CHAR.findall(text)]

    def display(self, text: str) -> str:
        """Text as a person reads it: each token shown as ``${...}``."""
        return _TOKEN_CHAR.sub(lambda match: self.token_at(match.group()).display, text)

    def expand(self, text: str) -> list[str]:
        """The texts a value may take: tokens with known candidates replaced by each (others stay tokens)."""
        if not _TOKEN_CHAR.search(text):
            return [text]
        results = [""]
        for piece in _TOKEN_SPLIT.split(text):
            candidates = self.token_at(piece).candidates if _TOKEN_CHAR.fullmatch(piece) else ()
            options = candidates or (piece,)
            results = [done + option for done in results for option in options][:MAX_EXPANSIONS]
        return results

    def always(self, text: str, value: str) -> bool:
        """Whether text with unknowns is ``value`` whatever they turn out to be (each limited to known values)."""
        tokens = self.tokens_in(text)
        if not all(token.exhaustive for token in tokens):
            return False
        combinations = 1
        for token in tokens:
            combinations *= len(token.candidates)
        return combinations <= MAX_EXPANSIONS and all(option == value for option in self.expand(text))


def has_tokens(text: str) -> bool:
    return _TOKEN_CHAR.search(text) is not None


def _mapping(value: Any) -> Mapping[str, Any]:
    return value if isinstance(value, dict) else {}


# Other spellings of a request key: Step Functions' "Key.$" (read from the state input), and lowerCamel.
_SPELLINGS: dict[str, tuple[str, str]] = {}


@dataclass(frozen=True)
class _Insert:
    """A value spliced into text by ``Fn::Join``/``Fn::Sub`` (as opposed to the literal text around it)."""

    value: Any


class Reader:
    """Reads values of one template under one choice of condition values (``Fn::If`` branches)."""

    __slots__ = ("choices", "context", "exact_keys", "new_conditions")

    def __init__(self, context: TemplateContext, choices: Mapping[str, bool] | None = None, *,
                 exact_keys: bool = False) -> None:
        self.context = context
        self.choices: dict[str, bool] = dict(choices or {})
        self.new_conditions: list[str] = []  # conditions met for the first time in this reading, in order
        # CloudFormation's own resource types accept only their schema's PascalCase keys: no other spellings.
        self.exact_keys = exact_keys

    # -- conditions and structure ------------------------------------------------------------------

    def choose(self, condition: str) -> bool:
        choice = self.choices.get(condition)
        if choice is None:
            choice = self.choices[condition] = True
            self.new_conditions.append(condition)
        return choice

    def condition_note(self) -> str:
        """``when condition A is true and B is false``: the branches this reading followed."""
        if not self.choices:
            return ""
        parts = [f"{name} is {'true' if value else 'false'}" for name, value in self.choices.items()]
        noun = "condition" if len(parts) == 1 else "conditions"
        return f"when {noun} {' and '.join(parts)}"

    def pick(self, value: Any) -> Any:
        """The value through ``Fn::If`` (by this reading's choices); ``ABSENT`` for ``AWS::NoValue``."""
        while type(value) is dict and len(value) == 1:
            arguments = value.get("Fn::If")
            if arguments is None:
                return ABSENT if value.get("Ref") == "AWS::NoValue" else value
            if not (isinstance(arguments, list) and len(arguments) == 3 and isinstance(arguments[0], str)):
                return value
            value = arguments[1] if self.choose(arguments[0]) else arguments[2]
        return value

    def field(self, mapping: Any, key: str) -> Any:
        """``mapping[key]`` through intrinsics; ``ABSENT`` when missing; a token when ``mapping`` is unknowable.

        Step Functions' ``Key.$`` (a value read from the state input) and lowerCamel spellings count as ``Key``.
        """
        if type(mapping) is not dict or (len(mapping) == 1 and is_intrinsic(mapping)):  # not the common case
            mapping = self.pick(mapping)
            if mapping is ABSENT or (isinstance(mapping, str) and has_tokens(mapping)):
                return mapping  # absent, or already a token standing for the whole object
            if not isinstance(mapping, dict) or is_intrinsic(mapping):
                text = self.render(mapping) if is_intrinsic(mapping) else None
                return text if text is not None and has_tokens(text) else self.opaque(mapping)
        value = mapping.get(key, ABSENT)
        if value is ABSENT:
            return ABSENT if self.exact_keys else self._other_spelling(mapping, key)
        return self.pick(value) if type(value) is dict and len(value) == 1 else value

    def _other_spelling(self, mapping: dict[str, Any], key: str) -> Any:
        spellings = _SPELLINGS.get(key)
        if spellings is None:
            spellings = _SPELLINGS[key] = (f"{key}.$", key[:1].lower() + key[1:])
        dynamic = mapping.get(spellings[0])
        if dynamic is not None:
            return self.context.token(f"${{{dynamic}}}", f"read from the state input at run time ({dynamic})")
        return self.pick(mapping.get(spellings[1], ABSENT))

    def path(self, mapping: Any, *keys: str) -> Any:
        value = mapping
        for key in keys:
            value = self.field(value, key)
        return value

    def elements(self, value: Any) -> Iterator[tuple[int, Any]]:
        """The present elements of a list, with their positions (nothing for an unknowable list)."""
        value = self.pick(value)
        if isinstance(value, list):
            for index, element in enumerate(value):
                element = self.pick(element)
                if element is not ABSENT:
                    yield index, element

    # -- text --------------------------------------------------------------------------------------

    def opaque(self, value: Any) -> str:
        display, description = _describe(value)
        return self.context.token(display, description)

    def render(self, value: Any, depth: int = 0) -> str | None:
        """The value as text (tokens for unknowns), or ``None`` when it is absent."""
        value = self.pick(value)
        if value is ABSENT:
            return None
        if isinstance(value, str):
            if value.startswith("{%") and value.endswith("%}"):
                return self.context.token(value, f"a JSONata expression evaluated at run time ({value})")
            return value
        if isinstance(value, bool):
            return "true" if value else "false"
        if isinstance(value, int | float):
            return str(value)
        if isinstance(value, dict) and len(value) == 1 and depth < MAX_DEPTH:
            name, argument = next(iter(value.items()))
            renderer = _RENDERERS.get(name)
            if renderer is not None:
                return renderer(self, argument, depth + 1)
        return self.opaque(value)

    def _render_parts(self, parts: list[Any], depth: int) -> str:
        return "".join(part if isinstance(part, str) else (self.render(part.value, depth) or "") for part in parts)

    def _render_ref(self, name: Any, depth: int) -> str:
        if not isinstance(name, str):
            return self.opaque({"Ref": name})
        if name == "AWS::Region":
            return REGION
        if name == "AWS::URLSuffix":
            return self.context.token("${AWS::URLSuffix}", "the pseudo parameter AWS::URLSuffix",
                                      ("amazonaws.com", "amazonaws.com.cn"))
        if name.startswith("AWS::"):
            return self.context.token(f"${{{name}}}", f"the pseudo parameter {name}")
        parameter = self.context.parameters.get(name)
        if isinstance(parameter, dict):
            return self.context.token(f"${{{name}}}", f"a Ref to parameter '{name}'", _parameter_values(parameter))
        if name in self.context.resources:
            return self.context.token(f"${{{name}}}", f"a Ref to resource '{name}'")
        return self.context.token(f"${{{name}}}", f"a Ref to '{name}', which the template does not define")

    def _render_sub(self, argument: Any, depth: int) -> str:
        parts = self._sub_parts(argument)
        return self.opaque({"Fn::Sub": argument}) if parts is None else self._render_parts(parts, depth)

    def _sub_parts(self, argument: Any) -> list[Any] | None:
        if isinstance(argument, str):
            text, variables = argument, {}
        elif (isinstance(argument, list) and len(argument) == 2 and isinstance(argument[0], str)
              and isinstance(argument[1], dict)):
            text, variables = argument
        else:
            return None
        parts: list[Any] = []
        end = 0
        for match in _SUB_VARIABLE.finditer(text):
            parts.append(text[end:match.start()])
            name = match.group(1)
            if name.startswith("!"):
                parts.append("${" + name[1:] + "}")
            elif name in variables:
                parts.append(_Insert(variables[name]))
            elif "." in name:
                parts.append(_Insert({"Fn::GetAtt": name.split(".", 1)}))
            elif name.startswith("AWS::") or name in self.context.parameters or name in self.context.resources:
                parts.append(_Insert({"Ref": name}))
            else:  # not CloudFormation's to replace (e.g. a state machine's DefinitionSubstitutions key)
                parts.append(match.group())
            end = match.end()
        parts.append(text[end:])
        return parts

    def _render_join(self, argument: Any, depth: int) -> str:
        parts = self._join_parts(argument, depth)
        return self.opaque({"Fn::Join": argument}) if parts is None else self._render_parts(parts, depth)

    def _join_parts(self, argument: Any, depth: int) -> list[Any] | None:
        if not (isinstance(argument, list) and len(argument) == 2):
            return None
        delimiter = self.render(argument[0], depth)
        items = self.items(argument[1], depth)
        if delimiter is None or has_tokens(delimiter) or items is None:
            return None
        parts: list[Any] = []
        for item in items:
            item = self.pick(item)
            if item is ABSENT:
                continue
            if parts:
                parts.append(delimiter)
            parts.append(item if isinstance(item, str) else _Insert(item))
        return parts

    def items(self, value: Any, depth: int = 0) -> list[Any] | None:
        """A list argument (``Fn::Join``'s, ``Fn::Select``'s) as a Python list, or ``None`` when unknowable."""
        value = self.pick(value)
        if isinstance(value, list):
            return value
        if isinstance(value, dict) and list(value) == ["Fn::Split"] and depth < MAX_DEPTH:
            arguments = value["Fn::Split"]
            if isinstance(arguments, list) and len(arguments) == 2:
                delimiter, source = self.render(arguments[0], depth + 1), self.render(arguments[1], depth + 1)
                if delimiter and source is not None and not has_tokens(delimiter):
                    return source.split(delimiter)
        return None

    def _render_select(self, argument: Any, depth: int) -> str:
        if isinstance(argument, list) and len(argument) == 2:
            index, items = self.render(argument[0], depth), self.items(argument[1], depth)
            if index is not None and index.isdigit() and items is not None and int(index) < len(items):
                return self.render(items[int(index)], depth) or ""
        return self.opaque({"Fn::Select": argument})

    def _render_find_in_map(self, argument: Any, depth: int) -> str:
        if not (isinstance(argument, list) and len(argument) in (3, 4)):
            return self.opaque({"Fn::FindInMap": argument})
        keys = [self.render(key, depth) for key in argument[:3]]
        table = self.context.mappings.get(keys[0] or "")
        if not isinstance(table, dict) or None in keys or has_tokens(keys[0] or ""):
            return self.opaque({"Fn::FindInMap": argument})
        top, second = keys[1] or "", keys[2] or ""
        if not has_tokens(top) and not has_tokens(second):
            value = _mapping(table.get(top)).get(second, ABSENT)
            if value is ABSENT and len(argument) == 4:
                value = self.field(argument[3], "DefaultValue")
            return self.opaque({"Fn::FindInMap": argument}) if value is ABSENT else (self.render(value, depth) or "")
        # A key known only at deployment (typically the region): the value is one of the mapping's values.
        candidates: list[str] = []
        exhaustive = True  # every value the lookup can find is a literal (a list or an intrinsic is not)
        for top_key, row in table.items():
            if has_tokens(top) or top_key == top:
                for second_key, cell in _mapping(row).items():
                    if has_tokens(second) or second_key == second:
                        if not isinstance(cell, str | int | bool):
                            exhaustive = False
                            continue
                        text = self.render(cell, depth) or ""
                        if text not in candidates:
                            candidates.append(text)
        unknown = "; ".join(token.description for token in self.context.tokens_in(top + second))
        return self.context.token(f"${{Fn::FindInMap {keys[0]}}}",
                                  f"Fn::FindInMap {keys[0]} keyed by {unknown}", tuple(candidates),
                                  exhaustive=exhaustive and not has_tokens("".join(candidates)))

    # -- JSON held in strings (state machine definitions, AwsCustomResource calls) ------------------

    def json_text(self, value: Any, substitutions: Any = None) -> str | None:
        """The JSON text a string, ``Fn::Join`` or ``Fn::Sub`` builds; unknowns outside strings become strings.

        ``substitutions`` are a state machine's ``DefinitionSubstitutions`` (``${Name}`` in the text).
        """
        value = self.pick(value)
        if isinstance(value, str):
            parts: list[Any] | None = [value]
        elif isinstance(value, dict) and list(value) == ["Fn::Join"]:
            parts = self._join_parts(value["Fn::Join"], 1)
        elif isinstance(value, dict) and list(value) == ["Fn::Sub"]:
            parts = self._sub_parts(value["Fn::Sub"])
        elif isinstance(value, dict | list) and not is_intrinsic(value):
            parts = [json.dumps(value, ensure_ascii=False)]
        else:
            parts = None
        if parts is None:
            return None
        text = self._join_json(parts)
        variables = self.pick(substitutions)
        if isinstance(variables, dict) and variables:
            text = self._join_json(_substitution_parts(text, variables))
        return text

    def parse_json(self, value: Any, substitutions: Any = None) -> Any:
        """The document a JSON-holding value builds, or ``ABSENT`` when it is not readable JSON."""
        if isinstance(value, dict) and not is_intrinsic(value) and not substitutions:
            return value
        text = self.json_text(value, substitutions)
        if text is None:
            return ABSENT
        try:
            return json.loads(text)
        except (ValueError, RecursionError):
            return ABSENT

    def _join_json(self, parts: list[Any]) -> str:
        pieces: list[str] = []
        in_string = escaped = False
        for part in parts:
            if isinstance(part, str):
                text = part
            else:
                text = self.render(part.value) or ""
                if not in_string and has_tokens(text):
                    # An unknown where JSON expects a value: keep the document parseable, as a string.
                    pieces.append(json.dumps(text, ensure_ascii=False))
                    continue
            in_string, escaped = _scan_quotes(text, in_string, escaped)
            pieces.append(text)
        return "".join(pieces)

    # -- acceptance --------------------------------------------------------------------------------

    def acceptance_problem(self, container: Any, base: str, keys: tuple[str, ...]) -> str | None:
        """Why ``container.<keys>`` is not provably ``true`` (a clause naming the property), or ``None``.

        Provably true: the boolean ``true``, or text that resolves, without unknowns, to ``"true"``.
        """
        value = container
        walked = base
        for key in keys:
            value = self.pick(value)
            if value is ABSENT:
                return f"{walked} is absent"
            if isinstance(value, str) or not isinstance(value, dict) or is_intrinsic(value):
                return f"{walked} is {self._what(value)}"
            walked = f"{walked}.{key}"
            value = self.field(value, key)
        if value is True:
            return None
        if value is ABSENT:
            return f"{walked} is absent"
        if value is False:
            return f"{walked} is false"
        text = self.render(value)
        if text is None:
            return f"{walked} is absent"
        if text == "true" or (has_tokens(text) and self.context.always(text, "true")):
            return None
        return f"{walked} is {self._what(value)}"

    def _what(self, value: Any) -> str:
        """A value that is not ``true``, in words."""
        text = self.render(value)
        if text is None:
            return "absent"
        tokens = self.context.tokens_in(text)
        if not tokens:
            shown = repr(text) if isinstance(value, str) else text
            # "True", "yes", 1: CloudFormation's coercion of these is not documented, so they prove nothing.
            why = "" if text == "false" else ' (only the boolean true or the string "true" proves acceptance)'
            return f"{shown}, not true{why}"
        unknown = ", ".join(dict.fromkeys(token.description for token in tokens))
        what = unknown if len(text) == 1 else f"built from {unknown}"
        if all(token.exhaustive for token in tokens):
            others = [repr(option) for option in dict.fromkeys(self.context.expand(text)) if option != "true"]
            return f"{what}, which may be {' or '.join(others[:3])}, not true"
        return f"{what}, which is not known before deployment"


_RENDERERS: dict[str, Callable[[Reader, Any, int], str]] = {
    "Ref": Reader._render_ref,
    "Fn::Sub": Reader._render_sub,
    "Fn::Join": Reader._render_join,
    "Fn::Select": Reader._render_select,
    "Fn::FindInMap": Reader._render_find_in_map,
}


def _describe(value: Any) -> tuple[str, str]:
    """How an unknowable value reads in text, and in a sentence."""
    if isinstance(value, dict) and len(value) == 1:
        name, argument = next(iter(value.items()))
        if name == "Fn::GetAtt":
            target = ".".join(str(part) for part in argument) if isinstance(argument, list) else str(argument)
            return f"${{{target}}}", f"Fn::GetAtt {target}"
        if name == "Fn::ImportValue":
            return "${ImportValue}", "an Fn::ImportValue of another stack's output"
        if name == "Ref":
            return "${Ref}", "a malformed Ref"
        if name.startswith("Fn::") or name == "Condition":
            return f"${{{name}}}", f"an {name} expression" if name.startswith("Fn::") else "a Condition expression"
    if isinstance(value, dict):
        return "{...}", "an object"
    if isinstance(value, list):
        return "[...]", "a list"
    if value is None:
        return "null", "null"
    return str(value), f"a {type(value).__name__}"


def _parameter_values(parameter: Mapping[str, Any]) -> tuple[str, ...]:
    values = [parameter.get("Default"), *(parameter.get("AllowedValues") or [])]
    texts = [json.dumps(v) if isinstance(v, bool) else str(v) for v in values if isinstance(v, str | int | bool)]
    return tuple(dict.fromkeys(texts))


def _substitution_parts(text: str, variables: Mapping[str, Any]) -> list[Any]:
    parts: list[Any] = []
    end = 0
    for match in _SUB_VARIABLE.finditer(text):
        if match.group(1) in variables:
            parts.append(text[end:match.start()])
            parts.append(_Insert(variables[match.group(1)]))
            end = match.end()
    parts.append(text[end:])
    return parts


def _scan_quotes(text: str, in_string: bool, escaped: bool) -> tuple[bool, bool]:
    """Whether JSON text that continues ``text`` is inside a string (and right after a backslash)."""
    if not text:
        return in_string, escaped
    skip_to = 1 if escaped else 0
    for match in _QUOTE_OR_BACKSLASH.finditer(text, skip_to):
        position = match.start()
        if position < skip_to:
            continue
        if match.group() == "\\":
            if in_string:
                if position + 1 >= len(text):
                    return in_string, True
                skip_to = position + 2
        else:
            in_string = not in_string
    return in_string, False
