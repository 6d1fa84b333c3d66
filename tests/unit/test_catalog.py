"""The built-in JumpStart catalog: look-ups, gated flags, images, artifacts and errors."""

from __future__ import annotations

import gzip
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
from constructs_lib.catalog.build import SNAPSHOT, build_catalog, load_records, load_samples
from constructs_lib.catalog.catalog import CatalogError, _spec_from_record, _Tables, read_document

SHARED = Path(__file__).resolve().parents[3] / "shared" / "jumpstart"
SEED = json.loads((SHARED / "seed-models.json").read_text())
INDEX = json.loads((SHARED / "all-models-index.json").read_text())
RECORDS = json.loads(gzip.decompress((SHARED / "catalog-models.json.gz").read_bytes()))
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


def test_every_model_deploys_in_us_east_1_on_its_default_instance_type(catalog: Catalog) -> None:
    assert len(catalog) == len(RECORDS) == 343
    for record in RECORDS:
        spec = catalog.get(record["model_id"])
        family = instance_family(record["default_instance_type"])
        assert spec.deployable and spec.version == record["version"], record["model_id"]
        assert spec.image_uri("us-east-1") == record["images"]["us-east-1"][family]
        assert spec.artifact_uri("us-east-1").endswith("/" + record["prepacked_artifact_key"])
        assert spec.gated == record["gated"]


def test_llama_3_1_deploys_from_the_gated_bucket_in_every_region_of_its_spec(catalog: Catalog) -> None:
    spec = catalog.get("meta-textgeneration-llama-3-1-8b-instruct")
    assert (spec.gated, spec.gated_bucket, spec.version, spec.newest_version) == (True, True, "2.2.4", "2.6.0")
    assert spec.image_uri("eu-west-1") == (
        "763104351884.dkr.ecr.eu-west-1.amazonaws.com/djl-inference:0.29.0-lmi11.0.0-cu124"
    )
    assert spec.artifact_uri("eu-west-1") == (
        "s3://jumpstart-private-cache-prod-eu-west-1/meta-textgeneration/meta-textgeneration-llama-3-1-8b-instruct/"
        "artifacts/inference-prepack/v2.0.0/"
    )
    assert spec.environment()["SAGEMAKER_MODEL_SERVER_WORKERS"] == "1"  # a number in the source


def test_multi_gpu_instance_types_get_their_environment_overrides(catalog: Catalog) -> None:
    falcon = catalog.get("huggingface-llm-falcon-40b-bf16")
    assert falcon.environment()["SM_NUM_GPUS"] == "8"  # default ml.g5.48xlarge
    assert falcon.environment("ml.g5.12xlarge")["SM_NUM_GPUS"] == "4"
    assert falcon.environment("ml.p4d.24xlarge")["SM_NUM_GPUS"] == "8"


def test_a_region_listed_without_images_is_not_deployable(catalog: Catalog) -> None:
    spec = catalog.get("meta-textgeneration-llama-3-1-405b-instruct-fp8")
    assert "eu-central-2" not in spec.supported_regions and len(spec.supported_regions) == 25
    with pytest.raises(UnsupportedRegionError) as raised:
        spec.image_uri("eu-central-2")
    message = str(raised.value)
    assert "not available in region 'eu-central-2'; supported regions: " in message and "eu-west-1, " in message


def test_an_instance_type_without_an_image_in_the_region_lists_those_with_one() -> None:
    spec = ModelSpec(
        model_id="acme", version="1.0.0", gated=False, eula_key=None, default_instance_type="ml.g5.2xlarge",
        supported_instance_types=("ml.g5.2xlarge", "ml.g5.12xlarge", "ml.p4d.24xlarge"),
        artifact_key="acme/", images={"us-east-1": {"ml.g5.12xlarge": "image-12x", "g5": "image-g5"}},
    )
    assert spec.image_uri("us-east-1", "ml.g5.12xlarge") == "image-12x"  # the full instance type wins
    assert spec.image_uri("us-east-1") == "image-g5"
    with pytest.raises(UnsupportedInstanceTypeError, match=(
        r"no image for instance type 'ml.p4d.24xlarge' in 'us-east-1'; instance types with one there: "
        r"ml.g5.2xlarge, ml.g5.12xlarge$"
    )):
        spec.image_uri("us-east-1", "ml.p4d.24xlarge")


def test_a_spec_without_images_or_artifacts_answers_gating_but_not_deployment() -> None:
    spec = ModelSpec(model_id="acme", version="1.0.0", gated=True, eula_key="eula.txt", default_instance_type=None)
    assert spec.gated and not spec.deployable
    with pytest.raises(NotDeployableError, match="eulagate models refresh"):
        spec.image_uri("us-east-1")
    with pytest.raises(NotDeployableError):
        spec.artifact_uri("us-east-1")


