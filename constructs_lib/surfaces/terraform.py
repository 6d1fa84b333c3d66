"""Terraform: ``.tf`` files (read with python-hcl2) and plan JSON (``terraform show -json``).

Each SageMaker resource of the AWS providers (``aws_sagemaker_*``, ``awscc_sagemaker_*``) becomes the API request
its arguments spell: blocks and attributes in snake_case become the API's PascalCase keys
(``primary_container { model_data_source { s3_data_source { model_access_config { accept_eula = true }}}}`` is
``PrimaryContainer.ModelDataSource.S3DataSource.ModelAccessConfig.AcceptEula``), a repeated block the API's list
(``container`` -> ``Containers``, ``additional_model_data_source`` -> ``AdditionalModelDataSources``).

Values, as Terraform reads them:
- ``var.x`` is unknown: a default is only what applies when no value is given. A ``validation`` of the form
  ``contains([...], var.x)`` limits it to those values (each judged, like a parameter's ``AllowedValues``).
- ``local.x`` is followed; a reference to another resource, a data source or a module is unknown.
- ``"true"`` is acceptance as ``true`` is: Terraform converts the string for a bool argument.
- A plan's values are exact; what the plan marks unknown until apply (``after_unknown``) is unknown.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator, Mapping
from typing import Any

from constructs_lib.surfaces.requests import (
    Pieces,
    SurfaceRequest,
    SurfaceScan,
    Unknown,
    scan_requests,
    unreadable_finding,
)

SURFACE = "terraform"
_SAGEMAKER_TYPES = ("aws_sagemaker_", "awscc_sagemaker_")
# Repeated blocks whose API field is a list under another name.
_LIST_BLOCKS = {
    "container": "Containers",
    "additional_model_data_source": "AdditionalModelDataSources",
    "additional_model_data_sources": "AdditionalModelDataSources",
    "input_data_config": "InputDataConfig",
    "containers": "Containers",
}
_META_KEYS = frozenset({"__is_block__", "__start_line__", "__end_line__", "__comments__", "__inline_comments__",
                        "count", "for_each", "depends_on", "lifecycle", "provider"})
_CONTAINS = re.compile(r"\A\$\{\s*contains\(\s*(\[.*\])\s*,\s*var\.([A-Za-z0-9_-]+)\s*\)\s*\}\Z", re.DOTALL)
# Bool arguments that decide acceptance, and the strings Terraform's type system (cty) converts to a bool.
_BOOL_ARGUMENTS = frozenset({"accept_eula"})
_BOOL_STRINGS = {"true": True, "1": True, "false": False, "0": False}
_OWN_BUCKET = re.compile(r"aws_s3_bucket\.[A-Za-z0-9_-]+\.(id|bucket)")
_NUMBER = re.compile(r"-?\d+(\.\d+)?")
_MAX_LOCAL_DEPTH = 20


def pascal(name: str) -> str:
    return "".join(part[:1].upper() + part[1:] for part in name.split("_"))


def _unquote(name: str) -> str:
    return name[1:-1] if len(name) >= 2 and name[0] == name[-1] == '"' else name


class _Values:
    """Terraform expressions as the request's values."""

    def __init__(self, variables: Mapping[str, tuple[str, ...]], locals_: Mapping[str, Any]) -> None:
        self.variables = variables
        self.locals = locals_
        self._depth = 0

    def value(self, raw: Any) -> Any:
        if isinstance(raw, str):
            if len(raw) >= 2 and raw[0] == raw[-1] == '"':
                return self._template(raw[1:-1])
            if raw.startswith("${") and raw.endswith("}") and _closing(raw, 2) == len(raw) - 1:
                return self.expression(raw[2:-1])
            return raw
        if isinstance(raw, list):
            return [self.value(item) for item in raw]
        if isinstance(raw, dict):
            return {key: self.value(item) for key, item in raw.items() if key not in _META_KEYS}
        return raw

    def expression(self, text: str) -> Any:
        text = text.strip()
        if text in ("true", "false"):
            return text == "true"
        if _NUMBER.fullmatch(text):
            return json.loads(text)
        if len(text) >= 2 and text[0] == text[-1] == '"' and '"' not in text[1:-1].replace('\\"', ""):
            return self._template(text[1:-1])
        if text.startswith("var.") and re.fullmatch(r"var\.[A-Za-z0-9_-]+", text):
            return Unknown(text, self.variables.get(text[4:], ()))
        if text.startswith("local.") and re.fullmatch(r"local\.[A-Za-z0-9_-]+", text) and text[6:] in self.locals:
            if self._depth >= _MAX_LOCAL_DEPTH:
                return Unknown(text)
            self._depth += 1
            try:
                return self.value(self.locals[text[6:]])
            finally:
                self._depth -= 1
        if text.startswith("format(") and text.endswith(")"):
            return self._format(text[len("format("):-1])
        if _OWN_BUCKET.fullmatch(text):  # a bucket this configuration creates: the user's own, never JumpStart's
            return f"{text.split('.')[1]}-bucket-of-this-configuration"
        return Unknown(text[:60])

    def _format(self, arguments: str) -> Any:
        """``format("s3://bucket-%s/key", data.aws_region.current.name)``: ``%s``/``%d``/``%v`` filled in order,
        ``%%`` a literal ``%``; any other verb (widths, ``%[2]s``) leaves the whole value unknown."""
        parts = _split_arguments(arguments)
        if not parts or not (parts[0].startswith('"') and parts[0].endswith('"')):
            return Unknown(f"format({arguments[:50]})")
        pattern = self._template(parts[0][1:-1])
        if not isinstance(pattern, str):
            return Unknown(f"format({arguments[:50]})")
        values = [self.expression(part) for part in parts[1:]]
        pieces: list[str | Unknown] = []
        for index, chunk in enumerate(re.split(r"(%%|%[sdv]|%)", pattern)):
            if index % 2 == 0:
                pieces.append(chunk)
            elif chunk == "%%":
                pieces.append("%")
            elif chunk == "%" or not values:
                return Unknown(f"format({arguments[:50]})")
            else:
                value = values.pop(0)
                value = ("true" if value else "false") if isinstance(value, bool) else value
                pieces.extend(value.parts if isinstance(value, Pieces) else
                              (str(value) if isinstance(value, int | float) else value,))
        if all(isinstance(piece, str) for piece in pieces):
            return "".join(piece for piece in pieces if isinstance(piece, str))
        return Pieces(tuple(pieces))

    def _template(self, text: str) -> Any:
        """A quoted string: literal text and ``${...}`` interpolations (``$${`` is a literal ``${``)."""
        parts: list[str | Unknown] = []
        position = 0
        literal = ""
        while position < len(text):
            if text.startswith("$${", position):
                literal += "${"
                position += 3
            elif text.startswith("${", position):
                end = _closing(text, position + 2)
                if end < 0:
                    return Unknown(text[:60])
                inner = self.expression(text[position + 2:end])
                if isinstance(inner, bool):
                    inner = "true" if inner else "false"
                if isinstance(inner, str | int | float):
                    literal += str(inner)
                else:
                    parts.append(literal)
                    literal = ""
                    parts.extend(inner.parts if isinstance(inner, Pieces) else
                                 (inner if isinstance(inner, Unknown) else Unknown(text[position:end + 1][:60]),))
                position = end + 1
            elif text.startswith("%{", position):
                return Unknown(text[:60])  # a template directive: the value depends on it
            else:
                literal += text[position]
                position += 1
        parts.append(literal.replace('\\"', '"').replace("\\\\", "\\"))
        if all(isinstance(part, str) for part in parts):
            return "".join(part for part in parts if isinstance(part, str))
        return Pieces(tuple(parts))


