"""The docs keep true: every fenced Python and shell example in README.md and docs/ runs, unless marked.

A block that is not meant to run (a synopsis with ``[optional]`` parts, a fragment of a larger app, a command
that needs AWS) says so on the line before its fence: ``<!-- not-run: the reason -->``. Every other
``python``/``bash``/``sh``/``shell`` block runs here, in a scratch copy of the project (symbolic links, and a
cloud assembly as ``./cdk.out``): Python blocks as one program; shell blocks one command at a time (``\\``
continues a line), each expected to exit 0, or N when its comment says ``# exit N``.
Numbers the docs state about the shipped catalog are compared with the catalog itself; rule ids, ranges and the
number of rules with the rule registry; the rows each example table holds with the table; and every model table
the docs show in a YAML block loads, as a reader would copy it.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest
import yaml

from constructs_lib.catalog import DEFAULT_CATALOG_PATH, Catalog
from constructs_lib.rules import RULES
from constructs_lib.table import load_table

ROOT = Path(__file__).resolve().parents[2]
DOCUMENTS = (ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md")))
ASSEMBLY = ROOT / "tests" / "fixtures" / "templates" / "cloud-assembly"
RUNNABLE_LANGUAGES = {"python": "python", "bash": "shell", "sh": "shell", "shell": "shell"}
FENCE = re.compile(r"^```(\S*)\s*$")
NOT_RUN = re.compile(r"^<!-- not-run: (.*\S) -->$")
EXPECTED_EXIT = re.compile(r"#\s*exit (\d+)\b")
SNIPPET_TIMEOUT_SECONDS = 600
# Commands that would reach AWS: never run from a doc, whatever its markers say (the block must be marked).
REACHES_AWS = re.compile(r"\bcdk deploy\b|\bcdk bootstrap\b|(^|[;&|]\s*)aws\s")


@dataclass(frozen=True)
class Snippet:
    document: Path
    line: int  # of the opening fence
    language: str  # "python" or "shell"
    code: str
    not_run: str | None  # the reason given, for blocks marked not to run

    @property
    def name(self) -> str:
        return f"{self.document.relative_to(ROOT)}:{self.line}"


def extract_snippets(document: Path) -> list[Snippet]:
    snippets = []
    lines = document.read_text(encoding="utf-8").splitlines()
    position = 0
    while position < len(lines):
        opening = FENCE.match(lines[position])
        if not opening:
            position += 1
            continue
        end = next(index for index in range(position + 1, len(lines)) if lines[index].startswith("```"))
        language = RUNNABLE_LANGUAGES.get(opening.group(1))
        if language is not None:
            previous = next((text for text in reversed(lines[:position]) if text.strip()), "")
            marker = NOT_RUN.match(previous.strip())
            snippets.append(Snippet(document, position + 1, language, "\n".join(lines[position + 1:end]) + "\n",
                                    marker.group(1) if marker else None))
        position = end + 1
    return snippets


SNIPPETS = [snippet for document in DOCUMENTS for snippet in extract_snippets(document)]
RUNNABLE = [snippet for snippet in SNIPPETS if snippet.not_run is None]


def shell_commands(code: str) -> list[tuple[str, int]]:
    """Each command of a shell block (continuation lines joined) and the exit status its comment expects."""
    commands: list[tuple[str, int]] = []
    pending = ""
    for line in code.splitlines():
        if line.rstrip().endswith("\\"):
            pending += line.rstrip()[:-1] + " "
            continue
        command = (pending + line).strip()
        pending = ""
        if command and not command.startswith("#"):
            expected = EXPECTED_EXIT.search(command)
            commands.append((command, int(expected.group(1)) if expected else 0))
    return commands


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The project seen through symbolic links, with the fixture cloud assembly as its own ./cdk.out."""
    directory = tmp_path_factory.mktemp("docs-project")
    for entry in ROOT.iterdir():
        if entry.name != "cdk.out":
            (directory / entry.name).symlink_to(entry)
    shutil.copytree(ASSEMBLY, directory / "cdk.out")
    return directory


def snippet_environment() -> dict[str, str]:
    path = os.pathsep.join((str(ROOT / ".venv" / "bin"), str(ROOT / "node_modules" / ".bin"), os.environ["PATH"]))
    return {**os.environ, "PATH": path, "AWS_EC2_METADATA_DISABLED": "true"}