PACKAGES = {"us-east-1": "arn:aws:sagemaker:us-east-1:123456789012:model-package/acme-v1",
            "eu-west-1": "arn:aws:sagemaker:eu-west-1:210987654321:model-package/acme-v1"}


def test_a_package_only_model_deploys_by_package_arn_where_one_exists() -> None:
    spec = ModelSpec(model_id="acme", version="1.0.0", gated=True, eula_key="eula.txt",
                     default_instance_type="ml.g5.2xlarge", supported_instance_types=("ml.g5.2xlarge",),
                     model_package_arns=PACKAGES)
    assert spec.deployable and spec.deploys_through_package
    assert spec.supported_regions == ("eu-west-1", "us-east-1")
    assert spec.model_package_arn("eu-west-1") == PACKAGES["eu-west-1"]
    with pytest.raises(UnsupportedRegionError, match=(
        r"deploys only through JumpStart model packages, and it has none in region 'ap-south-1'; "
        r"model package regions: eu-west-1, us-east-1$"
    )):
        spec.model_package_arn("ap-south-1")


def test_every_jumpstart_model_package_of_a_model_is_recognised(catalog: Catalog) -> None:
    chat = catalog.get("meta-textgeneration-llama-2-13b-f")
    record = next(r for r in RECORDS if r["model_id"] == chat.model_id)
    arns = [arn for regional in record["all_model_package_arns"].values() for arn in regional]
    assert len(arns) > len(record["all_model_package_arns"])  # several versions per region
    assert all(catalog.model_for_package_arn(arn) is chat for arn in arns)
    assert set(chat.package_regions) == set(record["all_model_package_arns"])
    assert catalog.model_for_package_arn(arns[0].replace("llama2-13b-f", "llama2-13b-g")) is None


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
    built = build_catalog(load_records(SHARED), load_samples(SHARED))
    assert read_document(DEFAULT_CATALOG_PATH) == built.to_document()
    assert DEFAULT_CATALOG_PATH.read_bytes()[:2] == b"\x1f\x8b"
    assert DEFAULT_CATALOG_PATH.stat().st_size < 64_000  # 1.6 MB of source data: each image URI stored once


def test_the_catalog_records_its_snapshot(catalog: Catalog) -> None:
    assert catalog.snapshot == SNAPSHOT
    assert SNAPSHOT.date == "2026-07-31" and "f162fdac571a964da2011aa5ff5dddb05ea15fe5" in SNAPSHOT.source


@pytest.mark.parametrize("name", ["catalog.json", "catalog.json.gz"])
def test_write_then_read_round_trips(tmp_path: Path, catalog: Catalog, name: str) -> None:
    target = tmp_path / name
    catalog.write(target)
    assert (target.read_bytes()[:2] == b"\x1f\x8b") == name.endswith(".gz")
    again = Catalog.from_file(target)
    assert [spec.model_id for spec in again] == [spec.model_id for spec in catalog]
    assert again.snapshot == catalog.snapshot
    for spec in catalog:
        copy = again.get(spec.model_id)
        assert copy == spec


def test_a_format_1_catalog_still_loads(tmp_path: Path) -> None:
    """Catalogs written by earlier refreshes: values inline, no snapshot."""
    document = {"format": 1, "images": ["image-a"], "models": [{
        "model_id": "acme", "version": "1.0.0", "gated": False, "eula_key": None,
        "default_instance_type": "ml.g5.2xlarge", "supported_instance_types": ["ml.g5.2xlarge"],
        "artifact_key": "acme/", "prepacked_artifact_key": None, "environment": {"A": "1"},
        "instance_type_environment": {}, "image_variants": [{"families": ["g5"], "regions": {"us-east-1": 0}}],
    }]}
    path = tmp_path / "old.json"
    path.write_text(json.dumps(document))
    old = Catalog.from_file(path)
    assert old.snapshot is None
    assert old.get("acme").image_uri("us-east-1") == "image-a"


@pytest.mark.parametrize("broken", [
    lambda d: d["region_maps"][0].update({"us-east-1": 10**9}),
    lambda d: d["models"][0]["image_variants"][0].__setitem__(1, -1),
    lambda d: d["models"][0].__setitem__("supported_instance_types", 10**9),
])
def test_a_broken_table_reference_fails_the_load_not_a_later_look_up(tmp_path: Path, broken) -> None:
    document = read_document(DEFAULT_CATALOG_PATH)
    broken(document)
    path = tmp_path / "broken.json"
    path.write_text(json.dumps(document))
    with pytest.raises(CatalogError, match=r"catalog .*: (model record #1 \('[\w-]+'\) is )?malformed"):
        Catalog.from_file(path)


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


