"""Reading template values through CloudFormation's intrinsic functions, one valuation (one deployment) at a time.

A ``Reader`` stands for one *valuation*: a value for each choice the resource meets, the same wherever it is
met. Choices are made lazily (``decide``): a parameter with ``AllowedValues`` takes one of them; a parameter a
condition, a rule or a lookup compares with literals takes one of those, or none; a named condition, or a
comparison of two unknowns, is true or false. ``readings`` enumerates the valuations of what its user meets, so
a request is judged once per deployment that can differ in what it loads or accepts.

What no valuation fixes (an attribute of another resource, an import, a dynamic reference, a value read from a
state machine's input, a free parameter) is rendered as one private-use character: a *token* that remembers what
it stands for. ``${AWS::Region}`` is the token ``REGION``. Text keeps its shape
(``jumpstart-private-cache-prod-<REGION>`` still names JumpStart's gated bucket) while unknown parts can never
match a model id or the word ``true``. A token may carry *candidates* (``values.py``): a mapping's values, the
elements of a known list, a ``Default``.

Families of intrinsic functions register their renderers in ``EVALUATORS`` (``register``); conditions, lists,
acceptance and the Rules section their entry points: the modules above import this one, never the reverse.
Past a limit (nesting, candidate texts, valuations) evaluation raises ``EvaluationLimit`` and the engine reports
the resource (EULA000): nothing is dropped silently.
"""

from __future__ import annotations

import binascii
import json
from collections.abc import Callable, Iterator, Mapping
from typing import Any

from constructs_lib.patterns import compile_on_use
from constructs_lib.rules.evaluation.values import (
    ABSENT,
    MAX_DEPTH,
    MAX_READINGS,
    PARTITIONS,
    REGION,
    DeploymentFails,
    EvaluationLimit,
    TemplateContext,
    has_tokens,
    is_function_key,
    is_intrinsic,
    is_list_parameter,
    key_spellings,
    parameter_choice,
    parameter_values,
    partition_of_region,
    sub_variables,
)

_QUOTE_OR_BACKSLASH = compile_on_use(r'["\\]')
_DYNAMIC_REFERENCE = "{{resolve:"


# The choice of the value the nesting stacks pass a parameter, by its choice key (``PassedValues``).
_PASSED = "passed "

# Pseudo parameters whose values must name one partition in a valuation.
_REGION_CHOICE, _PARTITION_CHOICE, _URL_SUFFIX_CHOICE = (
    parameter_choice(name) for name in ("AWS::Region", "AWS::Partition", "AWS::URLSuffix"))
_PARTITION_ORDER = (_REGION_CHOICE, _PARTITION_CHOICE, _URL_SUFFIX_CHOICE)
_PARTITION_CHOICES = frozenset(_PARTITION_ORDER)
_URL_SUFFIXES = tuple(dict.fromkeys(suffix for _pattern, suffix in PARTITIONS.values()))
# The functions pick looks through (any other one-key object it returns as it is).
_PICKED = frozenset({"Fn::If", "Ref", "Fn::Select"})


class _Insert:
    """A value spliced into text by ``Fn::Join``/``Fn::Sub`` (as opposed to the literal text around it)."""

    __slots__ = ("value",)

    def __init__(self, value: Any) -> None:
        self.value = value