def test_the_docs_have_runnable_examples_and_every_skipped_one_says_why() -> None:
    assert len(RUNNABLE) >= 8
    assert {snippet.language for snippet in RUNNABLE} == {"python", "shell"}
    for snippet in SNIPPETS:
        assert snippet.not_run is None or len(snippet.not_run) > 10, snippet.name


@pytest.mark.synth
@pytest.mark.parametrize("snippet", RUNNABLE, ids=lambda snippet: snippet.name)
def test_example_runs(snippet: Snippet, project: Path) -> None:
    if snippet.language == "python":
        result = subprocess.run([sys.executable, "-c", snippet.code], cwd=project, env=snippet_environment(),
                                capture_output=True, text=True, timeout=SNIPPET_TIMEOUT_SECONDS)
        assert result.returncode == 0, f"{snippet.name}:\n{result.stderr}"
        return
    for command, expected in shell_commands(snippet.code):
        assert not REACHES_AWS.search(command), f"{snippet.name}: `{command}` reaches AWS; mark its block not-run"
        result = subprocess.run(["bash", "-c", command], cwd=project, env=snippet_environment(),
                                capture_output=True, text=True, timeout=SNIPPET_TIMEOUT_SECONDS)
        assert result.returncode == expected, f"{snippet.name}: `{command}` exited {result.returncode}:\n" \
                                              f"{result.stdout}{result.stderr}"


def test_numbers_the_docs_give_about_the_catalog_come_from_it() -> None:
    catalog_file = DEFAULT_CATALOG_PATH
    models = list(Catalog.default())
    facts = {  # a pattern of the docs -> the number it must state
        r"about (\d+) KB": round(catalog_file.stat().st_size / 1000),
        r"(\d+) models of the catalog": sum(model.gated for model in models),
        r"(\d+) of the catalog's models": sum(model.gated for model in models),
        r"lists (\d+) models": len(models),
        r"\((\d+) in the shipped file\)": len(models),
        r"the (\d+) models (?:SageMaker )?Autopilot can fine-tune": len(Catalog.default().autopilot_models()),
        r"any of the (\d+) catalog models": len(models),
        r"one of the (\d+) Autopilot fine-tunes": len(Catalog.default().autopilot_models()),
    }
    stated = {pattern: [int(number) for document in DOCUMENTS
                        for number in re.findall(pattern, document.read_text(encoding="utf-8"))]
              for pattern in facts}
    assert all(stated.values()), {pattern: numbers for pattern, numbers in stated.items() if not numbers}
    assert {pattern: set(numbers) for pattern, numbers in stated.items()} == {
        pattern: {number} for pattern, number in facts.items()}


# -- rules: ids, ranges and counts come from the registry ---------------------------------------------------------

NUMBER_WORDS = {word: number for number, word in enumerate(
    ["zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten", "eleven", "twelve"])}
RULE_IDS = [rule.id for rule in RULES]
SEVERITY = {rule.id: rule.severity for rule in RULES}
# "EULA001-EULA004", "EULA001-004", "`EulaChecks-EULA000` ... `EulaChecks-EULA008`"
RULE_RANGE = re.compile(r"EULA(\d{3})(?:-(?:EULA)?|` \.\.\. `[\w:-]*EULA)(\d{3})")
RULE_COUNT = re.compile(r"\b(" + "|".join(NUMBER_WORDS) + r") (?:EULA )?rules\b", re.IGNORECASE)


def document_lines() -> list[tuple[str, str]]:
    return [(f"{document.relative_to(ROOT)}:{number}", line) for document in DOCUMENTS
            for number, line in enumerate(document.read_text(encoding="utf-8").splitlines(), start=1)]


def test_every_rule_id_the_docs_name_exists() -> None:
    named = {(where, rule_id) for where, line in document_lines() for rule_id in re.findall(r"EULA\d{3}", line)}
    assert {(where, rule_id) for where, rule_id in named if rule_id not in SEVERITY} == set()


