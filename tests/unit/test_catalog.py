"""The built-in JumpStart catalog: look-ups, gated flags, images, artifacts and errors."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from constructs_lib.catalog import (
    CATALOG_ENV_VAR,
    DEFAULT_CATALOG_PATH,
    Catalog,
    ModelSpec,
    NotDeployableError,
    UnknownModelError,
    UnsupportedInstanceTypeError,
    UnsupportedRegionError,
    instance_family,
)
from constructs_lib.catalog.build import build_catalog

SHARED = Path(__file__).resolve().parents[3] / "shared" / "jumpstart"
SEED = json.loads((SHARED / "seed-models.json").read_text())
INDEX = json.loads((SHARED / "all-models-index.json").read_text())
LLAMA_2 = {
    "meta-textgeneration-llama-2-7b": "Llama2-7B",
    "meta-textgeneration-llama-2-7b-f": "Llama2-7BChat",
    "meta-textgeneration-llama-2-13b": "Llama2-13B",
    "meta-textgeneration-llama-2-13b-f": "Llama2-13BChat",
}


def test_the_18_autopilot_models_pair_ids_with_base_model_names(catalog: Catalog) -> None:
    pairs = {spec.model_id: spec.base_model_name for spec in catalog.autopilot_models()}
    assert pairs == {record["model_id"]: record["autopilot_base_model_name"] for record in SEED}
    assert {m for m, spec in pairs.items() if catalog.get(m).gated} == set(LLAMA_2)


def test_every_index_model_keeps_its_gated_flag_and_eula_key(catalog: Catalog) -> None:
    for row in INDEX:
        spec = catalog.get(row["model_id"])
        assert (spec.gated, spec.eula_key) == (row["gated"], row["eula_key"]), row["model_id"]
    assert sum(spec.gated for spec in catalog) == 60


@pytest.mark.parametrize("record", SEED, ids=lambda r: r["autopilot_base_model_name"])
@pytest.mark.parametrize("region", ["us-east-1", "eu-west-1"])
def test_seed_models_resolve_image_and_artifact_for_their_default_instance(
    catalog: Catalog, record: dict, region: str
) -> None:
    spec = catalog.get(record["model_id"])
    family = instance_family(record["default_instance_type"])
    assert spec.image_uri(region) == record["images"][region][family]
    bucket = "jumpstart-private-cache-prod" if record["gated_bucket"] else "jumpstart-cache-prod"
    key = record["prepacked_artifact_key"] or record["artifact_key"]
    assert spec.artifact_uri(region) == f"s3://{bucket}-{region}/{key}"
    assert all(isinstance(value, str) for value in spec.environment().values())


def test_lookup_by_id_and_by_base_model_name_is_the_same_spec(catalog: Catalog) -> None:
    by_id = catalog.get("meta-textgeneration-llama-2-7b")
    assert catalog.get("Llama2-7B") is by_id
    assert by_id.base_model_name == "Llama2-7B"
    assert by_id.eula_key == "fmhMetadata/eula/llamaEula.txt"
    assert by_id.eula_url("eu-west-1") == (
        "https://jumpstart-cache-prod-eu-west-1.s3.eu-west-1.amazonaws.com/fmhMetadata/eula/llamaEula.txt"
    )


@pytest.mark.parametrize("name", ["llama2-7b", "Llama2-7b", "meta-textgeneration-llama-2-7b ", "Llama-2-7B"])
def test_lookups_are_exact_and_unknown_names_suggest_the_closest(catalog: Catalog, name: str) -> None:
    with pytest.raises(UnknownModelError) as error:
        catalog.get(name)
    assert "Llama2-7B" in error.value.suggestions or "meta-textgeneration-llama-2-7b" in error.value.suggestions
    assert "did you mean" in str(error.value)


def test_unsupported_region_lists_the_supported_ones(catalog: Catalog) -> None:
    spec = catalog.get("Llama2-7BChat")
    with pytest.raises(UnsupportedRegionError) as error:
        spec.image_uri("us-gov-west-1")
    assert "us-gov-west-1" in str(error.value) and "us-east-1, us-east-2" in str(error.value)


def test_gated_bucket_models_are_not_offered_where_no_gated_bucket_is_known(catalog: Catalog) -> None:
    llama = catalog.get("Llama2-7B")
    assert "cn-north-1" in llama.images and "cn-north-1" not in llama.supported_regions
    assert "cn-north-1" in catalog.get("FlanT5XL").supported_regions


def test_unsupported_instance_type_lists_the_supported_ones(catalog: Catalog) -> None:
    spec = catalog.get("FlanT5XL")
    with pytest.raises(UnsupportedInstanceTypeError) as error:
        spec.image_uri("us-east-1", "ml.m5.large")
    assert "ml.m5.large" in str(error.value) and "ml.g5.2xlarge" in str(error.value)


def test_instance_type_settings_override_the_default_environment(catalog: Catalog) -> None:
    spec = catalog.get("Llama2-7B")
    assert spec.default_environment["SM_NUM_GPUS"] == "1"
    assert spec.environment("ml.g5.2xlarge")["SM_NUM_GPUS"] == "1"
    assert spec.environment("ml.g5.48xlarge")["SM_NUM_GPUS"] == "8"
    assert spec.environment()["MAX_BATCH_PREFILL_TOKENS"] == "16384"  # default ml.g5.12xlarge adds it


def test_index_only_models_answer_gating_but_not_deployment(catalog: Catalog) -> None:
    spec = catalog.get("meta-textgeneration-llama-3-1-8b")
    assert spec.gated and spec.eula_key and not spec.deployable
    with pytest.raises(NotDeployableError, match="eulagate models refresh"):
        spec.image_uri("us-east-1")
    with pytest.raises(NotDeployableError):
        spec.artifact_uri("us-east-1")


def test_model_ids_in_s3_keys_match_whole_segments_only(catalog: Catalog) -> None:
    find = catalog.model_in_s3_key
    assert find("meta-textgeneration/meta-textgeneration-llama-2-7b-f/artifacts/inference/v1/").model_id == (
        "meta-textgeneration-llama-2-7b-f"
    )
    assert find("meta-training/train-meta-textgeneration-llama-2-7b.tar.gz").model_id == (
        "meta-textgeneration-llama-2-7b"
    )
    assert find("meta-infer/infer-meta-textgeneration-llama-2-13b-f.tar.gz").model_id == (
        "meta-textgeneration-llama-2-13b-f"
    )
    assert find("huggingface-infer/prepack/v1.0.0/infer-prepack-huggingface-llm-gemma-7b.tar.gz").model_id == (
        "huggingface-llm-gemma-7b"
    )
    assert find("my-models/meta-textgeneration-llama-2-7b-finetuned/model.tar.gz") is None
    assert find("") is None


@pytest.mark.parametrize(
    ("instance_type", "family"),
    [("ml.g5.12xlarge", "g5"), ("ml.p6-b200.48xlarge", "p6-b200"), ("ml.p4de.24xlarge", "p4de")],
)
def test_instance_family(instance_type: str, family: str) -> None:
    assert instance_family(instance_type) == family


def test_shipped_catalog_is_what_the_builder_makes_from_the_shared_data() -> None:
    built = build_catalog(SEED, INDEX).to_document()
    shipped = json.loads(DEFAULT_CATALOG_PATH.read_text())
    assert [m["model_id"] for m in built["models"]] == [m["model_id"] for m in shipped["models"]]
    assert {m["model_id"]: m["gated"] for m in built["models"]} == {
        m["model_id"]: m["gated"] for m in shipped["models"]
    }


def test_write_then_read_round_trips(tmp_path: Path, catalog: Catalog) -> None:
    target = tmp_path / "catalog.json"
    catalog.write(target)
    again = Catalog.from_file(target)
    assert [spec.model_id for spec in again] == [spec.model_id for spec in catalog]
    for spec in catalog.autopilot_models():
        copy = again.get(spec.model_id)
        assert copy.images == spec.images and copy.environment() == spec.environment()


def test_environment_variable_selects_another_catalog(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    only = Catalog([ModelSpec(model_id="acme-model", version="1.0.0", gated=True, eula_key="eula.txt",
                              default_instance_type=None)])
    target = tmp_path / "small.json"
    only.write(target)
    monkeypatch.setenv(CATALOG_ENV_VAR, str(target))
    assert [spec.model_id for spec in Catalog.default()] == ["acme-model"]


def test_gated_models_train_from_the_private_bucket_and_not_where_it_is_unknown(catalog: Catalog) -> None:
    llama3 = catalog.get("meta-textgeneration-llama-3-1-70b")  # index model; training data from its raw spec
    assert llama3.gated_bucket and llama3.training is not None
    assert llama3.artifact_bucket("us-east-1") == "jumpstart-private-cache-prod-us-east-1"
    china = "cn-north-1"
    assert china in llama3.training.images and china not in llama3.training_regions
    with pytest.raises(UnsupportedRegionError, match=china):
        llama3.training_image_uri(china)
    assert catalog.get("huggingface-text2text-flan-t5-base").training_image_uri("cn-north-1")
