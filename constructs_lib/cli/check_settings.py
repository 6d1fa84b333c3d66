"""The settings of ``eulagate check`` that CI pins: which rules run (``select``/``ignore``), which severity fails
the run (``fail-on``) and ``strict``; from the command line and from ``[tool.eulagate]`` in ``pyproject.toml``.

The file is found as ruff finds its own: the nearest ``pyproject.toml`` with a ``[tool.eulagate]`` table, walking
up from the current directory. A flag given on the command line wins over the file. Every mistake (an unknown
key, an unknown rule id, a value of the wrong kind) is bad input: one line naming the file or flag and the fix.
"""

from __future__ import annotations

import argparse
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from constructs_lib.catalog.errors import did_you_mean
from constructs_lib.errors import InputError
from constructs_lib.files import DIRECTORY, MISSING, UnreadableFile, decode_text, read_file_bytes
from constructs_lib.records import Record, replace
from constructs_lib.rules import RULE_IDS, TemplateScan
from constructs_lib.rules.finding import normalized_rule_id

CONFIG_FILE = "pyproject.toml"
CONFIG_TABLE = "eulagate"
# A pyproject.toml holds a project's metadata and its tools' settings: kilobytes, tens of them at most. The walk up
# reads every one it meets, so a bigger one (or /dev/zero linked there) is refused before it is read.
MAX_CONFIG_BYTES = 1024 * 1024
FAIL_ON = ("error", "warning")
KEYS = ("select", "ignore", "fail-on", "strict")
_BARE_KEY_CHARACTERS = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-")


def known_rule(rule_id: str, where: str) -> str:
    """``rule_id`` normalized (``eula005`` is EULA005); ``InputError`` naming ``where`` when no rule has it."""
    normalized = normalized_rule_id(rule_id)
    if normalized in RULE_IDS:
        return normalized
    raise InputError(f"{where}: unknown rule {rule_id!r}{did_you_mean(normalized, RULE_IDS)} "
                     f"(the rules are {RULE_IDS[0]}-{RULE_IDS[-1]}; `eulagate rules` lists them)")


class CheckSettings(Record):
    """What one run of ``eulagate check`` reports and fails on."""

    select: frozenset[str] | None  # None: every rule
    ignore: frozenset[str]
    fail_on: str
    strict: bool
    source: Path | None  # the pyproject.toml the settings came from, if any

    def __init__(self, select: frozenset[str] | None = None, ignore: frozenset[str] = frozenset(),
                 fail_on: str = "error", strict: bool = False, source: Path | None = None) -> None:
        vars(self).update(select=select, ignore=ignore, fail_on=fail_on, strict=strict, source=source)

    def reports(self, rule_id: str) -> bool:
        """Whether findings of ``rule_id`` are reported (and can fail the run)."""
        return (self.select is None or rule_id in self.select) and rule_id not in self.ignore

    def selected(self, scan: TemplateScan) -> TemplateScan:
        """``scan`` with only the findings (and suppressed warnings) of the rules reported."""
        if self.select is None and not self.ignore:
            return scan
        return replace(
            scan,
            findings=tuple(finding for finding in scan.findings if self.reports(finding.rule_id)),
            suppressed=tuple(entry for entry in scan.suppressed if self.reports(entry.finding.rule_id)),
        )

    def fails_on(self, severity: str) -> bool:
        """Whether a reported finding of ``severity`` makes the run exit 1."""
        return severity == "error" or (self.fail_on == "warning" and severity == "warning")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The flags of these settings; each defaults to None so that an absent flag leaves the file's value."""
    # As ruff's: comma-separated and repeatable, so a rule list never swallows the paths that follow it.
    parser.add_argument("--select", action="extend", type=_rule_list, metavar="RULE[,RULE...]",
                        help="report only these rules (default: all; [tool.eulagate] select in pyproject.toml)")
    parser.add_argument("--ignore", action="extend", type=_rule_list, metavar="RULE[,RULE...]",
                        help="do not report these rules ([tool.eulagate] ignore in pyproject.toml)")
    parser.add_argument("--fail-on", choices=FAIL_ON,
                        help="exit 1 on a finding of this severity or worse (default: error)")
    parser.add_argument("--strict", action="store_true", default=None,
                        help="an unknown (a location unknown before deployment, a model the catalog does not "
                             "know) is an error, not a warning")


def _rule_list(text: str) -> list[str]:
    return [item for item in (part.strip() for part in text.split(",")) if item]


def find_config(start: Path) -> tuple[Path, Any] | None:
    """The nearest pyproject.toml at or above ``start`` that has a [tool.eulagate] table, with that table (the
    file is read and parsed once)."""
    for directory in (start, *start.parents):
        candidate = directory / CONFIG_FILE
        text = _config_text(candidate)
        if text is None:
            continue
        tools = _tool_tables(candidate, text)
        if CONFIG_TABLE in tools:
            return candidate, tools[CONFIG_TABLE]
    return None


def _config_text(path: Path) -> str | None:
    """The text of the pyproject.toml at ``path``, or None when there is none (or a directory of that name). A
    file that is there but cannot be read (a FIFO, a device, too big) is bad input: it may hold the settings, and
    a check never guesses them."""
    try:
        data = read_file_bytes(path, limit=MAX_CONFIG_BYTES, limit_note="(a pyproject.toml is kilobytes)",
                               reads=f"eulagate check reads its settings from a regular {CONFIG_FILE} only")
    except UnreadableFile as refused:
        if refused.reason in (MISSING, DIRECTORY):
            return None
        raise
    return decode_text(path, data)


