"""`eulagate models`: every model by default, --autopilot, the filters, `models show`, and the JSON shapes."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from constructs_lib.catalog import Catalog
from constructs_lib.cli import main

GEMMA_2_9B = "huggingface-llm-gemma-2-9b-instruct"


def run_json(capsys: pytest.CaptureFixture[str], *args: str) -> list[dict]:
    assert main(["models", "--format", "json", *args]) == 0
    return json.loads(capsys.readouterr().out)


def test_json_lists_the_18_autopilot_models_with_four_gated(capsys: pytest.CaptureFixture[str]) -> None:
    models = run_json(capsys, "--autopilot")
    assert len(models) == 18
    assert set(models[0]) == {"model_id", "base_model_name", "version", "gated", "deployable", "eula_key",
                              "default_instance_type"}
    gated = {m["base_model_name"] for m in models if m["gated"]}
    assert gated == {"Llama2-7B", "Llama2-7BChat", "Llama2-13B", "Llama2-13BChat"}
    assert {m["model_id"]: m["base_model_name"] for m in models}["huggingface-text2text-flan-t5-xl"] == "FlanT5XL"


def test_the_default_lists_every_catalog_model(capsys: pytest.CaptureFixture[str], catalog: Catalog) -> None:
    models = run_json(capsys)
    assert len(models) == len(catalog) == 343
    assert sum(m["gated"] for m in models) == 60
    assert all(m["eula_key"] for m in models if m["model_id"].startswith("meta-textgeneration-llama-2"))
    assert run_json(capsys, "--search", "llama-2-7b") == run_json(capsys, "--search", "llama-2-7b", "--all")


def test_the_old_all_flag_still_works_with_a_notice(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["models", "--all", "--format", "json"]) == 0
    captured = capsys.readouterr()
    assert len(json.loads(captured.out)) == 343
    assert captured.err == ("eulagate models: --all is the default now (every catalog model) and will be removed; "
                            "drop it (--autopilot lists the models Autopilot can fine-tune)\n")


def test_autopilot_combines_with_the_filters(capsys: pytest.CaptureFixture[str]) -> None:
    gated = run_json(capsys, "--autopilot", "--gated")
    assert {m["base_model_name"] for m in gated} == {"Llama2-7B", "Llama2-7BChat", "Llama2-13B", "Llama2-13BChat"}
    trainable = run_json(capsys, "--trainable")
    assert trainable and all(Catalog.default().get(m["model_id"]).trainable for m in trainable)


def test_every_model_is_deployable_and_60_are_gated(capsys: pytest.CaptureFixture[str]) -> None:
    deployable = run_json(capsys, "--deployable")
    assert len(deployable) == 343 and all(m["deployable"] for m in deployable)
    gated = run_json(capsys, "--gated")
    assert len(gated) == 60 and all(m["gated"] for m in gated)
    not_gated = run_json(capsys, "--not-gated", "--deployable")
    assert len(not_gated) == 283 and not any(m["gated"] for m in not_gated)
    assert {m["model_id"] for m in gated}.isdisjoint(m["model_id"] for m in not_gated)


def test_search_matches_ids_and_autopilot_names_in_any_case(capsys: pytest.CaptureFixture[str]) -> None:
    found = run_json(capsys, "--search", "LLAMA-3-1-8B")
    assert [m["model_id"] for m in found] == ["meta-textgeneration-llama-3-1-8b",
                                              "meta-textgeneration-llama-3-1-8b-instruct"]
    by_name = run_json(capsys, "--search", "flant5x")  # FlanT5XL, FlanT5XXL (Autopilot names)
    assert {m["base_model_name"] for m in by_name} == {"FlanT5XL", "FlanT5XXL"}
    gated_gemma = run_json(capsys, "--search", "gemma", "--gated")
    assert GEMMA_2_9B in {m["model_id"] for m in gated_gemma} and all(m["gated"] for m in gated_gemma)
    assert run_json(capsys, "--search", "no-such-model") == []


def test_gated_and_not_gated_exclude_each_other(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exited:
        main(["models", "--gated", "--not-gated"])
    assert exited.value.code == 2
    assert "not allowed with argument" in capsys.readouterr().err


def test_table_output_has_a_header_a_row_per_model_and_a_summary(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["models", "--autopilot"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].split() == ["MODEL", "ID", "AUTOPILOT", "NAME", "GATED", "DEFAULT", "INSTANCE"]
    assert any(line.split() == ["meta-textgeneration-llama-2-7b-f", "Llama2-7BChat", "yes", "ml.g5.12xlarge"]
               for line in lines)
    assert lines[-1] == "18 models, 4 EULA-gated (catalog snapshot 2026-07-31)"
    assert main(["models"]) == 0
    assert capsys.readouterr().out.splitlines()[-1] == "343 models, 60 EULA-gated (catalog snapshot 2026-07-31)"


def test_show_prints_the_eula_url_and_the_supported_instance_types(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["models", "show", GEMMA_2_9B]) == 0
    out = capsys.readouterr().out
    assert "ml.g5.12xlarge, ml.g5.24xlarge, ml.g5.48xlarge, ml.p4d.24xlarge" in out
    assert "supported instance types:" in out
    assert ("EULA:\n  https://jumpstart-cache-prod-{region}.s3.{region}.amazonaws.com/fmhMetadata/eula/gemma2Eula.txt "
            "(every other region above)\n") in out
    assert ("  https://jumpstart-cache-prod-{region}.s3.{region}.c2s.ic.gov/fmhMetadata/eula/gemma2Eula.txt "
            "(us-iso-east-1)\n") in out
    assert out.count("gemma2Eula.txt") == 4  # one line per partition's domain, not one per region
    assert "default instance type:" in out and "version:" in out and "snapshot 2026-07-31" in out


def test_show_sorts_instance_types_naturally_and_prints_no_internal_path(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["models", "show", "Llama2-7BChat"]) == 0
    out = capsys.readouterr().out
    [listed] = [line for line in out.splitlines() if line.startswith("supported instance types:")]
    types = listed.split(":", 1)[1].strip().split(", ")
    assert types[:3] == ["ml.g5.2xlarge", "ml.g5.4xlarge", "ml.g5.8xlarge"]
    assert types.index("ml.g5.12xlarge") < types.index("ml.g5.24xlarge") < types.index("ml.g5.48xlarge")
    assert "../" not in out and "constructs_lib/" not in out and "shared/" not in out
    assert "catalog: built-in, snapshot 2026-07-31" in out
    assert "EULA (in each region above): https://jumpstart-cache-prod-{region}.s3.{region}.amazonaws.com/" in out


def test_show_json_has_what_a_table_row_needs(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["models", "show", "meta-textgeneration-llama-2-13b-f", "--format", "json"]) == 0
    shown = json.loads(capsys.readouterr().out)
    assert (shown["base_model_name"], shown["version"], shown["gated"], shown["deploys_through"]) == (
        "Llama2-13BChat", "4.3.0", True, "artifact")
    assert shown["newest_version_in_source"] != shown["version"]
    assert shown["default_instance_type"] in shown["supported_instance_types"]
    assert set(shown["eula_urls"]) == set(shown["regions"]) and "us-east-1" in shown["regions"]
    assert shown["model_package_regions"] == ["ap-southeast-1", "ap-southeast-2", "eu-west-1", "us-east-1",
                                              "us-east-2", "us-west-2"]
    assert shown["environment"]["SM_NUM_GPUS"] and shown["instance_type_environment"]
    assert shown["catalog"]["snapshot_date"] == "2026-07-31"


@pytest.mark.parametrize("argv", [["show", "FlanT5XL", "--format", "json"], ["--format", "json", "show", "FlanT5XL"]])
def test_show_of_an_ungated_model_has_no_eula(capsys: pytest.CaptureFixture[str], argv: list[str]) -> None:
    assert main(["models", *argv]) == 0
    shown = json.loads(capsys.readouterr().out)
    assert (shown["model_id"], shown["gated"], shown["eula_urls"]) == ("huggingface-text2text-flan-t5-xl", False, {})


def test_show_of_an_unknown_model_is_one_line_with_suggestions(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["models", "show", "huggingface-llm-gemma-2-9b-instrct"]) == 2
    err = capsys.readouterr().err.strip()
    assert "\n" not in err and "did you mean huggingface-llm-gemma-2-9b-instruct" in err


def test_console_script_runs_without_jsii() -> None:
    probe = "import sys, constructs_lib.cli as c; c.main(['models']); print('jsii' in sys.modules)"
    result = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    assert result.stdout.splitlines()[-1] == "False"


def test_the_example_refresh_workflow_runs_weekly_and_opens_a_pull_request() -> None:
    import yaml

    path = Path(__file__).resolve().parents[2] / "examples" / "refresh-catalog.yml"
    workflow = yaml.safe_load(path.read_text(encoding="utf-8"))
    [schedule] = workflow[True]["schedule"]  # YAML 1.1 reads the key `on` as true
    assert schedule["cron"].split()[2:] == ["*", "*", "1"]  # every Monday
    script = "\n".join(step.get("run", "") for step in workflow["jobs"]["refresh"]["steps"])
    assert 'eulagate models refresh --region "$REGION" --output "$CATALOG"' in script
    assert 'export EULAGATE_CATALOG="$CATALOG"' in script  # later runs start from the repository's catalog
    assert "gh pr create" in script and workflow["permissions"]["pull-requests"] == "write"
