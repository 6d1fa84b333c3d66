"""The docs keep true: every fenced Python and shell example in README.md and docs/ runs, unless marked.

A block that is not meant to run (a synopsis with ``[optional]`` parts, a fragment of a larger app, a command
that needs AWS) says so on the line before its fence: ``<!-- not-run: the reason -->``. Every other
``python``/``bash``/``sh``/``shell`` block runs here, in a scratch copy of the project (symbolic links, and a
cloud assembly as ``./cdk.out``): Python blocks as one program; shell blocks one command at a time (``\\``
continues a line), each expected to exit 0, or N when its comment says ``# exit N``.
Numbers the docs state about the shipped catalog are compared with the catalog itself.
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

from constructs_lib.catalog import DEFAULT_CATALOG_PATH, Catalog

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
    }
    stated = {pattern: [int(number) for document in DOCUMENTS
                        for number in re.findall(pattern, document.read_text(encoding="utf-8"))]
              for pattern in facts}
    assert all(stated.values()), {pattern: numbers for pattern, numbers in stated.items() if not numbers}
    assert {pattern: set(numbers) for pattern, numbers in stated.items()} == {
        pattern: {number} for pattern, number in facts.items()}
