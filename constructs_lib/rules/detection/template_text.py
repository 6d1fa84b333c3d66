"""CloudFormation template text (JSON, or YAML with the short forms) to a plain dict, as CloudFormation reads it.

Pure Python (json; PyYAML, through ``template_yaml``, only once YAML text is met). The rule engine uses it for
templates held inside templates (a StackSet's ``TemplateBody``); ``constructs_lib.synth.templates`` for files. Bad
text raises ``TemplateTextError`` with one line (the caller adds the file name): a JSON or YAML syntax error with
its position, YAML that CloudFormation refuses (aliases, merge keys, the binary, omap, pairs, set and timestamp
tags), a typed scalar that is not of its type (``!!float x``), nesting deeper than any template needs, text longer
than any template CloudFormation takes.
"""

from __future__ import annotations

import json
import sys
from typing import Any

from constructs_lib.errors import EulaGateError
from constructs_lib.patterns import compile_on_use

# CloudFormation takes template bodies of at most 1 MB (S3-hosted ones too); assemblies hold bigger files only
# when CDK writes assets beside them. Anything past this is refused before it is parsed (or searched).
MAX_TEMPLATE_CHARS = 16 * 1024 * 1024
_OPENS_AS_JSON = compile_on_use(r"\s*\{")
# A \\u escape of a UTF-16 surrogate; JSON may pair two into one character, or leave one alone.
_SURROGATE_ESCAPE = compile_on_use(r"\\u[dD][89a-fA-F][0-9a-fA-F]{2}")


class TemplateTextError(EulaGateError, ValueError):
    """Template text that cannot be read: one line, without the file name."""



def opens_as_json(text: str) -> bool:
    return _OPENS_AS_JSON.match(text) is not None  # a match, not text.lstrip(): no copy of a big text


def parse_json_text(text: str) -> Any:
    """JSON text; ``TemplateTextError`` naming the line and column of a syntax error."""
    _check_length(text)
    try:
        document = json.loads(text)
    except json.JSONDecodeError as error:
        raise TemplateTextError(
            f"malformed JSON at line {error.lineno} column {error.colno}: {error.msg}") from None
    except RecursionError:
        raise TemplateTextError("malformed JSON: nested too deeply to read") from None
    except ValueError:  # int() refuses integers of more than sys.get_int_max_str_digits() (4,300) digits
        raise TemplateTextError(f"malformed JSON: an integer of more than {sys.get_int_max_str_digits():,} "
                                "digits, which no template property takes") from None
    # A backslash first (a scan for one character, twenty times faster): most templates hold none.
    if "\\" in text and _SURROGATE_ESCAPE.search(text) and _holds_lone_surrogate(document):
        raise TemplateTextError("malformed JSON: a \\u escape of half a UTF-16 surrogate pair (a lone surrogate), "
                                "which is not a character")
    return document


def _holds_lone_surrogate(document: Any) -> bool:
    """Whether a string (key or value) of ``document`` holds a lone surrogate: text that no UTF-8 output, file or
    hash can carry. Walked without recursion; only called when the text has a surrogate escape."""
    pending = [document]
    while pending:
        value = pending.pop()
        if isinstance(value, dict):
            pending.extend(value.keys())
            pending.extend(value.values())
        elif isinstance(value, list):
            pending.extend(value)
        elif isinstance(value, str):
            try:
                value.encode("utf-8")
            except UnicodeEncodeError:
                return True
    return False


def parse_yaml_text(text: str) -> Any:
    """YAML text as CloudFormation reads it; ``TemplateTextError`` naming the line and column of a problem."""
    _check_length(text)
    # Imported on the first YAML text: PyYAML's import costs more than a JSON assembly's whole check.
    import yaml

    from constructs_lib.rules.detection.template_yaml import CloudFormationLoader

    try:
        return yaml.load(text, Loader=CloudFormationLoader)  # a SafeLoader subclass: no arbitrary objects
    except yaml.MarkedYAMLError as error:
        mark = error.problem_mark or error.context_mark
        where = f" at line {mark.line + 1} column {mark.column + 1}" if mark else ""
        problem = error.problem or error.context or "cannot parse"
        raise TemplateTextError(f"malformed YAML{where}: {problem}") from None
    except (yaml.YAMLError, RecursionError) as error:
        first_line = (str(error).splitlines() or [type(error).__name__])[0]
        raise TemplateTextError(f"malformed YAML: {first_line}") from None


def parse_template_text(text: str, *, json_expected: bool = False) -> Any:
    """Template text in either format, whatever a file's name says (CloudFormation reads both).

    Text that opens with ``{`` (or comes from a ``.json`` file) is tried as JSON first, then as YAML, whose flow
    style also opens with ``{``; when YAML does not read it as a mapping of values either, the JSON error is
    the one reported.
    """
    _check_length(text)
    if not (json_expected or opens_as_json(text)):
        return parse_yaml_text(text)
    try:
        return parse_json_text(text)
    except TemplateTextError as json_error:
        try:
            document = parse_yaml_text(text)
        except TemplateTextError:
            raise json_error from None
        # Broken JSON that YAML happens to read (`{"Resources": }` is a null) is still broken JSON.
        if not isinstance(document, dict) or any(value is None for value in document.values()):
            raise json_error from None
        return document


def _check_length(text: str) -> None:
    if len(text) > MAX_TEMPLATE_CHARS:
        raise TemplateTextError(
            f"{len(text):,} characters, more than the {MAX_TEMPLATE_CHARS:,} EulaGate reads "
            "(CloudFormation takes template bodies of at most 1 MB)")