def _split_arguments(text: str) -> list[str]:
    """A function call's arguments, split at the commas outside strings, brackets and parentheses."""
    parts, depth, quoted, start, index = [], 0, False, 0, 0
    while index < len(text):
        char = text[index]
        if quoted and char == "\\":
            index += 2
            continue
        if char == '"':
            quoted = not quoted
        elif not quoted and char in "([{":
            depth += 1
        elif not quoted and char in ")]}":
            depth -= 1
        elif not quoted and depth == 0 and char == ",":
            parts.append(text[start:index].strip())
            start = index + 1
        index += 1
    parts.append(text[start:].strip())
    return [part for part in parts if part]


def _closing(text: str, start: int) -> int:
    """The index of the ``}`` closing an interpolation whose body starts at ``start`` (-1 if none)."""
    depth = 1
    quoted = False
    index = start
    while index < len(text):
        char = text[index]
        if char == "\\":
            index += 2
            continue
        if char == '"':
            quoted = not quoted
        elif not quoted and char == "{":
            depth += 1
        elif not quoted and char == "}":
            depth -= 1
            if depth == 0:
                return index
        index += 1
    return -1


def to_request(arguments: Mapping[str, Any], *, blocks: bool) -> dict[str, Any]:
    """A resource's arguments (values already converted) as the API's request."""
    request: dict[str, Any] = {}
    for key, value in arguments.items():
        if key == "dynamic" and isinstance(value, list):
            for dynamic in value:  # dynamic "container" { for_each = ...; content { ... } }
                for name, body in (dynamic.items() if isinstance(dynamic, dict) else ()):
                    content = body.get("content") if isinstance(body, dict) else None
                    contents = content if isinstance(content, list) else [content] if content is not None else []
                    _put(request, _unquote(name), [_convert(item, blocks=blocks) for item in contents], blocks)
            continue
        _put(request, key, _convert(value, blocks=blocks), blocks)
    return request