class Reader:
    """Reads values of one template under one reading: a value for each condition and compared parameter met."""

    __slots__ = ("choices", "condition_values", "consulted", "context", "domains", "exact_keys", "new_conditions")

    def __init__(self, context: TemplateContext, choices: Mapping[str, Any] | None = None, *,
                 exact_keys: bool = False) -> None:
        self.context = context
        # The reading: a value for each choice key (a condition the Conditions section does not define, a
        # parameter a condition compares, an equality of unknowns, an unknown Fn::Select index).
        self.choices: dict[str, Any] = dict(choices) if choices else {}
        self.new_conditions: list[str] = []  # choice keys met for the first time in this reading, in order
        self.domains: dict[str, tuple[Any, ...]] = {}  # the values each new choice key can take
        self.condition_values: dict[str, bool] = {}  # named conditions evaluated in this reading, for messages
        self.consulted = 0  # how many times this reading's choices were asked (a parse that asked none is reusable)
        # CloudFormation's own resource types accept only their schema's PascalCase keys: no other spellings.
        self.exact_keys = exact_keys

    # -- the reading ---------------------------------------------------------------------------------

    def decide(self, key: str, domain: tuple[Any, ...]) -> Any:
        """The value of a choice in this reading: the one given, or the first of ``domain`` (the rest are read
        in other readings)."""
        self.consulted += 1
        if key in _PARTITION_CHOICES:
            # The nesting stack's deployment may fix any of the three: a partition it fixes decides which regions
            # this valuation can choose, even when the nested template never names the partition.
            for shared in _PARTITION_ORDER:
                if shared not in self.choices and shared in self.context.passed_slots:
                    self._passed(shared)
            value = self.choices[key] if key in self.choices else self._decide(key, domain)
            self._refuse_other_partitions()
            return value
        if key in self.choices:
            return self.choices[key]
        if key in self.context.passed_slots and self._passed(key):
            return self.choices[key]
        return self._decide(key, domain)

    def _decide(self, key: str, domain: tuple[Any, ...]) -> Any:
        self.choices[key] = domain[0]
        self.new_conditions.append(key)
        self.domains[key] = domain
        return domain[0]

    def _refuse_other_partitions(self) -> None:
        """A valuation whose ``AWS::Region``, ``AWS::Partition`` and ``AWS::URLSuffix`` name different partitions
        is no deployment (a region's name places it in one partition, a partition has one URL suffix)."""
        region = self.choices.get(_REGION_CHOICE)
        partition = partition_of_region(region) if isinstance(region, str) else None
        chosen = self.choices.get(_PARTITION_CHOICE, ABSENT)
        suffix = self.choices.get(_URL_SUFFIX_CHOICE, ABSENT)
        if partition is None and chosen is None and isinstance(suffix, str):
            # The partition is none of those compared with it: the suffix must then be another partition's.
            owners = [name for name, (_pattern, owned) in PARTITIONS.items() if owned == suffix]
            compared = EVALUATORS.parameter_domain(self.context, "AWS::Partition")
            if owners and all(owner in compared for owner in owners):
                raise DeploymentFails(f"the URL suffix {suffix} is only the partition {' or '.join(owners)}'s")
        if partition is None:
            partition = chosen if isinstance(chosen, str) and chosen in PARTITIONS else None
        elif chosen is not ABSENT and chosen != partition and (
                chosen is not None or partition in EVALUATORS.parameter_domain(self.context, "AWS::Partition")):
            raise DeploymentFails(f"the region {region} is not in that partition")
        if partition is not None and suffix is not ABSENT and suffix != PARTITIONS[partition][1] and (
                suffix is not None or PARTITIONS[partition][1] in EVALUATORS.parameter_domain(
                    self.context, "AWS::URLSuffix")):
            raise DeploymentFails(f"the partition {partition} has another URL suffix")

    def _passed(self, key: str) -> bool:
        """Whether the stacks nesting the template fix the parameter of choice ``key`` in this valuation.

        Their assignments are chosen lazily, one parameter met at a time: it takes a value that an assignment
        agreeing with the values chosen so far passes it (``None``: that assignment leaves it free), so the
        parameters a valuation meets take the values of one assignment together, and the valuations range over
        the assignments' values for those parameters only."""
        passed = self.context.passed
        assert passed is not None  # only a context with passed values has passed slots
        if passed.limit is not None:
            raise EvaluationLimit(passed.limit)
        slots = self.context.passed_slots
        chosen = [(slot, self.choices[_PASSED + other]) for other, slot in slots.items()
                  if _PASSED + other in self.choices]
        values = tuple(dict.fromkeys(row[slots[key]] for row in passed.assignments
                                     if all(row[slot] == value for slot, value in chosen)))
        if not values:
            raise DeploymentFails("no deployment of the stacks nesting the template deploys it")
        value = self.decide(_PASSED + key, values)
        if value is not None:
            self.choices[key] = value
        return value is not None

    def as_new(self) -> bool:
        """Whether this reading is still as it began: nothing consulted, chosen, evaluated or met (a reader of no
        given choices may then read another value as a new one would)."""
        return not (self.consulted or self.choices or self.condition_values or self.new_conditions)

    def alternatives(self, key: str) -> tuple[Any, ...]:
        """The other values a choice met for the first time in this reading can take."""
        return self.domains[key][1:]

    def choose(self, condition: str) -> bool:
        """The value of a named condition in this reading (through the Conditions section when it defines it)."""
        self.consulted += 1
        value = self.condition_values.get(condition)
        if value is None:
            value = self.condition_values[condition] = EVALUATORS.condition(self, condition)
        return value

    def condition_note(self) -> str:
        """``when condition A is true and B is false``: the branches this reading followed (or, when it met no
        named condition, the values of the parameters its lookups compared, e.g. ``when AWS::Region is ...``)."""
        if self.condition_values:
            parts = [f"{name} is {'true' if value else 'false'}" for name, value in self.condition_values.items()]
            return f"when {'condition' if len(parts) == 1 else 'conditions'} {' and '.join(parts)}"
        parts = [f"{key[2:-1]} is " + (repr(self.context.display(value)) if isinstance(value, str) else "another value")
                 for key, value in self.choices.items() if key.startswith("${") and key.endswith("}")]
        return f"when {' and '.join(parts)}" if parts else ""

    # -- structure ---------------------------------------------------------------------------------

    def pick(self, value: Any) -> Any:
        """The value through ``Fn::If`` (by this reading's choices) and ``Fn::Select``/``Fn::FindInMap`` of
        structures; ``ABSENT`` for ``AWS::NoValue``."""
        depth = 0
        while type(value) is dict and len(value) == 1:
            depth += 1
            if depth > MAX_DEPTH:
                raise EvaluationLimit(f"Fn::If nested more than {MAX_DEPTH} deep")
            (name,) = value  # its one key: one step, where a look-up per function would take three
            if name == "Fn::If":
                arguments = value[name]
                if not (isinstance(arguments, list) and len(arguments) == 3 and isinstance(arguments[0], str)):
                    return value
                value = arguments[1] if self.choose(arguments[0]) else arguments[2]
            elif name == "Ref":
                return ABSENT if value[name] == "AWS::NoValue" else value
            elif name == "Fn::Select":
                picked = self._pick_selected(value[name])
                if picked is ABSENT:
                    return value
                value = picked
            else:
                return value
        return value

    def _pick_selected(self, argument: Any) -> Any:
        """The structure ``Fn::Select`` picks from a literal list (one element per reading for an unknown
        index), or ``ABSENT`` to read it as text."""
        if not (isinstance(argument, list) and len(argument) == 2):
            return ABSENT
        items = self.pick(argument[1])
        if not isinstance(items, list) or not any(isinstance(self.pick(item), dict | list) for item in items):
            return ABSENT
        items = [item for item in items if self.pick(item) is not ABSENT]  # AWS::NoValue is not in the list
        index = self.render(argument[0])
        if index is not None and index.isdigit():
            if int(index) >= len(items):
                raise DeploymentFails("Fn::Select's index is out of its list's range")
            return items[int(index)]
        if not items:
            raise DeploymentFails("Fn::Select of an empty list")
        key = "Fn::Select index " + json.dumps(argument[0], sort_keys=True, default=str)
        return items[self.decide(f"{key} of {len(items)}", tuple(range(len(items))))]

    def field(self, mapping: Any, key: str) -> Any:
        """``mapping[key]`` through intrinsics; ``ABSENT`` when missing; a token when ``mapping`` is unknowable.

        Step Functions' ``Key.$`` (a value read from the state input) and lowerCamel spellings count as ``Key``.
        """
        if type(mapping) is not dict or (len(mapping) == 1 and is_function_key(*mapping)):  # not the common case
            mapping = self.pick(mapping)
            if mapping is ABSENT or (isinstance(mapping, str) and has_tokens(mapping)):
                return mapping  # absent, or already a token standing for the whole object
            if not isinstance(mapping, dict) or is_intrinsic(mapping):
                # An intrinsic or an expression (JSONata, a dynamic reference) stands for an object known only at
                # run time; known text, a list or a number where an object belongs fails, deploying nothing.
                text = self.render(mapping) if is_intrinsic(mapping) or isinstance(mapping, str) else None
                return text if text is not None and has_tokens(text) else ABSENT
        value = mapping.get(key, ABSENT)
        if value is ABSENT:
            return ABSENT if self.exact_keys else self._other_spelling(mapping, key)
        if type(value) is dict and len(value) == 1:
            (name,) = value
            if name in _PICKED:
                return self.pick(value)
        return value

    def lacks(self, mapping: Any, keys: tuple[str, ...]) -> bool:
        """Whether ``field(mapping, key)`` is ``ABSENT`` for every key, plainly (no choice read, so the caller may
        skip those reads): an object of several properties, spelled exactly, that has none of them."""
        return self.exact_keys and type(mapping) is dict and len(mapping) > 1 and mapping.keys().isdisjoint(keys)

    def _other_spelling(self, mapping: dict[str, Any], key: str) -> Any:
        spellings = key_spellings(key)
        dynamic = mapping.get(spellings[0])
        if dynamic is not None:
            return self.context.token(f"${{{dynamic}}}", f"read from the state input at run time ({dynamic})")
        value = mapping.get(spellings[1], ABSENT)
        return self.pick(mapping.get(spellings[2], ABSENT) if value is ABSENT else value)

    def path(self, mapping: Any, *keys: str) -> Any:
        value = mapping
        for key in keys:
            value = self.field(value, key)
        return value

    def elements(self, value: Any) -> Iterator[tuple[int, Any]]:
        """The present elements of a list, with their positions; for a list unknown before deployment, one
        arbitrary element (a token), so that what it may hold is still read."""
        value = self.pick(value)
        if isinstance(value, list):
            for index, element in enumerate(value):
                element = self.pick(element)
                if element is not ABSENT:
                    yield index, element
        elif is_intrinsic(value):
            yield 0, self.render(value)

    # -- text --------------------------------------------------------------------------------------

    def opaque(self, value: Any) -> str:
        display, description = _describe(value)
        argument = value.get("Fn::GetAtt") if isinstance(value, dict) and len(value) == 1 else None
        target = argument[0] if isinstance(argument, list) and argument else argument
        resource = target if isinstance(target, str) and target in self.context.resources else None
        attribute = argument[1] if resource is not None and isinstance(argument, list) and len(argument) > 1 else None
        return self.context.token(display, description, resource=resource,
                                  attribute=attribute if isinstance(attribute, str) else "?")

    def render(self, value: Any, depth: int = 0) -> str | None:
        """The value as text (tokens for unknowns), or ``None`` when it is absent."""
        # Text is its own pick, and so is a one-key object whose key pick does not follow (Fn::Join, Fn::Sub...):
        # the common cases make no call.
        if type(value) is not str and (type(value) is not dict or len(value) != 1 or not _PICKED.isdisjoint(value)):
            value = self.pick(value)
            if value is ABSENT:
                return None
        if isinstance(value, str):
            if value.startswith("{%") and value.endswith("%}"):
                return self.context.token(value, f"a JSONata expression evaluated at run time ({value})")
            if _DYNAMIC_REFERENCE in value:
                return self._render_dynamic_references(value)
            return value
        if isinstance(value, dict):  # before the scalars: an intrinsic is the next most common value
            if len(value) == 1:
                if depth >= MAX_DEPTH:
                    raise EvaluationLimit(f"intrinsic functions nested more than {MAX_DEPTH} deep")
                ((name, argument),) = value.items()
                renderer = EVALUATORS.renderers.get(name)
                if renderer is not None:
                    return renderer(self, argument, depth + 1)
            return self.opaque(value)
        if isinstance(value, bool):
            return "true" if value else "false"
        if isinstance(value, int | float):
            return str(value)
        return self.opaque(value)

    def _render_dynamic_references(self, text: str) -> str:
        """``{{resolve:ssm:name}}`` and the like: resolved at deployment, so unknown here."""
        pieces: list[str] = []
        end = 0
        while (start := text.find(_DYNAMIC_REFERENCE, end)) >= 0:
            close = text.find("}}", start)
            if close < 0:
                break
            reference = text[start:close + 2]
            pieces += [text[end:start], self.context.token(reference, f"the dynamic reference {reference}")]
            end = close + 2
        pieces.append(text[end:])
        return "".join(pieces)

    def _render_parts(self, parts: list[Any], depth: int) -> str:
        return "".join(part if isinstance(part, str) else (self.render(part.value, depth) or "") for part in parts)

    def _render_ref(self, name: Any, depth: int) -> str:
        if not isinstance(name, str):
            return self.opaque({"Ref": name})
        key = parameter_choice(name)
        if key in self.context.passed_slots and key not in self.choices:
            self._passed(key)
        chosen = self.choices.get(key, ABSENT) if self.choices else ABSENT
        if chosen is not ABSENT:  # this reading fixed the parameter (a condition or a lookup compared it)
            self.consulted += 1
            if isinstance(chosen, str):
                return chosen
        if name == "AWS::Region":
            return REGION
        if name == "AWS::URLSuffix":  # its partition's, known when the valuation fixes the region or partition
            region = self.choices.get(_REGION_CHOICE)
            partition = (partition_of_region(region) if isinstance(region, str) else None) or self.choices.get(
                _PARTITION_CHOICE)
            if isinstance(partition, str) and partition in PARTITIONS:
                return PARTITIONS[partition][1]
            return self.context.token("${AWS::URLSuffix}", "the pseudo parameter AWS::URLSuffix", _URL_SUFFIXES)
        if name.startswith("AWS::"):
            return self.context.token(f"${{{name}}}", f"the pseudo parameter {name}")
        parameter = self.context.parameters.get(name)
        if isinstance(parameter, dict):
            values, bounded = parameter_values(parameter)
            if bounded:  # one value per valuation, the same wherever the resource refers to it
                return str(self.decide(parameter_choice(name), values))
            domain = () if is_list_parameter(parameter) else EVALUATORS.parameter_domain(self.context, name)
            if len(domain) > 1:  # compared with literals (conditions, rules, lookups): one of them, or none
                chosen = self.decide(parameter_choice(name), domain)
                if isinstance(chosen, str):
                    return chosen
                # None of the compared literals in this reading: a Default among them is not a candidate.
                values = tuple(value for value in values if value not in domain)
            return self.context.token(f"${{{name}}}", f"a Ref to parameter '{name}'", values)
        if name in self.context.resources:
            return self.context.token(f"${{{name}}}", f"a Ref to resource '{name}'", resource=name)
        return self.context.token(f"${{{name}}}", f"a Ref to '{name}', which the template does not define")

    def _render_sub(self, argument: Any, depth: int) -> str:
        parts = self._sub_parts(argument)
        return self.opaque({"Fn::Sub": argument}) if parts is None else self._render_parts(parts, depth)

    def _sub_parts(self, argument: Any) -> list[Any] | None:
        if isinstance(argument, str):
            text, variables = argument, {}
        elif (isinstance(argument, list) and len(argument) == 2 and isinstance(argument[0], str)
              and isinstance(self.pick(argument[1]), dict)):
            text, variables = argument[0], self.pick(argument[1])
        else:
            return None
        parts: list[Any] = []
        end = 0
        for start, close, name in sub_variables(text):
            parts.append(text[end:start])
            if name.startswith("!"):
                parts.append("${" + name[1:] + "}")
            elif name in variables:
                parts.append(_Insert(variables[name]))
            elif "." in name:
                parts.append(_Insert({"Fn::GetAtt": name.split(".", 1)}))
            elif name.startswith("AWS::") or name in self.context.parameters or name in self.context.resources:
                parts.append(_Insert({"Ref": name}))
            else:  # not CloudFormation's to replace (e.g. a state machine's DefinitionSubstitutions key)
                parts.append(text[start:close])
            end = close
        parts.append(text[end:])
        return parts

    def _render_join(self, argument: Any, depth: int) -> str:
        if not (isinstance(argument, list) and len(argument) == 2):
            return self.opaque({"Fn::Join": argument})
        # A known delimiter and list (CDK's region-agnostic ARNs and locations): joined as they are read, in the
        # order _join_parts reads them, without marking the inserts that only JSON text needs.
        # CDK's empty delimiter and literal list are read without calls (render and items return them as they are).
        delimiter = "" if argument[0] == "" else self.render(argument[0], depth)
        items = argument[1] if type(argument[1]) is list else self.items(argument[1], depth)
        if delimiter is not None and items is not None and not (delimiter and has_tokens(delimiter)):
            texts: list[Any] = []
            for item in items:  # every item picked before any is rendered (text is its own pick)
                if type(item) is not str:
                    item = self.pick(item)
                    if item is ABSENT:
                        continue
                texts.append(item)
            for position, item in enumerate(texts):
                if not isinstance(item, str):
                    texts[position] = self.render(item, depth) or ""
            return delimiter.join(texts)
        lists, complete = self.lists(argument[1], depth)
        if delimiter is None or not lists:
            return self.opaque({"Fn::Join": argument})
        joined = [delimiter.join(self.render(item, depth) or "" for item in items) for items in lists]
        return self.context.choice("${Fn::Join}", "an Fn::Join of a list known only at deployment", joined,
                                   complete=complete)

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

    # -- lists -------------------------------------------------------------------------------------

    def items(self, value: Any, depth: int = 0) -> list[Any] | None:
        """A list argument (``Fn::Join``'s, ``Fn::Select``'s) as a Python list, or ``None`` unless it is one
        list known before deployment."""
        value = self.pick(value)
        if isinstance(value, list):  # the common case (its AWS::NoValue elements are for the caller to skip)
            return value
        lists, complete = self.lists(value, depth)
        return lists[0] if complete and len(lists) == 1 else None

    def lists(self, value: Any, depth: int = 0) -> tuple[list[list[Any]], bool]:
        """The lists a list value may be, and whether it can be no other (see ``rules/evaluation/lists.py``)."""
        return EVALUATORS.lists(self, value, depth)

    def _render_length(self, argument: Any, depth: int) -> str:
        lists, complete = self.lists(argument, depth)
        lengths = [str(len([item for item in items if self.pick(item) is not ABSENT])) for items in lists]
        return self.context.choice("${Fn::Length}", "an Fn::Length of a list known only at deployment", lengths,
                                   complete=complete)

    def _render_base64(self, argument: Any, depth: int) -> str:
        text = self.render(argument, depth)
        if text is None or has_tokens(text):
            return self.opaque({"Fn::Base64": argument})
        return binascii.b2a_base64(text.encode(), newline=False).decode()  # base64.b64encode, without its imports

    def _render_to_json_string(self, argument: Any, depth: int) -> str:
        """The JSON text of the object, built structurally: intrinsics inside are read in this valuation and
        what stays unknown is a string token in its place, so the request inside is still judged."""
        document = self.pick(argument)
        if isinstance(document, dict | list) and not is_intrinsic(document):
            return self.document_json(document, depth) or ""
        return self.opaque({"Fn::ToJsonString": argument})

    def document_json(self, value: Any, depth: int = 0) -> str | None:
        """A structure as JSON text, each intrinsic in it read in this valuation (``None`` when absent)."""
        if depth > MAX_DEPTH:
            raise EvaluationLimit(f"a document nests more than {MAX_DEPTH} deep")
        value = self.pick(value)
        if value is ABSENT:
            return None
        if isinstance(value, dict) and not is_intrinsic(value):
            members = ((key, self.document_json(child, depth + 1)) for key, child in value.items())
            return "{" + ",".join(f"{json.dumps(str(key), ensure_ascii=False)}:{text}"
                                  for key, text in members if text is not None) + "}"
        if isinstance(value, list):
            texts = (self.document_json(child, depth + 1) for child in value)
            return "[" + ",".join(text for text in texts if text is not None) + "]"
        if value is None or isinstance(value, bool | int | float):
            return json.dumps(value)
        text = self.render(value, depth)
        return None if text is None else json.dumps(text, ensure_ascii=False)

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
        elif isinstance(value, dict) and list(value) == ["Fn::ToJsonString"]:
            parts = [self.render(value)]
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
        """The document a JSON-holding value builds, or ``ABSENT`` when it is not readable JSON.

        A document whose reading asked no condition is parsed once per template (a state machine with many
        SageMaker tasks is read once per task and per reading).
        """
        if isinstance(value, dict) and not is_intrinsic(value) and not substitutions:
            return value
        key = (id(value), id(substitutions))
        cached = self.context.parsed.get(key)
        if cached is not None and cached[0] is value and cached[1] is substitutions:
            return cached[2]
        consulted = self.consulted
        text = self.json_text(value, substitutions)
        document: Any = ABSENT
        if text is not None:
            try:
                document = json.loads(text)
            except (ValueError, RecursionError):
                document = ABSENT
        if self.consulted == consulted:
            self.context.parsed[key] = (value, substitutions, document)
        return document

    def _join_json(self, parts: list[Any]) -> str:
        pieces: list[str] = []
        in_string = escaped = False
        for part in parts:
            if isinstance(part, str):
                text = part
            else:
                inserted = self.pick(part.value)
                text = self.render(inserted) or ""
                if not in_string and type(inserted) is dict and list(inserted) == ["Fn::ToJsonString"]:
                    pieces.append(text)  # a document spliced in whole: its unknowns are already strings
                    continue
                if not in_string and has_tokens(text):
                    # An unknown where JSON expects a value: keep the document parseable, as a string.
                    pieces.append(json.dumps(text, ensure_ascii=False))
                    continue
            in_string, escaped = _scan_quotes(text, in_string, escaped)
            pieces.append(text)
        return "".join(pieces)

    def refusing_rule(self) -> str | None:
        """The template rule (``Rules`` section) that refuses this valuation, or ``None`` (see
        ``template_rules.py``): a refused valuation deploys nothing."""
        return EVALUATORS.refusing_rule(self)

    # -- acceptance (rules/evaluation/acceptance.py decides; kept here for the rules that ask a reader) ----------

    def acceptance_problem(self, container: Any, base: str, keys: tuple[str, ...]) -> str | None:
        """Why ``container.<keys>`` is not provably ``true`` (a clause naming the property), or ``None``."""
        return EVALUATORS.acceptance(self, container, base, keys)


