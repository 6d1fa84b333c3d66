"""Reading the model table's YAML mappings: each reader returns a checked value or raises one ``TableError`` line
that names the file, the line, the row and the field.

``Fields`` is one mapping and where it sits (what its errors name); the ``read_*`` functions read one field of
it. Strings are bounded before any pattern runs on them, and values are quoted shortened, so a megabyte string
costs a length check and a 60-character quote, never a regex over it or a megabyte error line.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Collection, Sequence
from typing import Any, NoReturn

from constructs_lib.aws_names import ACCOUNT_PATTERN, s3_uri_problem
from constructs_lib.catalog import CatalogError
from constructs_lib.catalog.errors import nearest, suggestion
from constructs_lib.catalog.hyperparameters import describe_value
from constructs_lib.errors import TableError
from constructs_lib.table.yaml_source import QUOTE_LENGTH, YamlList, YamlMap, quote

MISSING: Any = object()
# Longer than any value a table needs (S3 URIs and container environment values stop at 1,024 characters).
MAX_STRING_LENGTH = 2048
# Keys starting with this prefix are the table author's own (YAML anchors to merge, notes); the loader skips them.
EXTENSION_PREFIX = "x-"


class Fields:
    """One YAML mapping of the table (or the value where a mapping is expected) and where it is."""

    def __init__(
        self, source: str, kind: str, label: str | None, value: Any, *, line: int, prefix: str = ""
    ) -> None:
        self.source = source
        self.kind = kind  # "table", "defaults", "endpoint", "fine_tuning", "environment"
        self.label = label  # "'name'" of a row, or "#3" before its name is known
        self.value = value
        self.line = getattr(value, "line", line)
        self.prefix = prefix  # "deploy." for the fields of a row's nested mapping

    def where(self) -> str:
        if self.kind == "table":
            return ""
        return f"{self.kind} {self.label}" if self.label else self.kind

    def line_of(self, field: str | None) -> int:
        if field is not None and isinstance(self.value, YamlMap):
            return self.value.line_of(field)
        return self.line

    def item_line(self, field: str, index: int) -> int:
        value = self.get(field)
        return value.line_of(index) if isinstance(value, YamlList) else self.line_of(field)

    def fail(self, field: str | None, message: str, *, line: int | None = None) -> NoReturn:
        line = line or self.line_of(field)
        where = self.where()
        if field is not None:
            field = field if len(field) <= QUOTE_LENGTH else quote(field)
            subject = f"field '{self.prefix}{field}'" if where or self.prefix else f"key '{field}'"
            where = f"{where} {subject}".strip()
        text = f"{self.source}:{line}: {where}: {message}" if where else f"{self.source}:{line}: {message}"
        raise TableError(text, source=self.source, line=line)

    def get(self, field: str) -> Any:
        return self.value.get(field, MISSING)

    # -- structure ----------------------------------------------------------------------------------------
    def require_mapping(self, expected: str) -> None:
        if not isinstance(self.value, dict):
            self.fail(None, f"expected {expected}, got {describe(self.value)}")

    def check_keys(self, allowed: Sequence[str], *, noun: str = "key", extensions: bool = False) -> None:
        """Every key is one of ``allowed`` (or, with ``extensions``, starts with ``x-``)."""
        for key in self.value:
            if key in allowed or (extensions and isinstance(key, str) and key.startswith(EXTENSION_PREFIX)):
                continue
            text = str(key)
            known = ", ".join(allowed)
            extension = f", or {EXTENSION_PREFIX}<anything> (ignored)" if extensions else ""
            self.fail(text, f"unknown {noun}{suggestion(text, allowed, limit=1)}; expected one of {known}{extension}")

    def nested(self, field: str, allowed: Sequence[str], *, kind: str | None = None) -> Fields | None:
        """The mapping under ``field`` (None when absent), its keys checked."""
        value = self.get(field)
        return None if value is MISSING else self.child(field, value, allowed, kind=kind)

    def child(
        self, field: str, value: Any, allowed: Sequence[str], *, kind: str | None = None, line: int | None = None
    ) -> Fields:
        """Fields of a nested mapping. Its errors keep this row's name and say ``field.key``, unless ``kind``
        starts a new subject (``defaults``)."""
        if not isinstance(value, dict):
            self.fail(field, f"expected a mapping with keys {', '.join(allowed)}, got {describe(value)}", line=line)
        nested = Fields(
            self.source, kind or self.kind, None if kind else self.label, value,
            line=line or self.line_of(field), prefix="" if kind else f"{self.prefix}{field}.",
        )
        nested.check_keys(allowed)
        return nested

    def rows(self, field: str, allowed: Sequence[str], kind: str) -> list[Fields]:
        """The rows listed under ``field``, each a mapping of ``allowed`` keys (plus ``x-`` keys)."""
        value = self.get(field)
        if value is MISSING:
            return []
        if not isinstance(value, list):
            self.fail(field, f"expected a list of {kind} rows (`- name: ...`), got {describe(value)}")
        rows = []
        for index, item in enumerate(value):
            row = Fields(self.source, kind, f"#{index + 1}", item, line=self.item_line(field, index))
            row.require_mapping(f"a mapping with keys {', '.join(allowed)}")
            name = item.get("name")
            if isinstance(name, str) and name and len(name) <= QUOTE_LENGTH:
                row.label = f"'{name}'"
            row.check_keys(allowed, extensions=True)
            rows.append(row)
        return rows


# -- scalar fields ----------------------------------------------------------------------------------------------

def read_string(fields: Fields, field: str, *, required: bool = False, choices: Collection[str] = ()) -> Any:
    """A non-empty string of at most ``MAX_STRING_LENGTH`` characters (one of ``choices`` when given)."""
    value = fields.get(field)
    if value is MISSING:
        if required:
            fields.fail(field, "required field is missing")
        return None
    if not isinstance(value, str) or not value:
        fields.fail(field, f"expected a non-empty string, got {describe(value)}")
    if len(value) > MAX_STRING_LENGTH:
        fields.fail(field, f"expected at most {MAX_STRING_LENGTH:,} characters, got {describe(value)}")
    if choices and value not in choices:
        hint = suggestion(value, choices)
        fields.fail(field, f"got {value!r}{hint}; expected one of {', '.join(choices)}" if hint
                    else f"expected one of {', '.join(choices)}, got {value!r}")
    return value


def read_name(fields: Fields, field: str, max_length: int, *, name_pattern: re.Pattern[str]) -> str:
    """A name of letters, digits and single hyphens (length checked before the pattern runs)."""
    name: str = read_string(fields, field, required=True)
    if len(name) > max_length or not name_pattern.match(name):
        fields.fail(field, f"expected 1 to {max_length} letters, digits and single hyphens "
                           f"(pattern [a-zA-Z0-9](-*[a-zA-Z0-9])*), got {quote(name)}")
    return name


def read_s3_uri(fields: Fields, field: str, *, required: bool = False) -> Any:
    value = read_string(fields, field, required=required)
    problem = None if value is None else s3_uri_problem(value)
    if problem:
        fields.fail(field, f"expected an S3 URI like s3://my-bucket/prefix/, got {quote(value)}: {problem}")
    return value


def read_integer(
    fields: Fields, field: str, *, default: Any = None, minimum: int = 0, maximum: int | None = None
) -> Any:
    value = fields.get(field)
    if value is MISSING:
        return default
    bounds = f"from {minimum} to {maximum}" if maximum is not None else f"of at least {minimum}"
    if isinstance(value, bool) or not isinstance(value, int) \
            or value < minimum or (maximum is not None and value > maximum):
        fields.fail(field, f"expected an integer {bounds}, got {describe(value)}")
    return value


def read_positive_number(fields: Fields, field: str, *, default: float | None = None) -> Any:
    """A finite number (integer or float) greater than 0; ``default`` when the field is absent."""
    value = _read_checked(fields, field, lambda value: not isinstance(value, bool) and isinstance(value, int | float)
                          and 0 < value < float("inf"), "a number greater than 0")
    return default if value is None else value


def read_boolean(fields: Fields, field: str) -> bool | None:
    return _read_checked(fields, field, lambda value: isinstance(value, bool),
                         "true or false (a YAML boolean, unquoted)")


def read_account(fields: Fields, field: str) -> str | None:
    return _read_checked(fields, field, lambda value: isinstance(value, str) and bool(ACCOUNT_PATTERN.match(value)),
                         'a 12-digit AWS account id as a quoted string ("123456789012")')


def read_mapping(fields: Fields, field: str) -> dict[Any, Any] | None:
    return _read_checked(fields, field, lambda value: isinstance(value, dict), "a mapping")


def _read_checked(fields: Fields, field: str, is_valid: Callable[[Any], bool], expected: str) -> Any:
    """The field's value when ``is_valid`` accepts it, None when absent; else one error saying what was expected."""
    value = fields.get(field)
    if value is MISSING:
        return None
    if not is_valid(value):
        fields.fail(field, f"expected {expected}, got {describe(value)}")
    return value


