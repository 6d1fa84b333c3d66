"""`eulagate models`: the Autopilot table, --all, and the JSON shape."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from constructs_lib.catalog import Catalog
from constructs_lib.cli import main


def run_json(capsys: pytest.CaptureFixture[str], *args: str) -> list[dict]:
    assert main(["models", "--format", "json", *args]) == 0
    return json.loads(capsys.readouterr().out)


def test_json_lists_the_18_autopilot_models_with_four_gated(capsys: pytest.CaptureFixture[str]) -> None:
    models = run_json(capsys)
    assert len(models) == 18
    assert set(models[0]) == {"model_id", "base_model_name", "gated", "eula_key", "default_instance_type"}
    gated = {m["base_model_name"] for m in models if m["gated"]}
    assert gated == {"Llama2-7B", "Llama2-7BChat", "Llama2-13B", "Llama2-13BChat"}
    assert {m["model_id"]: m["base_model_name"] for m in models}["huggingface-text2text-flan-t5-xl"] == "FlanT5XL"


def test_all_lists_every_catalog_model(capsys: pytest.CaptureFixture[str], catalog: Catalog) -> None:
    models = run_json(capsys, "--all")
    assert len(models) == len(catalog)
    assert sum(m["gated"] for m in models) == 60
    assert all(m["eula_key"] for m in models if m["model_id"].startswith("meta-textgeneration-llama-2"))


def test_table_output_has_a_header_a_row_per_model_and_a_summary(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["models"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].split()[:2] == ["MODEL", "ID"]
    assert any(line.split()[:3] == ["meta-textgeneration-llama-2-7b-f", "Llama2-7BChat", "yes"] for line in lines)
    assert lines[-1] == "18 models, 4 EULA-gated"


def test_console_script_runs_without_jsii() -> None:
    probe = "import sys, constructs_lib.cli as c; c.main(['models']); print('jsii' in sys.modules)"
    result = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    assert result.stdout.splitlines()[-1] == "False"