def _put(request: dict[str, Any], key: str, value: Any, blocks: bool) -> None:
    if value == [] or value is None:  # no block given (a plan lists an absent block as [])
        return
    if key in _BOOL_ARGUMENTS and isinstance(value, str) and value in _BOOL_STRINGS:
        value = _BOOL_STRINGS[value]  # Terraform (cty) converts these strings for a bool argument
    if key in _LIST_BLOCKS:
        items = value if isinstance(value, list) else [value]
        request.setdefault(_LIST_BLOCKS[key], []).extend(items)
    elif isinstance(value, list) and value and all(isinstance(item, dict) for item in value):
        request[pascal(key)] = value[0] if len(value) == 1 else value
    else:
        request[pascal(key)] = value


def _convert(value: Any, *, blocks: bool) -> Any:
    if isinstance(value, dict):
        return to_request(value, blocks=blocks)
    if isinstance(value, list):
        return [_convert(item, blocks=blocks) for item in value]
    return value


def _position(text: str, needle: re.Pattern[str]) -> tuple[int, int]:
    match = needle.search(text)
    if match is None:
        return 1, 1
    line = text.count("\n", 0, match.start()) + 1
    return line, match.start() - (text.rfind("\n", 0, match.start()) + 1) + 1


def _variables(document: Mapping[str, Any]) -> dict[str, tuple[str, ...]]:
    """Each variable's allowed values, when a ``contains([...], var.x)`` validation limits them."""
    allowed: dict[str, tuple[str, ...]] = {}
    for block in document.get("variable") or ():
        for name, body in (block.items() if isinstance(block, dict) else ()):
            validations = body.get("validation") if isinstance(body, dict) else None
            for validation in validations or ():
                condition = validation.get("condition") if isinstance(validation, dict) else None
                match = _CONTAINS.match(condition) if isinstance(condition, str) else None
                if match and match.group(2) == _unquote(name):
                    try:
                        values = json.loads(match.group(1))
                    except ValueError:
                        continue
                    if isinstance(values, list) and all(isinstance(v, str | bool | int) for v in values):
                        allowed[_unquote(name)] = tuple(str(v).lower() if isinstance(v, bool) else str(v)
                                                        for v in values)
    return allowed


def _locals(document: Mapping[str, Any]) -> dict[str, Any]:
    found: dict[str, Any] = {}
    for block in document.get("locals") or ():
        if isinstance(block, dict):
            found.update({key: value for key, value in block.items() if key not in _META_KEYS})
    return found


def _resources(document: Mapping[str, Any]) -> Iterator[tuple[str, str, Mapping[str, Any]]]:
    for block in document.get("resource") or ():
        for resource_type, named in (block.items() if isinstance(block, dict) else ()):
            for name, body in (named.items() if isinstance(named, dict) else ()):
                if isinstance(body, dict):
                    yield _unquote(resource_type), _unquote(name), body


def is_sagemaker_type(resource_type: str) -> bool:
    return resource_type.startswith(_SAGEMAKER_TYPES)


