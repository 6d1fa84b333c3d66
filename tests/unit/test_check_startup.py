"""What ``eulagate check`` loads to read a cloud assembly: only what that run needs (issue 19's speed target at
``--stacks 3``, where start-up dominates). The bench measures the time; this pins the modules, so a change that
pulls a heavy module back onto the check path fails here, not only as a slower bench."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]
ASSEMBLY = ROOT / "tests/fixtures/templates/cloud-assembly"
# Runs the CLI, then lists every module the process holds.
RUN_AND_LIST_MODULES = """
import builtins, json, sys
compiled = []  # what was compiled, but modules (whose bytecode the test may find stale or not written yet)
compile_source = builtins.compile


def counting_compile(source, *rest, **options):
    if "importlib" not in sys._getframe(1).f_code.co_filename:
        compiled.append(str(source))
    return compile_source(source, *rest, **options)


builtins.compile = counting_compile
from constructs_lib.cli import main
code = main(sys.argv[1:])
print(json.dumps({"exit": code, "modules": sorted(sys.modules), "compiled": compiled}))
"""

# Never needed to check CloudFormation and report it as JSON: dataclasses (with inspect, ast, dis, tokenize) costs
# more than a third of a short run; the others serve other subcommands, surfaces, formats or rare paths.
NOT_LOADED = (
    "dataclasses", "inspect", "ast", "dis", "tokenize",
    "gzip", "base64", "shutil", "bz2", "lzma", "tomllib", "difflib", "tempfile", "yaml", "jsonata", "hcl2",
    "constructs_lib.table", "constructs_lib.constructs", "constructs_lib.props", "constructs_lib.hook",
    "constructs_lib.cli.models", "constructs_lib.cli.plan", "constructs_lib.cli.rules", "constructs_lib.cli.explain",
    "constructs_lib.cli.reporters.text", "constructs_lib.cli.reporters.sarif", "constructs_lib.cli.reporters.junit",
    "constructs_lib.surfaces.python_source", "constructs_lib.surfaces.terraform",
    "constructs_lib.surfaces.kubernetes", "constructs_lib.surfaces.requests",
    "constructs_lib.catalog.hyperparameters", "constructs_lib.catalog.refresh", "constructs_lib.catalog.build",
    # Step Functions, pipeline and SSM Automation reading: only a template with one of those loads them.
    "constructs_lib.rules.detection.state_flow", "constructs_lib.rules.evaluation.jsonata_reading",
    "constructs_lib.rules.evaluation.runtime_values",
)


@pytest.fixture(scope="module")
def run(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    report = tmp_path_factory.mktemp("report") / "report.json"
    result = subprocess.run(
        [sys.executable, "-c", RUN_AND_LIST_MODULES, "check", "--format", "json", "--output", str(report),
         str(ASSEMBLY)],
        cwd=ROOT, capture_output=True, text=True, timeout=120, check=False,
    )
    listed = json.loads(result.stdout.splitlines()[-1])
    assert listed["exit"] == 1, result.stderr  # the assembly has findings: the whole path ran, reporting included
    assert json.loads(report.read_text(encoding="utf-8"))["summary"]["findings"] > 0
    return dict(listed)


@pytest.fixture(scope="module")
def loaded(run: dict[str, Any]) -> set[str]:
    return set(run["modules"])


@pytest.mark.parametrize("module", NOT_LOADED)
def test_checking_an_assembly_does_not_load(loaded: set[str], module: str) -> None:
    assert not {name for name in loaded if name == module or name.startswith(f"{module}.")}


def test_checking_compiles_no_source(run: dict[str, Any]) -> None:
    """No ``compile()`` at all: the first one in a process builds the ``ast`` module's node types (about 10M
    instructions). typing compiles each string annotation of a ``NamedTuple`` class and a ``TypeVar``'s string
    bound: the modules on the check path that define them do not use ``from __future__ import annotations``."""
    assert run["compiled"] == []


def test_the_guard_sees_what_the_check_loads(loaded: set[str]) -> None:
    assert {"constructs_lib.rules.engine", "constructs_lib.cli.reporters.json_report", "argparse"} <= loaded


@pytest.mark.parametrize("columns", [None, "", "100", "0", "wide"])
def test_the_help_is_as_wide_as_argparse_would_make_it(monkeypatch: pytest.MonkeyPatch, columns: str | None) -> None:
    """The CLI finds the terminal's width without shutil, and finds the one shutil would."""
    import shutil

    from constructs_lib.cli import _terminal_columns, build_parser

    if columns is None:
        monkeypatch.delenv("COLUMNS", raising=False)
    else:
        monkeypatch.setenv("COLUMNS", columns)
    assert _terminal_columns() == shutil.get_terminal_size().columns
    monkeypatch.setenv("COLUMNS", "70")
    assert max(len(line) for line in build_parser().format_help().splitlines()) <= 68


def test_a_pattern_compiled_on_use_answers_as_the_compiled_one() -> None:
    import copy
    import pickle
    import re

    from constructs_lib.patterns import compile_on_use

    lazy, compiled = compile_on_use(r"(?P<word>[a-z]+)-(\d+)", re.IGNORECASE), re.compile(r"(?P<word>[a-z]+)-(\d+)",
                                                                                            re.IGNORECASE)
    for text in ("Abc-12", "-12", "x abc-1"):
        assert bool(lazy.match(text)) == bool(compiled.match(text))
        assert lazy.findall(text) == compiled.findall(text) and lazy.sub("_", text) == compiled.sub("_", text)
    assert (lazy.pattern, lazy.flags, lazy.groupindex) == (compiled.pattern, compiled.flags, compiled.groupindex)
    assert copy.deepcopy(lazy) is lazy and pickle.loads(pickle.dumps(lazy)).fullmatch("a-1") is not None
    with pytest.raises(AttributeError):
        getattr(lazy, "no_such_method")  # noqa: B009