def read_string_list(
    fields: Fields, field: str, *, check: Callable[[str], None] | None = None, max_items: int | None = None
) -> tuple[str, ...]:
    """A non-empty list of distinct strings; ``check`` raises ``CatalogError`` (or ``ValueError``) for a bad item."""
    value = fields.get(field)
    if value is MISSING:
        return ()
    if not isinstance(value, list) or not value:
        fields.fail(field, f"expected a non-empty list of strings, got {describe(value)}")
    if max_items is not None and len(value) > max_items:
        fields.fail(field, f"expected at most {max_items} items, got {len(value)}")
    seen: set[str] = set()
    for index, item in enumerate(value):
        line = fields.item_line(field, index)
        if not isinstance(item, str) or not item or len(item) > MAX_STRING_LENGTH:
            fields.fail(f"{field}[{index}]", f"expected a non-empty string, got {describe(item)}", line=line)
        if item in seen:
            fields.fail(f"{field}[{index}]", f"{quote(item)} is listed twice", line=line)
        seen.add(item)
        if check is not None:
            try:
                check(item)
            except (CatalogError, ValueError) as error:
                fields.fail(f"{field}[{index}]", str(error), line=line)
    return tuple(value)


def catalog_check(
    fields: Fields, field: str, check: Callable[[str], object], value: str, *,
    note: str = "", line: int | None = None, choices: Collection[str] = (),
) -> None:
    """Run a catalog check of ``value``; its error (plus ``note``) becomes this field's one-line error, naming the
    nearest of ``choices`` before the list the error ends with."""
    try:
        check(value)
    except CatalogError as error:
        fields.fail(field, hinted(f"{error}{note}", value, choices), line=line)


