"""Snapshot tests of the table fixtures: each bad table's one-line error, and the JSON Schema's verdict on each."""

from __future__ import annotations

import json
import re
from pathlib import Path

import jsonschema
import pytest
import yaml

from constructs_lib.table import SCHEMA_PATH, TableError, load_table

ROOT = Path(__file__).resolve().parents[2]
FIXTURES = ROOT / "tests" / "fixtures" / "tables"
GOOD_TABLES = [*sorted((FIXTURES / "good").glob("*.yaml")), ROOT / "models.yaml", ROOT / "examples" / "unaccepted.yaml",
               ROOT / "examples" / "regulated.yaml"]
BAD_TABLES = sorted((FIXTURES / "bad").glob("*.yaml"))


def expectations(path: Path) -> dict[str, str]:
    """The ``# key: value`` header of a bad fixture."""
    header = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        match = re.match(r"# ([a-z-]+): (.*)", line)
        if not match:
            break
        header[match.group(1)] = match.group(2)
    return header


@pytest.fixture(scope="module")
def validator() -> jsonschema.Draft202012Validator:
    schema = json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))
    jsonschema.Draft202012Validator.check_schema(schema)
    return jsonschema.Draft202012Validator(schema)


def schema_errors(validator: jsonschema.Draft202012Validator, path: Path) -> list[str] | None:
    """The schema's complaints, or None when the file is not YAML a schema could see."""
    try:
        document = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (yaml.YAMLError, ValueError):  # PyYAML raises ValueError for a typed tag that does not fit (!!float two)
        return None
    return [error.message for error in validator.iter_errors(document)]


def test_there_are_fixtures_for_each_side() -> None:
    assert len(GOOD_TABLES) >= 5
    assert len(BAD_TABLES) >= 30


@pytest.mark.parametrize("path", GOOD_TABLES, ids=lambda p: p.name)
def test_good_tables_load_and_match_the_schema(path: Path, validator: jsonschema.Draft202012Validator) -> None:
    table = load_table(path)
    assert table.rows
    assert schema_errors(validator, path) == []


@pytest.mark.parametrize("path", BAD_TABLES, ids=lambda p: p.stem)
def test_bad_table_error_snapshot(path: Path) -> None:
    expected = expectations(path)
    with pytest.raises(TableError) as caught:
        load_table(path)
    message = str(caught.value)
    assert "\n" not in message
    assert message.startswith(f"{path}:{expected['error-line']}: "), message
    assert expected["error"] in message, message
    assert caught.value.line == int(expected["error-line"])


@pytest.mark.parametrize("path", BAD_TABLES, ids=lambda p: p.stem)
def test_schema_verdict_on_bad_table(path: Path, validator: jsonschema.Draft202012Validator) -> None:
    expected = expectations(path)["schema"]
    errors = schema_errors(validator, path)
    if errors is None:  # not even YAML: nothing for a schema to accept
        assert expected == "invalid"
    else:
        assert (expected == "invalid") == bool(errors), errors
