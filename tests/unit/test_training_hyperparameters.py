"""The training hyperparameter check shared by the table loader and ``JumpStartFineTuningJob``: parsing of the
specs' type, bounds and options, the catalog file round trip, and each rule of ``hyperparameter_problem``."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest

from constructs_lib.catalog import Catalog, ModelSpec, TrainingSpec
from constructs_lib.catalog.build import DEFAULT_JUMPSTART_DIR, SAMPLES_DIR_NAME
from constructs_lib.catalog.hyperparameters import Hyperparameter
from constructs_lib.catalog.raw_spec import MalformedSpecError, parse_model_spec

SAMPLES = DEFAULT_JUMPSTART_DIR / SAMPLES_DIR_NAME
FLAN_T5 = "huggingface-text2text-flan-t5-base_specs_v2.2.3.json"
MOBILENET = "pytorch-ic-mobilenet-v2_specs_v3.0.25.json"


def sample(name: str) -> dict[str, Any]:
    return json.loads((SAMPLES / name).read_text())


def training_of(document: dict[str, Any], source: str = "sample") -> TrainingSpec:
    training = parse_model_spec(document, source=source).training
    assert training is not None
    return training


@pytest.fixture(scope="module")
def flan() -> TrainingSpec:
    return training_of(sample(FLAN_T5), FLAN_T5)


def test_specs_keep_type_default_bounds_and_options_as_given(flan: TrainingSpec) -> None:
    specs = flan.hyperparameter_specs
    assert specs["epochs"] == Hyperparameter("epochs", "int", "1", min=1, max=1000)
    assert specs["learning_rate"] == Hyperparameter("learning_rate", "float", "0.0001", min=1e-08, max=1)
    assert specs["warmup_steps"] == Hyperparameter("warmup_steps", "int", "0", min=0)  # no max in the spec
    assert specs["max_steps"] == Hyperparameter("max_steps", "int", "-1")  # no bounds at all
    assert specs["lr_scheduler_type"] == Hyperparameter(
        "lr_scheduler_type", "text", "constant_with_warmup", options=("constant_with_warmup", "linear"))
    assert specs["save_total_limit"] == Hyperparameter("save_total_limit", "text", "2")
    # the defaults view existing callers use stays name -> default text, algorithm scope only
    assert flan.hyperparameters["epochs"] == "1" and "sagemaker_program" not in flan.hyperparameters
    assert set(flan.hyperparameters) == set(specs)


def test_a_reordered_raw_spec_parses_the_same() -> None:
    # The llama-3.1 and mobilenet samples list keys alphabetically; flan lists name first.
    training = training_of(sample(MOBILENET), MOBILENET)
    assert training.hyperparameter_specs["reinitialize_top_layer"] == Hyperparameter(
        "reinitialize_top_layer", "text", "Auto", options=("Auto", "True", "False"))
    assert training.hyperparameter_specs["batch_size"] == Hyperparameter("batch_size", "int", "4", min=1, max=1024)


@pytest.mark.parametrize(("edit", "message"), [
    ({"type": "decimal"}, "hyperparameter 'epochs' has type 'decimal'; expected one of int, float, text, bool"),
    ({"min": "1"}, "field 'hyperparameters[0].min' must be a number, not a string"),
    ({"max": True}, "field 'hyperparameters[0].max' must be a number, not a boolean"),
    ({"options": "a,b"}, "field 'hyperparameters[0].options' must be a list"),
])
def test_malformed_hyperparameter_entries_name_the_field(edit: dict[str, Any], message: str) -> None:
    document = sample(FLAN_T5)
    document["hyperparameters"][0].update(edit)
    with pytest.raises(MalformedSpecError, match=re.escape(message)):
        training_of(document)


def test_catalog_file_round_trips_the_specs(flan: TrainingSpec, tmp_path: Any) -> None:
    model = ModelSpec(model_id="flan", version="1", gated=False, eula_key=None, default_instance_type=None,
                      training=flan)
    path = tmp_path / "catalog.json"
    Catalog([model]).write(path)
    assert Catalog.from_file(path).get("flan").training == flan


def test_a_catalog_file_with_defaults_only_still_loads_and_checks_kinds(tmp_path: Any) -> None:
    """Catalog files written before types were kept hold name -> default; the kind is inferred from it."""
    model = ModelSpec(model_id="old", version="1", gated=False, eula_key=None, default_instance_type=None,
                      training=TrainingSpec("ml.g5.2xlarge", ("ml.g5.2xlarge",), None, None, {}, hyperparameter_specs={
                          name: Hyperparameter.from_default(name, default)
                          for name, default in {"epoch": "5", "rate": "0.1", "lora": "True"}.items()}))
    path = tmp_path / "catalog.json"
    Catalog([model]).write(path)
    record = json.loads(path.read_text())
    for entry in record["models"]:
        entry["training"]["hyperparameters"] = {"epoch": "5", "rate": "0.1", "lora": "True"}
    path.write_text(json.dumps(record))
    training = Catalog.from_file(path).get("old").training
    assert training is not None
    assert training.hyperparameters == {"epoch": "5", "rate": "0.1", "lora": "True"}
    assert training.hyperparameter_problem("epoch", 2.5) == "expected an integer (the default is 5), got a number (2.5)"
    assert training.hyperparameter_problem("rate", "x") == "expected a number (the default is 0.1), got a string ('x')"
    assert training.hyperparameter_problem("lora", "no") is not None
    assert training.hyperparameter_problem("epoch", -5) is None  # no range without a spec


@pytest.mark.parametrize(("name", "value", "problem"), [
    ("epochs", 0, "expected an integer from 1 to 1000 (the default is 1), got an integer (0)"),
    ("epochs", "1001", "expected an integer from 1 to 1000 (the default is 1), got a string ('1001')"),
    ("epochs", 2.0, "expected an integer (the default is 1), got a number (2.0)"),
    ("epochs", "2.0", "expected an integer (the default is 1), got a string ('2.0')"),
    ("epochs", False, "expected an integer (the default is 1), got a boolean (false)"),
    ("learning_rate", 1.5, "expected a number from 1e-08 to 1 (the default is 0.0001), got a number (1.5)"),
    ("learning_rate", "nan", "expected a number (the default is 0.0001), got a string ('nan')"),
    ("warmup_steps", -1, "expected an integer >= 0 (the default is 0), got an integer (-1)"),
    ("max_input_length", -2, "expected an integer >= -1 (the default is -1), got an integer (-2)"),
    ("lr_scheduler_type", "cosine", "expected one of constant_with_warmup, linear (the default is "
                                    "constant_with_warmup), got a string ('cosine')"),
    ("lr_scheduler_type", "Linear", "expected one of constant_with_warmup, linear"),  # only booleans fold case
    ("peft_type", True, "expected one of lora, none (the default is none), got a boolean (true)"),
    ("pad_to_max_length", "yes", "expected one of True, False (the default is True), got a string ('yes')"),
    ("batch_size", {"a": 1}, "expected a string or number, got a mapping"),
    ("sagemaker_region", "us-east-1", "reserved: the training job sets the sagemaker_* hyperparameters itself"),
    ("epoch", 3, "unknown training hyperparameter (did you mean 'epochs'?); the model has: adam_beta1,"),
])
def test_values_outside_the_spec_are_problems(flan: TrainingSpec, name: str, value: Any, problem: str) -> None:
    found = flan.hyperparameter_problem(name, value)
    assert found is not None and found.startswith(problem), found


@pytest.mark.parametrize(("name", "value", "sent"), [
    ("epochs", 1000, 1000), ("epochs", "+3", "+3"), ("max_steps", -100, -100),  # no bounds: any integer
    ("learning_rate", 1, 1), ("learning_rate", "1e-5", "1e-5"), ("warmup_ratio", 0, 0),
    ("lr_scheduler_type", "linear", "linear"),
    ("pad_to_max_length", False, "False"), ("pad_to_max_length", "true", "True"), ("peft_type", "lora", "lora"),
    # text hyperparameters with numeric defaults take any text, numbers included
    ("save_total_limit", 5, 5), ("save_total_limit", "None", "None"), ("eval_steps", "0.5", "0.5"),
])
def test_values_within_the_spec_pass(flan: TrainingSpec, name: str, value: Any, sent: Any) -> None:
    assert flan.hyperparameter_problem(name, value) is None
    assert flan.hyperparameter_value(name, value) == sent


@pytest.mark.parametrize(("spec", "value", "problem"), [
    (Hyperparameter("flag", "bool", "true"), "maybe", "expected true or false (the default is true)"),
    (Hyperparameter("flag", "bool", "true"), 1, "expected true or false"),
    (Hyperparameter("tag", "text", "ab", min=2, max=4), "abcde", "expected a text of length from 2 to 4"),
    (Hyperparameter("tag", "text", "ab", min=2), "a", "expected a text of length >= 2"),
    (Hyperparameter("rate", "float", "0.5", exclusive_min=0, exclusive_max=1), 0, "expected a number above 0 "
                                                                                  "below 1"),
    (Hyperparameter("rate", "float", "0.5", exclusive_max=1), 1.0, "expected a number < 1"),
])
def test_bool_type_text_lengths_and_exclusive_bounds(spec: Hyperparameter, value: Any, problem: str) -> None:
    found = spec.problem(value)
    assert found is not None and found.startswith(problem), found


def test_bool_type_accepts_booleans_and_their_text() -> None:
    flag = Hyperparameter("flag", "bool", "true")
    assert [flag.problem(v) for v in (True, "false", "TRUE")] == [None, None, None]


def test_a_spec_without_hyperparameters_accepts_any_name_and_scalar_but_not_reserved_ones() -> None:
    bare = TrainingSpec("ml.g5.2xlarge", ("ml.g5.2xlarge",), None, None, {})
    assert [bare.hyperparameter_problem("anything", v) for v in ("x", 1, 0.5, True)] == [None] * 4
    assert bare.hyperparameter_problem("anything", [1]) == "expected a string or number, got a list"
    assert bare.hyperparameter_problem("sagemaker_program", "x") is not None