def test_rule_ranges_are_all_the_rules_or_rules_of_one_severity() -> None:
    """A range is the registry's (EULA000-EULA008 today) or a run of rules of one severity, the one its line names."""
    ranges = [(where, line, f"EULA{start}", f"EULA{end}") for where, line in document_lines()
              for start, end in RULE_RANGE.findall(line)]
    assert ranges
    wrong = []
    for where, line, start, end in ranges:
        if start not in SEVERITY or end not in SEVERITY or start >= end:
            wrong.append((where, start, end, "not a range of rules"))
            continue
        covered = RULE_IDS[RULE_IDS.index(start):RULE_IDS.index(end) + 1]
        if covered == RULE_IDS:
            continue
        severities = {SEVERITY[rule_id] for rule_id in covered}
        named = {severity for severity in ("error", "warning") if re.search(rf"\b{severity}s?\b", line)}
        if len(severities) > 1 or (len(named) == 1 and named != severities):
            wrong.append((where, start, end, f"rules of severity {sorted(severities)} in a line about {named}"))
    assert wrong == []


def test_the_number_of_rules_the_docs_state_is_the_registrys() -> None:
    stated = [(where, match) for where, line in document_lines() for match in RULE_COUNT.findall(line)]
    assert stated
    assert [(where, word) for where, word in stated if NUMBER_WORDS[word.lower()] != len(RULES)] == []


# -- model tables: every table shown loads, every count of an example table's rows is true -------------------------

TABLE_KEYS = {"endpoints", "fine_tuning", "defaults", "environments"}


def yaml_blocks(document: Path) -> list[tuple[int, str, str | None]]:
    """``(line, text, not-run reason)`` of each ```yaml block."""
    lines = document.read_text(encoding="utf-8").splitlines()
    blocks = []
    for index, line in enumerate(lines):
        if line.strip() == "```yaml":
            end = next(position for position in range(index + 1, len(lines)) if lines[position].startswith("```"))
            previous = next((text for text in reversed(lines[:index]) if text.strip()), "")
            marker = NOT_RUN.match(previous.strip())
            blocks.append((index + 1, "\n".join(lines[index + 1:end]) + "\n", marker.group(1) if marker else None))
    return blocks


TABLE_BLOCKS = [(document, line, text) for document in DOCUMENTS for line, text, not_run in yaml_blocks(document)
                if not_run is None and isinstance(parsed := yaml.safe_load(text), dict) and TABLE_KEYS & set(parsed)]


def test_the_docs_show_model_tables() -> None:
    assert any(document.name == "model-table.md" for document, _, _ in TABLE_BLOCKS)


@pytest.mark.parametrize(("document", "line", "text"), TABLE_BLOCKS,
                         ids=[f"{d.relative_to(ROOT)}:{n}" for d, n, _ in TABLE_BLOCKS])
def test_a_model_table_the_docs_show_loads_when_copied(document: Path, line: int, text: str, tmp_path: Path) -> None:
    path = tmp_path / "models.yaml"
    path.write_text(text, encoding="utf-8")
    table = load_table(path)  # a TableError names the line of the block that is wrong
    assert table.rows


# "- `models.yaml`: six endpoints, three of them gated ..., and one fine-tuning row"
EXAMPLE_BULLET = re.compile(r"^- `([\w./-]+\.ya?ml)`: (.*?)(?=^- |^#|\Z)", re.MULTILINE | re.DOTALL)
NUMBER = r"(\d+|" + "|".join(NUMBER_WORDS) + r")"


def as_number(text: str) -> int:
    return int(text) if text.isdigit() else NUMBER_WORDS[text.lower()]


def test_the_counts_of_the_example_tables_come_from_the_files() -> None:
    bullets = [(path, text) for document in DOCUMENTS
               for path, text in EXAMPLE_BULLET.findall(document.read_text(encoding="utf-8"))]
    assert len(bullets) >= 3
    for path, text in bullets:
        table = load_table(ROOT / path)
        stated = {
            "endpoints": re.search(NUMBER + r" endpoints?\b", text),
            "fine-tuning rows": re.search(NUMBER + r" fine-tuning rows?\b", text),
            "gated endpoints": re.search(NUMBER + r" of them gated", text),
        }
        actual = {
            "endpoints": len(table.endpoints),
            "fine-tuning rows": len(table.fine_tuning),
            "gated endpoints": sum(row.spec.gated for row in table.endpoints),
        }
        assert stated["endpoints"] and stated["fine-tuning rows"], (path, text)
        assert {key: as_number(match.group(1)) for key, match in stated.items() if match} == {
            key: actual[key] for key, match in stated.items() if match}, path