def read_tf(path: str, text: str, *, strict: bool) -> SurfaceScan:
    """The SageMaker resources of one ``.tf`` file, judged."""
    if "sagemaker" not in text:
        return scan_requests(path, (), strict=strict)
    import hcl2
    from hcl2.utils import SerializationOptions

    try:
        document = hcl2.loads(text, serialization_options=SerializationOptions(
            with_comments=False, preserve_heredocs=False))
    except Exception as error:  # lark's errors have no common base we can name without importing lark
        return scan_requests(path, (), strict=strict, extra=(
            unreadable_finding(SURFACE, path, getattr(error, "line", 1) or 1,
                               f"it is not valid HCL ({str(error).splitlines()[0][:200]})", strict=strict),))
    values = _Values(_variables(document), _locals(document))
    requests = []
    for resource_type, name, body in _resources(document):
        if not is_sagemaker_type(resource_type):
            continue
        arguments = values.value(body)
        line, column = _position(text, re.compile(
            rf'resource\s+"{re.escape(resource_type)}"\s+"{re.escape(name)}"'))
        requests.append(SurfaceRequest(SURFACE, f"{resource_type}.{name}", resource_type,
                                       to_request(arguments, blocks=True), line, column, respell=snake_path))
    return scan_requests(path, requests, strict=strict)


_BLOCK_NAMES = {plural: block for block, plural in _LIST_BLOCKS.items() if not block.endswith("s")}
_WORD = re.compile(r"[A-Z][a-z0-9]*|[a-z0-9]+")


def snake_path(path: str) -> str:
    """An API path in Terraform's words: ``PrimaryContainer.ModelDataSource.S3DataSource`` ->
    ``primary_container.model_data_source.s3_data_source``, ``Containers[0]`` -> ``container[0]``."""
    def part(piece: str) -> str:
        name, bracket, index = piece.partition("[")
        snake = _BLOCK_NAMES.get(name) or "_".join(word.lower() for word in _WORD.findall(name))
        return snake + bracket + index
    return ".".join(part(piece) for piece in path.split("."))


def is_plan(document: Any) -> bool:
    """A plan (``terraform show -json plan.out``) or a state (``terraform show -json``): both carry their
    resources' values in a root module."""
    return isinstance(document, dict) and "format_version" in document and (
        "planned_values" in document or "resource_changes" in document or "values" in document)


def read_plan(path: str, text: str, document: Mapping[str, Any], *, strict: bool) -> SurfaceScan:
    """The SageMaker resources of a plan (``terraform show -json``): its planned values, with what is known
    only after apply as unknown."""
    unknown_after: dict[str, Any] = {}
    for change in document.get("resource_changes") or ():
        if isinstance(change, dict) and isinstance(change.get("change"), dict):
            unknown_after[str(change.get("address"))] = change["change"].get("after_unknown") or {}
    requests = []
    for resource in _planned(document.get("planned_values", document.get("values"))):
        resource_type = resource.get("type")
        if resource.get("mode", "managed") != "managed" or not isinstance(resource_type, str) \
                or not is_sagemaker_type(resource_type):
            continue
        address = str(resource.get("address"))
        values = _with_unknowns(resource.get("values") or {}, unknown_after.get(address, {}), address)
        line, column = _position(text, re.compile(rf'"address"\s*:\s*{re.escape(json.dumps(address))}'))
        requests.append(SurfaceRequest(SURFACE, address, f"{resource_type} (plan)",
                                       to_request(values, blocks=False), line, column, respell=snake_path))
    return scan_requests(path, requests, strict=strict)


def _planned(values: Any) -> Iterator[dict[str, Any]]:
    modules = [values.get("root_module")] if isinstance(values, dict) else []
    while modules:
        module = modules.pop(0)
        if not isinstance(module, dict):
            continue
        yield from (resource for resource in module.get("resources") or () if isinstance(resource, dict))
        modules.extend(module.get("child_modules") or ())


def _with_unknowns(values: Any, unknown: Any, where: str) -> Any:
    if unknown is True:
        return Unknown(where)
    if isinstance(values, dict):
        result = {key: _with_unknowns(item, unknown.get(key) if isinstance(unknown, dict) else None,
                                      f"{where}.{key}") for key, item in values.items() if item is not None}
        if isinstance(unknown, dict):
            result.update({key: Unknown(f"{where}.{key}") for key, flag in unknown.items()
                           if flag is True and values.get(key) is None})
        return result
    if isinstance(values, list):
        flags = unknown if isinstance(unknown, list) else []
        return [_with_unknowns(item, flags[index] if index < len(flags) else None, f"{where}[{index}]")
                for index, item in enumerate(values)]
    return values
