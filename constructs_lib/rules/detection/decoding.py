"""Documents held as text in the places a request can be: decoded as often as they were encoded, within a bound.

A request may be JSON text (an ``AwsCustomResource`` call, a Scheduler ``Input``), JSON text inside JSON text
(encoded twice, as ``JSON.stringify`` of a stringified body writes it), or YAML. A string *looks like a
document* when it is written as a JSON object or array (``{...``, ``[...]``), or as a JSON string holding one;
Automation parameters and dynamic references (``{{ Name }}``, ``{{resolve:ssm:...}}``) and JSONata expressions
(``{% ... %}``) do not, nor does text in braces that does not open a mapping with a key (``{model}-{version}``,
``{level}: {message}``, format strings): no JSON or YAML reading of it holds a request. Such a
string that cannot be read is reported (EULA007), whatever words it holds: what a request it hides asks for is
unknown.
"""

from __future__ import annotations

from typing import Any

from constructs_lib.errors import EulaGateError
from constructs_lib.patterns import compile_on_use
from constructs_lib.rules.detection.template_text import TemplateTextError, parse_template_text
from constructs_lib.rules.evaluation.values import ABSENT

# More layers of encoding than any sender writes; past them the value is reported, never passed.
MAX_DECODINGS = 4
# The key that stands, in a path of keys down a document, for "decode this string": no JSON key holds a NUL.
DECODED = "\0decoded"
_YAML_KEY_LINE = compile_on_use(r"[A-Za-z_][\w.-]*:(?:[ \t]|$)")
# How a mapping opens: a quoted key (JSON, YAML), ``}`` (empty), or a plain key and its ``:`` (YAML flow style).
_MAPPING_OPENING = compile_on_use(r"\{\s*(?:[\"'}]|[^\s\"'{}\[\],:][^{}\[\],:]*:)")


class Undecodable(EulaGateError, ValueError):
    """Text that looks like a document but cannot be read; the message completes "<location> ..."."""


def looks_like_document(text: str) -> bool:
    """Text written as a JSON object or YAML flow mapping (``{"a": ...``, ``{a: ...``, closed or not), an array
    (``[...]``, or ``[{...`` cut short), or as a JSON string holding one (``"{\\"a\\": 1}"``, a document encoded
    twice, closed or not). Cut-short text counts only with a key-value separator (``:``): without one no reading
    of it holds a mapping."""
    stripped = text.strip()
    if stripped[:2] in ("{{", "{%"):
        return False
    if stripped[:1] == "{":
        return _MAPPING_OPENING.match(stripped) is not None
    if stripped[:1] == "[":
        return stripped[-1] == "]" or (stripped[1:].lstrip()[:1] in ("{", "[", '"') and ":" in stripped)
    # Each encoding adds quotes and backslashes before the document's first character.
    return (len(stripped) > 2 and stripped[0] == '"' and stripped.lstrip('"\\ ')[:1] in ("{", "[")
            and (stripped[-1] == '"' or ":" in stripped))


def looks_like_yaml_block(text: str) -> bool:
    """Text of several lines whose first line is a YAML mapping key (``ModelName: x``), as a handler that
    ``yaml.safe_load``s a property would read it."""
    first = text.lstrip().partition("\n")
    return bool(first[1]) and _YAML_KEY_LINE.match(first[0]) is not None


def decode(text: str) -> Any:
    """The document a string holds, decoded again while the result is itself a document's text, at most
    ``MAX_DECODINGS`` times; ``Undecodable`` when a layer cannot be read or there are more layers."""
    value: Any = text
    for layer in range(MAX_DECODINGS):
        try:
            value = parse_template_text(value, json_expected=True)
        except TemplateTextError as error:
            again = " (after decoding it {} time{})".format(layer, "" if layer == 1 else "s") if layer else ""
            raise Undecodable(f"looks like a document but cannot be read{again}: {error}") from None
        if not (isinstance(value, str) and looks_like_document(value)):
            return value
    raise Undecodable(f"is a document encoded more than {MAX_DECODINGS} times, more than EulaGate decodes")


def follow(document: Any, keys: tuple[str | int, ...]) -> Any:
    """The part of a document ``keys`` lead to (``DECODED``: decode the text there), or ``ABSENT``."""
    for key in keys:
        if key == DECODED:
            document = decode(document) if isinstance(document, str) else ABSENT
        elif isinstance(key, int):
            document = document[key] if isinstance(document, list) and key < len(document) else ABSENT
        else:
            document = document.get(key, ABSENT) if isinstance(document, dict) else ABSENT
    return document


def decode_further(value: Any) -> Any:
    """A parsed document that is itself a document's text (a request encoded twice), decoded; else as it is."""
    return decode(value) if isinstance(value, str) and looks_like_document(value) else value