# -- message helpers ---------------------------------------------------------------------------------------------

def did_you_mean(value: str, choices: Collection[str], *, limit: int = 3) -> str:
    """``; did you mean 'x'?`` for the nearest choices, or nothing: for the end of a message without a list."""
    hint = nearest(value, choices, limit)
    return f"; did you mean {', '.join(repr(h) for h in hint)}?" if hint else ""


def hinted(message: str, value: str, choices: Collection[str]) -> str:
    """``message`` (``what is wrong; supported things: a, b, ...``) with the nearest choices to ``value`` named
    before its list, or at its end when it has no list."""
    hint = suggestion(value, choices)
    head, separator, tail = message.rpartition("; ")
    if not hint:
        return message
    return f"{head}{hint}{separator}{tail}" if separator else f"{message}{hint}"


def describe(value: Any) -> str:
    """How an error names a value, shortened: a string of a million characters is quoted by its first 60."""
    if value is MISSING:
        value = None
    if isinstance(value, str) and len(value) > QUOTE_LENGTH:
        return f"a string ({quote(value)})"
    if isinstance(value, int) and not isinstance(value, bool) and abs(value) >= 10**QUOTE_LENGTH:
        return "an integer (too long to show)"
    if not isinstance(value, str | int | float | bool | dict | list | None):  # `!!binary`, `!!set`, `!!timestamp`
        return f"a YAML {type(value).__name__} value"
    return describe_value(value)