@pytest.mark.parametrize("damage", [
    lambda data: data[: len(data) // 2],  # truncated: EOFError inside gzip
    lambda data: data[:2] + b"\x00" * 20,  # gzip magic, then garbage
    lambda data: data[:-8] + bytes(8),  # a wrong checksum and length
])
def test_a_damaged_gzip_catalog_is_one_line(tmp_path: Path, damage) -> None:
    path = tmp_path / "catalog.json.gz"
    path.write_bytes(damage(DEFAULT_CATALOG_PATH.read_bytes()))
    with pytest.raises(CatalogError, match=r"^cannot read catalog .*catalog\.json\.gz: ") as raised:
        Catalog.from_file(path)
    assert "\n" not in str(raised.value)


def test_a_gzip_catalog_of_several_members_reads_as_gzip_does(tmp_path: Path) -> None:
    """The catalog is read with zlib alone (``eulagate check`` starts without gzip): every member, as gzip reads."""
    text = gzip.decompress(DEFAULT_CATALOG_PATH.read_bytes())
    middle = len(text) // 2
    path = tmp_path / "catalog.json.gz"
    path.write_bytes(gzip.compress(text[:middle]) + gzip.compress(text[middle:]))
    assert Catalog.from_file(path).to_document() == Catalog.from_file(DEFAULT_CATALOG_PATH).to_document()


@pytest.mark.parametrize(("region", "host"), [
    ("eu-west-1", "jumpstart-cache-prod-eu-west-1.s3.eu-west-1.amazonaws.com"),
    ("us-gov-west-1", "jumpstart-cache-prod-us-gov-west-1.s3.us-gov-west-1.amazonaws.com"),
    ("cn-north-1", "jumpstart-cache-prod-cn-north-1.s3.cn-north-1.amazonaws.com.cn"),
    ("us-iso-east-1", "jumpstart-cache-prod-us-iso-east-1.s3.us-iso-east-1.c2s.ic.gov"),
    ("us-isob-east-1", "jumpstart-cache-prod-us-isob-east-1.s3.us-isob-east-1.sc2s.sgov.gov"),
    ("us-isof-south-1", "jumpstart-cache-prod-us-isof-south-1.s3.us-isof-south-1.csp.hci.ic.gov"),
])
def test_eula_urls_use_the_partitions_domain(catalog: Catalog, region: str, host: str) -> None:
    gemma = catalog.get("huggingface-llm-gemma-2-9b-instruct")
    assert gemma.eula_url(region) == f"https://{host}/fmhMetadata/eula/gemma2Eula.txt"


def test_records_built_on_first_use_equal_those_built_at_load() -> None:
    """The shipped catalog's records wait until a look-up needs them; what a look-up gets is what the file says."""
    document = read_document(DEFAULT_CATALOG_PATH)
    tables = _Tables.read(document)
    built_at_load = [_spec_from_record(record, tables) for record in document["models"]]
    loaded = Catalog.from_document(document)
    autopilot = next(spec for spec in built_at_load if spec.base_model_name)
    assert loaded.get(autopilot.base_model_name or "") is loaded.get(autopilot.model_id)
    assert loaded.get(autopilot.model_id) == autopilot
    assert list(loaded) == built_at_load
    assert loaded.names == [*(spec.model_id for spec in built_at_load),
                            *(spec.base_model_name for spec in built_at_load if spec.base_model_name)]


def test_a_catalog_that_is_a_fifo_or_inflates_without_bound_is_one_line(tmp_path: Path) -> None:
    import os
    import zlib

    from constructs_lib.catalog.catalog import MAX_CATALOG_BYTES, read_document

    fifo = tmp_path / "catalog.json"
    os.mkfifo(fifo)
    with pytest.raises(CatalogError, match=r"^cannot read catalog .*catalog\.json: a FIFO, not a regular file; "):
        read_document(fifo)  # refused without waiting for a writer
    compressor = zlib.compressobj(wbits=16 + zlib.MAX_WBITS)
    bomb = tmp_path / "catalog.json.gz"
    bomb.write_bytes(compressor.compress(b" " * (MAX_CATALOG_BYTES + 1)) + compressor.flush())
    assert bomb.stat().st_size < MAX_CATALOG_BYTES // 100
    with pytest.raises(CatalogError, match=r"gzip data of more than 67,108,864 bytes once decompressed; point"):
        read_document(bomb)