def _tool_tables(path: Path, text: str) -> Mapping[str, Any]:
    if not may_hold_config_table(text):
        # Another tool's pyproject.toml (the project's own, say): importing tomllib costs more than a short check.
        return {}
    import tomllib

    try:
        document = tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        raise InputError(f"{path}: not valid TOML ({error})") from None
    except RecursionError:  # tomllib reads nested arrays and inline tables by recursion
        raise InputError(f"{path}: not valid TOML (values nested too deeply to read)") from None
    tool = document.get("tool")
    return tool if isinstance(tool, Mapping) else {}


def may_hold_config_table(text: str) -> bool:
    """False only when a TOML text provably defines no ``tool.eulagate`` key, in any spelling.

    A line-by-line reading of the plain layout pyproject files have: headers and ``key = value`` lines with bare or
    quoted dotted keys, and values that may continue over lines inside brackets or braces. Anything else (a
    multi-line string, an escape in a key, a line it cannot read) answers True, and tomllib reads the file.
    """
    if CONFIG_TABLE not in text and "\\" not in text:  # a key is spelled literally or with escapes
        return False
    table: list[str] = []
    depth = 0  # brackets and braces a value leaves open for the next lines
    for line in text.split("\n"):
        if depth:
            depth = _value_depth(line, depth)
            if depth < 0:
                return True
            continue
        line = line.removesuffix("\r").strip(" \t")
        if not line or line.startswith("#"):
            continue
        if line.startswith("["):
            array = line.startswith("[[")
            read = _dotted_key(line[2 if array else 1:], "]")
            if read is None:
                return True
            table, rest = read
            rest = (rest.removeprefix("]") if array else rest).strip(" \t")
            if (rest and not rest.startswith("#")) or table[:2] == ["tool", CONFIG_TABLE]:
                return True
            continue
        read = _dotted_key(line, "=")
        if read is None:
            return True
        keys, rest = read
        path = [*table, *keys]
        if path == ["tool"] or path[:2] == ["tool", CONFIG_TABLE]:
            return True
        depth = _value_depth(rest, 0)
        if depth < 0:
            return True
    return depth != 0


def _dotted_key(text: str, end: str) -> tuple[list[str], str] | None:
    """The keys of ``a . "b" . 'c'`` up to ``end``, and the text after it; None where it is not that plain form."""
    keys: list[str] = []
    index = 0
    while True:
        while text[index:index + 1] in (" ", "\t") and index < len(text):
            index += 1
        quote = text[index:index + 1]
        if quote in ('"', "'"):
            close = text.find(quote, index + 1)
            if close < 0 or "\\" in text[index + 1:close]:
                return None
            keys.append(text[index + 1:close])
            index = close + 1
        else:
            start = index
            while index < len(text) and text[index] in _BARE_KEY_CHARACTERS:
                index += 1
            if index == start:
                return None
            keys.append(text[start:index])
        while text[index:index + 1] in (" ", "\t") and index < len(text):
            index += 1
        following = text[index:index + 1]
        if following == end:
            return keys, text[index + 1:]
        if following != ".":
            return None
        index += 1


def _value_depth(text: str, depth: int) -> int:
    """The open brackets and braces after a value's text, from ``depth`` before it; -1 where it cannot tell (a
    multi-line or unterminated string, a closing bracket too many)."""
    index = 0
    while index < len(text):
        char = text[index]
        if char == "#":
            break
        if char in ('"', "'"):
            if text.startswith(char * 3, index):
                return -1
            index += 1
            while index < len(text) and text[index] != char:
                index += 2 if char == '"' and text[index] == "\\" else 1
            if index >= len(text):
                return -1
        elif char in "[{":
            depth += 1
        elif char in "]}":
            depth -= 1
            if depth < 0:
                return -1
        index += 1
    return depth


def _file_settings(path: Path, table: Any) -> dict[str, Any]:
    """The settings of ``table``, the [tool.eulagate] table read from ``path``."""
    where = f"{path}: [tool.{CONFIG_TABLE}]"
    if not isinstance(table, Mapping):
        raise InputError(f"{where} must be a table")
    for key in table:
        if key not in KEYS:
            raise InputError(f"{where}: unknown key {key!r}{did_you_mean(str(key), KEYS)} "
                             f"(the keys are {', '.join(KEYS)})")
    settings: dict[str, Any] = {}
    for key in ("select", "ignore"):
        if key in table:
            value = table[key]
            if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
                raise InputError(f"{where} {key}: a list of rule ids is expected, e.g. {key} = [\"EULA005\"]")
            settings[key] = [known_rule(item, f"{where} {key}") for item in value]
    if "fail-on" in table:
        if table["fail-on"] not in FAIL_ON:
            raise InputError(f"{where} fail-on: {table['fail-on']!r} is not one of {', '.join(FAIL_ON)}")
        settings["fail_on"] = table["fail-on"]
    if "strict" in table:
        if not isinstance(table["strict"], bool):
            raise InputError(f"{where} strict: true or false is expected")
        settings["strict"] = table["strict"]
    return settings


def resolve(args: argparse.Namespace, cwd: Path | None = None) -> CheckSettings:
    """The settings of this run: the flags, over the nearest [tool.eulagate] table, over the defaults."""
    found = find_config((cwd or Path.cwd()).resolve())
    source = found[0] if found else None
    values = _file_settings(*found) if found else {}
    if args.select is not None:
        values["select"] = [known_rule(item, "--select") for item in args.select]
    if args.ignore is not None:
        values["ignore"] = [known_rule(item, "--ignore") for item in args.ignore]
    if args.fail_on is not None:
        values["fail_on"] = args.fail_on
    if args.strict is not None:
        values["strict"] = args.strict
    select = values.pop("select", None)
    return CheckSettings(
        select=frozenset(select) if select is not None else None,
        ignore=frozenset(values.pop("ignore", ())),
        source=source,
        **values,
    )