Renderer = Callable[[Reader, Any, int], str]


class _Evaluators:
    """What the modules above this one evaluate for a Reader: each family of intrinsics registers its renderer
    in ``renderers`` (``register``), and conditions, lists and acceptance their entry point, when imported
    (``rules/evaluation/__init__.py`` imports them all). The table keeps imports one way: up."""

    def __init__(self) -> None:
        self.renderers: dict[str, Renderer] = {}
        self.condition: Callable[[Reader, str], bool] = _unregistered
        self.lists: Callable[[Reader, Any, int], tuple[list[list[Any]], bool]] = _unregistered
        self.acceptance: Callable[[Reader, Any, str, tuple[str, ...]], str | None] = _unregistered
        self.refusing_rule: Callable[[Reader], str | None] = _unregistered
        self.parameter_domain: Callable[[TemplateContext, str], tuple[str | None, ...]] = _unregistered


def _unregistered(*_arguments: Any) -> Any:
    raise RuntimeError("constructs_lib.rules.evaluation is not imported: its modules register the evaluators")


EVALUATORS = _Evaluators()


def register(name: str) -> Callable[[Renderer], Renderer]:
    """Registers the renderer of one intrinsic function (``Fn::Select``...) in the table ``render`` consults."""
    def add(renderer: Renderer) -> Renderer:
        EVALUATORS.renderers[name] = renderer
        return renderer
    return add


