"""Raw JumpStart spec parsing, the builder's merge of the raw samples, and the catalog's training data."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest

from constructs_lib.catalog import Catalog, NotDeployableError, NotTrainableError, UnsupportedRegionError
from constructs_lib.catalog.build import (
    DEFAULT_JUMPSTART_DIR,
    SAMPLES_DIR_NAME,
    build_catalog,
    load_records,
    load_samples,
)
from constructs_lib.catalog.catalog import DEFAULT_CATALOG_PATH, UnsupportedInstanceTypeError
from constructs_lib.catalog.raw_spec import (
    MalformedSpecError,
    parse_model_spec,
    resolve_default_config,
    version_key,
)
from constructs_lib.cli import main

SAMPLES = DEFAULT_JUMPSTART_DIR / SAMPLES_DIR_NAME
LLAMA_31 = "meta-textgeneration-llama-3-1-70b_specs_v2.16.2.json"
GPT_OSS = "openai-reasoning-gpt-oss-20b_specs_v3.38.0.json"
MOBILENET = "pytorch-ic-mobilenet-v2_specs_v3.0.25.json"
LLAMA_2_7B = "meta-textgeneration-llama-2-7b_specs_v3.0.0.json"
LLAMA_2_7B_F = "meta-textgeneration-llama-2-7b-f_specs_v2.0.4.json"
FLAN_T5 = "huggingface-text2text-flan-t5-base_specs_v2.2.3.json"


def sample(name: str) -> dict[str, Any]:
    return json.loads((SAMPLES / name).read_text())


def alias(document: dict[str, Any], region: str, name: str, component: str | None = None) -> str:
    block = document["inference_config_components"][component] if component else document
    return block["hosting_instance_type_variants"]["regional_aliases"][region][name]


# --- classic specs: top-level instance type variants ---------------------------------------------------


def test_classic_spec_resolves_cpu_and_gpu_images_per_region() -> None:
    document = sample(MOBILENET)
    spec = parse_model_spec(document, source=MOBILENET)
    aliases = document["hosting_instance_type_variants"]["regional_aliases"]
    assert set(spec.images) == set(aliases)
    assert spec.image_uri("eu-west-1", "ml.m5.large") == aliases["eu-west-1"]["cpu_ecr_uri_1"]
    assert spec.images["eu-west-1"]["p3"] == aliases["eu-west-1"]["gpu_ecr_uri_2"]
    assert (spec.model_id, spec.version, spec.gated, spec.deployable) == (
        "pytorch-ic-mobilenet-v2", "3.0.25", False, True)
    assert spec.hosting_artifact_key == document["hosting_prepacked_artifact_key"]
    assert spec.default_environment["ENDPOINT_SERVER_TIMEOUT"] == "3600"  # a number in the spec


def test_instance_type_environment_comes_from_instance_variants() -> None:
    spec = parse_model_spec(sample(LLAMA_2_7B), source=LLAMA_2_7B)
    assert spec.environment("ml.g5.12xlarge")["SM_NUM_GPUS"] == "4"
    assert spec.environment("ml.g5.48xlarge")["SM_NUM_GPUS"] == "8"
    assert spec.environment("ml.g5.2xlarge")["SM_NUM_GPUS"] == "1"  # the spec's default, no override
    assert spec.environment("ml.g5.2xlarge")["SAGEMAKER_PROGRAM"] == "inference.py"
    # Overrides for instance types the spec names but does not list as supported are kept too.
    flan = parse_model_spec(sample(FLAN_T5), source=FLAN_T5)
    assert "ml.g5.12xlarge" not in flan.supported_instance_types
    assert flan.instance_type_environment["ml.g5.12xlarge"] == {"SM_NUM_GPUS": "4"}


def test_family_environment_applies_under_instance_overrides() -> None:
    document = sample(LLAMA_2_7B)
    variants = document["hosting_instance_type_variants"]["variants"]
    variants["g5"]["properties"] = {"environment_variables": {"FAMILY_ONLY": "f", "SM_NUM_GPUS": "1"}}
    spec = parse_model_spec(document, source="edited")
    assert spec.environment("ml.g5.2xlarge")["SM_NUM_GPUS"] == "1"
    assert spec.environment("ml.g5.12xlarge")["SM_NUM_GPUS"] == "4"  # the instance type's value wins
    assert spec.environment("ml.g5.12xlarge")["FAMILY_ONLY"] == "f"


def test_an_alias_a_region_lacks_or_a_literal_value_gives_no_image() -> None:
    document = sample(MOBILENET)
    block = document["hosting_instance_type_variants"]
    del block["regional_aliases"]["eu-west-1"]["gpu_ecr_uri_2"]
    block["variants"]["m5"]["regional_properties"]["image_uri"] = "123.dkr.ecr/not-an-alias"
    images = parse_model_spec(document, source="edited").images
    assert "p3" not in images["eu-west-1"] and "c5" in images["eu-west-1"]
    assert all("m5" not in regional for regional in images.values())


# --- newer specs: inference configs -------------------------------------------------------------------


def test_newer_spec_takes_images_from_the_top_ranked_inference_config() -> None:
    document = sample(LLAMA_31)
    assert "hosting_instance_type_variants" not in document
    spec = parse_model_spec(document, source=LLAMA_31)
    assert document["inference_config_rankings"]["overall"]["rankings"][0] == "lmi"
    assert spec.image_uri("us-east-1") == alias(document, "us-east-1", "alias_ecr_uri_1", "lmi")
    assert len(spec.images) == 40
    # No gated content bucket is known in the China partition, so a gated-bucket model is not offered there.
    assert set(spec.images) - set(spec.supported_regions) == {"cn-north-1", "cn-northwest-1"}
    assert spec.environment("ml.p4d.24xlarge")["OPTION_TENSOR_PARALLEL_DEGREE"] == "8"
    assert spec.gated and spec.gated_bucket and spec.eula_key == "fmhMetadata/eula/llama3_1Eula.txt"
    assert spec.artifact_uri("us-east-1") == (
        "s3://jumpstart-private-cache-prod-us-east-1/"
        "meta-textgeneration/meta-textgeneration-llama-3-1-70b/artifacts/inference-prepack/v2.0.0/"
    )


def test_the_ranking_decides_between_configs() -> None:
    document = sample(GPT_OSS)
    assert document["inference_config_rankings"]["overall"]["rankings"][0] == "lmi-optimized"
    spec = parse_model_spec(document, source=GPT_OSS)
    vllm = alias(document, "us-east-1", "gpu_ecr_uri_2", "lmi-optimized")
    assert spec.image_uri("us-east-1", "ml.g6.12xlarge") == vllm
    assert spec.image_uri("us-east-1", "ml.g5.12xlarge") == alias(document, "us-east-1", "alias_ecr_uri_1",
                                                                 "lmi-optimized")
    # Without a ranking the SDK falls back to the config names in order, and "lmi" comes first.
    del document["inference_config_rankings"]
    unranked = parse_model_spec(document, source=GPT_OSS)
    assert unranked.image_uri("us-east-1", "ml.g6.12xlarge") == alias(document, "us-east-1", "alias_ecr_uri_1",
                                                                     "lmi")
    assert unranked.image_uri("us-east-1", "ml.g6.12xlarge") != vllm


def test_components_merge_deeply_and_cannot_override_protected_fields() -> None:
    base = {
        "model_id": "m", "version": "1.0.0", "gated_bucket": False,
        "hosting_instance_type_variants": {"regional_aliases": {"us-east-1": {"a": "base-east"},
                                                                "us-west-2": {"a": "base-west"}},
                                           "variants": {"g5": {"regional_properties": {"image_uri": "$a"}}}},
        "inference_configs": {"only": {"component_names": ["c"]}},
        "inference_config_components": {"c": {
            "model_id": "other", "gated_bucket": True, "default_inference_instance_type": "ml.g5.2xlarge",
            "hosting_instance_type_variants": {"regional_aliases": {"us-east-1": {"a": "component-east"}}},
        }},
    }
    resolved = resolve_default_config(base, source="synthetic")
    assert resolved["model_id"] == "m" and resolved["gated_bucket"] is False
    assert resolved["default_inference_instance_type"] == "ml.g5.2xlarge"
    spec = parse_model_spec(base, source="synthetic")
    assert spec.images == {"us-east-1": {"g5": "component-east"}, "us-west-2": {"g5": "base-west"}}
    assert not spec.gated


# --- gating, artifacts, model packages -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("eula_key", "gated_bucket", "gated"),
    [("fmhMetadata/eula/x.txt", False, True), (None, True, True), (None, False, False)],
)
def test_gated_means_an_eula_key_or_the_gated_bucket(eula_key: str | None, gated_bucket: bool, gated: bool) -> None:
    document = {"model_id": "m", "version": "1.0.0", "hosting_eula_key": eula_key, "gated_bucket": gated_bucket}
    assert parse_model_spec(document, source="synthetic").gated is gated


def test_a_tarball_hosting_artifact_with_model_packages_deploys_through_the_packages() -> None:
    spec = parse_model_spec(sample(LLAMA_2_7B_F), source=LLAMA_2_7B_F)
    assert spec.gated and spec.eula_key == "fmhMetadata/eula/llamaEula.txt"
    assert spec.hosting_artifact_key is None and spec.deploys_through_package and spec.deployable
    assert len(spec.model_package_arns) == 6 and spec.supported_regions == tuple(sorted(spec.model_package_arns))
    assert spec.model_package_arn("us-west-2").startswith("arn:aws:sagemaker:us-west-2:594846645681:model-package/")
    with pytest.raises(UnsupportedRegionError, match="has none in region 'ap-south-1'; model package regions: "):
        spec.model_package_arn("ap-south-1")
    with pytest.raises(NotDeployableError, match="model packages"):
        spec.image_uri("us-west-2")


def test_a_tarball_hosting_artifact_without_packages_is_not_deployable_but_keeps_gate_data() -> None:
    document = sample(LLAMA_2_7B_F)
    del document["hosting_model_package_arns"]
    spec = parse_model_spec(document, source="edited")
    assert spec.gated and not spec.deployable and spec.images
    with pytest.raises(NotDeployableError, match=r"no uncompressed artifact prefix and no model package"):
        spec.artifact_uri("us-west-2")


# --- training -----------------------------------------------------------------------------------------


def test_training_spec_from_a_gated_model() -> None:
    document = sample(LLAMA_31)
    training = parse_model_spec(document, source=LLAMA_31).training
    assert training is not None
    assert training.default_instance_type == "ml.g5.48xlarge"
    assert training.supported_instance_types == ("ml.g5.48xlarge", "ml.p4d.24xlarge")
    assert training.artifact_key == "meta-training/train-meta-textgeneration-llama-3-1-70b.tar.gz"
    assert training.script_key == document["training_prepacked_script_key"]  # prepacked first, as in the SDK
    # The gated key of the default training instance's family (g5), not of another family.
    assert training.gated_model_key == "meta-training/g5/v1.0.0/train-meta-textgeneration-llama-3-1-70b.tar.gz"
    aliases = document["training_instance_type_variants"]["regional_aliases"]
    assert training.images["us-east-1"]["g5"] == aliases["us-east-1"]["gpu_ecr_uri_1"]
    assert training.hyperparameters["epoch"] == "5"
    assert training.hyperparameters["learning_rate"] == "0.0001"


def test_training_script_falls_back_and_hyperparameters_are_strings() -> None:
    training = parse_model_spec(sample(LLAMA_2_7B_F), source=LLAMA_2_7B_F).training
    assert training is not None
    assert training.script_key == sample(LLAMA_2_7B_F)["training_script_key"]  # no prepacked script in this spec
    assert "training_prepacked_script_key" not in sample(LLAMA_2_7B_F)
    assert training.gated_model_key is None
    assert training.hyperparameters["int8_quantization"] == "False"
    assert all(isinstance(value, str) for value in training.hyperparameters.values())


def test_only_algorithm_hyperparameters_are_defaults() -> None:
    document = sample(MOBILENET)
    container = [h["name"] for h in document["hyperparameters"] if h.get("scope") == "container"]
    assert container, "the sample has container-scoped hyperparameters"
    training = parse_model_spec(document, source=MOBILENET).training
    assert training is not None
    assert not set(container) & set(training.hyperparameters)


def test_no_training_support_means_no_training_spec() -> None:
    assert parse_model_spec(sample(GPT_OSS), source=GPT_OSS).training is None
    document = sample(FLAN_T5)
    del document["training_instance_type_variants"]
    assert parse_model_spec(document, source="edited").training is None


# --- malformed documents -------------------------------------------------------------------------------


def edited(name: str, path: list[str | int], value: Any) -> dict[str, Any]:
    document = copy.deepcopy(sample(name))
    target: Any = document
    for step in path[:-1]:
        target = target[step]
    if value is KeyError:
        del target[path[-1]]
    else:
        target[path[-1]] = value
    return document


@pytest.mark.parametrize(
    ("document", "message"),
    [
        (["not", "an", "object"], "the document must be a JSON object, not a list"),
        (edited(MOBILENET, ["model_id"], KeyError), "required field 'model_id' is missing"),
        (edited(MOBILENET, ["supported_inference_instance_types"], "ml.m5.large"),
         "field 'supported_inference_instance_types' must be a list of strings, not a string"),
        (edited(MOBILENET, ["supported_inference_instance_types", 0], 5),
         "'supported_inference_instance_types' must be a list of strings, but holds a number"),
        (edited(MOBILENET, ["hosting_instance_type_variants", "variants"], []),
         "field 'hosting_instance_type_variants.variants' must be a JSON object, not a list"),
        (edited(MOBILENET, ["gated_bucket"], "yes"), "field 'gated_bucket' must be true or false"),
        (edited(LLAMA_31, ["inference_config_rankings", "overall", "rankings"], ["fastest"]),
         "ranks 'fastest' first, but inference_configs has no such config"),
        (edited(LLAMA_31, ["inference_configs", "lmi", "component_names"], ["gone"]),
         "names component 'gone', which inference_config_components does not define"),
        (edited(FLAN_T5, ["inference_environment_variables", 0, "default"], KeyError),
         "environment variable 'SAGEMAKER_PROGRAM' has no default"),
        (edited(FLAN_T5, ["hyperparameters", 0, "default"], KeyError), "hyperparameter 'epochs' has no default"),
        (edited(LLAMA_2_7B_F, ["hosting_model_package_arns", "us-west-2"], 7),
         "field 'hosting_model_package_arns.us-west-2' must be a string"),
    ],
)
def test_malformed_specs_raise_one_line_naming_the_field(document: Any, message: str) -> None:
    with pytest.raises(MalformedSpecError) as raised:
        parse_model_spec(document, source="s3://bucket/spec.json")
    text = str(raised.value)
    assert text.startswith("s3://bucket/spec.json: ") and message in text
    assert "\n" not in text


def test_versions_compare_numerically() -> None:
    versions = ["2.9.1", "10.0.0", "2.10.0", "1.0.0", "2.9.10", "2.9.1-beta"]
    assert sorted(versions, key=version_key) == ["1.0.0", "2.9.1", "2.9.1-beta", "2.9.10", "2.10.0", "10.0.0"]


# --- the builder and the shipped catalog --------------------------------------------------------------


@pytest.fixture(scope="module")
def built() -> Catalog:
    return build_catalog(load_records(DEFAULT_JUMPSTART_DIR), load_samples(DEFAULT_JUMPSTART_DIR))


def test_the_shipped_catalog_is_what_the_builder_writes(built: Catalog, tmp_path: Path) -> None:
    built.write(tmp_path / "catalog.json.gz")
    assert (tmp_path / "catalog.json.gz").read_bytes() == Path(DEFAULT_CATALOG_PATH).read_bytes()


def test_builder_merges_training_from_the_samples(built: Catalog) -> None:
    assert [spec.model_id for spec in built.trainable_models()] == [
        "meta-textgeneration-llama-2-7b", "meta-textgeneration-llama-2-7b-f",
        "huggingface-text2text-flan-t5-base", "meta-textgeneration-llama-3-1-70b",
    ]
    llama = built.get("Llama2-7B")
    assert llama.version == "4.3.0"  # hosting stays the catalog record's version
    assert llama.training is not None
    assert llama.training.artifact_key is None  # the fixture's "some/dummy/key" is not JumpStart data
    assert llama.training.gated_model_key == "meta-training/train-meta-textgeneration-llama-2-7b.tar.gz"
    assert set(llama.training.images) == {"us-west-2"}
    assert "training from raw-spec-samples/" + LLAMA_2_7B in (llama.source or "")


def test_sample_model_packages_are_recognised_but_not_deployed_through(built: Catalog) -> None:
    chat = built.get("Llama2-7BChat")
    arns = sample(LLAMA_2_7B_F)["hosting_model_package_arns"]
    assert all(arn in chat.all_model_package_arns[region] for region, arn in arns.items())
    assert all(built.model_for_package_arn(arn) is chat for arn in arns.values())
    # The chosen version (4.3.0) deploys from its artifacts; 2.0.4's packages are another version's.
    assert chat.model_package_arns == {} and chat.deployable and not chat.deploys_through_package


def test_samples_of_models_the_catalog_lacks_add_nothing(built: Catalog) -> None:
    assert built.find("pytorch-ic-mobilenet-v2") is None
    assert built.find("openai-reasoning-gpt-oss-20b") is None


def test_models_without_training_data_are_a_clear_error(catalog: Catalog) -> None:
    with pytest.raises(NotTrainableError) as raised:
        catalog.get_trainable("Falcon7B")
    message = str(raised.value)
    assert "'huggingface-llm-falcon-7b-bf16' cannot be fine-tuned with a JumpStart training job" in message
    assert "trainable models: huggingface-text2text-flan-t5-base, meta-textgeneration-llama-2-7b," in message
    with pytest.raises(NotTrainableError, match="eulagate models --trainable"):
        catalog.get("Falcon7B").check_trainable()
    assert catalog.get_trainable("Llama2-7BChat").trainable


def test_training_image_lookup(catalog: Catalog) -> None:
    chat = catalog.get("Llama2-7BChat")
    assert chat.training_image_uri("us-east-1").startswith("763104351884.dkr.ecr.us-east-1.amazonaws.com/")
    with pytest.raises(UnsupportedRegionError, match="training regions: us-west-2"):
        catalog.get("Llama2-7B").training_image_uri("us-east-1")
    with pytest.raises(UnsupportedInstanceTypeError, match=r"supported training instance types: ml\.g5\.12xlarge"):
        chat.training_image_uri("us-east-1", "ml.g5.2xlarge")


def test_models_trainable_lists_them(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["models", "--trainable", "--format", "json"]) == 0
    listed = json.loads(capsys.readouterr().out)
    assert [row["model_id"] for row in listed] == [
        "meta-textgeneration-llama-2-7b", "meta-textgeneration-llama-2-7b-f",
        "huggingface-text2text-flan-t5-base", "meta-textgeneration-llama-3-1-70b",
    ]