EVALUATORS.renderers.update({
    "Ref": Reader._render_ref,
    "Fn::Sub": Reader._render_sub,
    "Fn::Join": Reader._render_join,
    "Fn::Length": Reader._render_length,
    "Fn::Base64": Reader._render_base64,
    "Fn::ToJsonString": Reader._render_to_json_string,
})


def readings(context: TemplateContext, *, exact_keys: bool = False) -> Iterator[Reader]:
    """A reader for each reading of the choices its user meets (conditions, compared parameters), each once.

    The next reading is planned from what the previous one met, so use each reader fully before taking the next.
    Past ``MAX_READINGS`` readings: ``EvaluationLimit`` (the resource cannot be evaluated), never a silent stop.
    """
    reader = Reader(context, exact_keys=exact_keys)
    yield reader
    if reader.new_conditions:  # one that met no choice (the common case) is the only valuation
        yield from later_readings(reader)


def later_readings(first: Reader) -> Iterator[Reader]:
    """The readings after ``first`` (a fresh ``Reader``, used fully), planned as ``readings`` plans them: a
    caller that reads ``first`` itself asks for these only when it met a choice (``first.new_conditions``)."""
    context, exact_keys = first.context, first.exact_keys
    reader = first
    pending: list[dict[str, Any]] = []
    given: dict[str, Any] = {}
    for count in range(1, MAX_READINGS + 1):
        # Each choice met for the first time opens its other values: every combination is read once.
        met = reader.new_conditions
        for position, choice in enumerate(met):
            earlier = {earlier_choice: reader.choices[earlier_choice] for earlier_choice in met[:position]}
            pending.extend({**given, **earlier, choice: value} for value in reader.alternatives(choice))
        if not pending:
            return
        if count == MAX_READINGS:
            break
        given = pending.pop()
        reader = Reader(context, given, exact_keys=exact_keys)
        yield reader
    raise EvaluationLimit(f"its parameters and conditions combine in more than {MAX_READINGS} ways "
                          "(deployments to judge)")


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


def _substitution_parts(text: str, variables: Mapping[str, Any]) -> list[Any]:
    parts: list[Any] = []
    end = 0
    for start, close, name in sub_variables(text):
        if name in variables:
            parts.append(text[end:start])
            parts.append(_Insert(variables[name]))
            end = close
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
