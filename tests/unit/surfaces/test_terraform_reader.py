"""The Terraform reader: values as Terraform reads them, blocks as the API's request, findings in Terraform's words."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from constructs_lib.catalog import Catalog
from constructs_lib.surfaces.terraform import read_tf, snake_path

GATED = "s3://jumpstart-private-cache-prod-us-east-1/meta-textgeneration/meta-textgeneration-llama-3-8b/artifacts/inference-prepack/v1.1.0/"
PUBLIC = "s3://jumpstart-cache-prod-us-east-1/huggingface-llm/{model}/artifacts/inference-prepack/v1.0.0/"


def model(s3_uri: str, acceptance: str = "", block: str = "primary_container") -> str:
    access = f"model_access_config {{\n accept_eula = {acceptance}\n }}" if acceptance else ""
    return f'''
resource "aws_sagemaker_model" "m" {{
  name               = "m"
  execution_role_arn = "arn:aws:iam::123456789012:role/sm"
  {block} {{
    image = "763104351884.dkr.ecr.us-east-1.amazonaws.com/djl-inference:0.29.0-lmi11.0.0-cu124"
    model_data_source {{
      s3_data_source {{
        s3_uri           = "{s3_uri}"
        s3_data_type     = "S3Prefix"
        compression_type = "None"
        {access}
      }}
    }}
  }}
}}
'''


def verdicts(text: str, *, strict: bool = False) -> list[tuple[str, str, int]]:
    scanned = read_tf("main.tf", text, strict=strict)
    return [(f.rule_id, f.severity, scanned.locations[f.logical_id].line) for f in scanned.scan.findings]


@pytest.mark.parametrize(("acceptance", "expected"), [
    ("true", []), ('"true"', []), ('"1"', []), ('"0"', [("EULA001", "error", 2)]), ("false", [("EULA001", "error", 2)]),
    ("", [("EULA001", "error", 2)]), ('"yes"', [("EULA001", "error", 2)]),
    ("var.accept", [("EULA001", "error", 2)]), ("local.accept", []),
])
def test_acceptance_follows_terraforms_conversions(acceptance: str, expected: list[tuple[str, str, int]]) -> None:
    text = model(GATED, acceptance) + 'locals {\n  accept = true\n}\nvariable "accept" {\n  default = true\n}\n'
    assert verdicts(text) == expected


def test_a_validation_limits_a_variable_to_its_values_and_each_is_judged() -> None:
    validated = '''
variable "model" {
  default = "huggingface-llm-falcon-7b-bf16"
  validation {
    condition     = contains([%s], var.model)
    error_message = "x"
  }
}
'''
    uri = PUBLIC.format(model="${var.model}")
    open_only = validated % '"huggingface-llm-falcon-7b-bf16", "huggingface-llm-mistral-7b-instruct"'
    assert verdicts(model(uri) + open_only) == []
    with_gated = validated % '"huggingface-llm-falcon-7b-bf16", "huggingface-llm-gemma-7b"'
    assert verdicts(model(uri) + with_gated) == [("EULA001", "error", 2)]
    unvalidated = 'variable "model" {\n  default = "huggingface-llm-falcon-7b-bf16"\n}\n'
    assert verdicts(model(uri) + unvalidated) == [("EULA001", "warning", 2)]  # the default is not the value
    assert verdicts(model(uri) + unvalidated, strict=True) == [("EULA001", "error", 2)]


def test_repeated_and_dynamic_blocks_and_additional_sources_are_read() -> None:
    assert verdicts(model(GATED, block="container")) == [("EULA001", "error", 2)]
    dynamic = model(GATED).replace("primary_container {", 'dynamic "container" {\n for_each = ["a"]\n content {')
    dynamic = dynamic.replace('  }\n}\n', '  }\n  }\n}\n', 1)
    assert verdicts(dynamic) == [("EULA001", "error", 2)]
    additional = f'''
resource "aws_sagemaker_model" "adapters" {{
  name               = "adapters"
  execution_role_arn = "arn:aws:iam::123456789012:role/sm"
  container {{
    image = "763104351884.dkr.ecr.us-east-1.amazonaws.com/djl-inference:0.29.0-lmi11.0.0-cu124"
    additional_model_data_source {{
      channel_name = "draft"
      s3_data_source {{
        s3_uri           = "{GATED}"
        s3_data_type     = "S3Prefix"
        compression_type = "None"
      }}
    }}
  }}
}}
'''
    scanned = read_tf("main.tf", additional, strict=False)
    [finding] = scanned.scan.findings
    assert "container[0].additional_model_data_source[0].s3_data_source.model_access_config" in finding.message


def test_a_training_job_resource_is_a_training_request() -> None:
    text = f'''
resource "aws_sagemaker_training_job" "tune" {{
  training_job_name = "tune"
  role_arn          = "arn:aws:iam::123456789012:role/sm"
  algorithm_specification {{
    training_image      = "763104351884.dkr.ecr.us-east-1.amazonaws.com/huggingface-pytorch-training:2.0.0"
    training_input_mode = "File"
  }}
  input_data_config {{
    channel_name = "model"
    data_source {{
      s3_data_source {{
        s3_data_type = "S3Prefix"
        s3_uri       = "{GATED}"
      }}
    }}
  }}
}}
'''
    assert verdicts(text) == [("EULA004", "error", 2)]


def test_strings_follow_terraforms_template_rules() -> None:
    escaped = model("$${not_interpolated}/" + GATED.removeprefix("s3://"), "true")
    assert verdicts(escaped) == []  # "$${...}" is literal text: not an S3 location at all
    own = model(GATED, "").replace(f'"{GATED}"', '"s3://${aws_s3_bucket.models.id}/output/"')
    assert verdicts(own) == []  # a bucket this configuration creates is the user's own


def test_api_paths_read_in_terraforms_words() -> None:
    assert snake_path("PrimaryContainer.ModelDataSource.S3DataSource.ModelAccessConfig.AcceptEula") == (
        "primary_container.model_data_source.s3_data_source.model_access_config.accept_eula")
    assert snake_path("Containers[1].AdditionalModelDataSources[0].S3DataSource") == (
        "container[1].additional_model_data_source[0].s3_data_source")


def test_malformed_hcl_that_mentions_sagemaker_is_never_clean() -> None:
    scanned = read_tf("main.tf", 'resource "aws_sagemaker_model" "m" {\n  name = \n', strict=False)
    assert [(f.rule_id, f.severity) for f in scanned.scan.findings] == [("EULA000", "warning")]


MODELS = ("huggingface-llm-falcon-7b-bf16", "huggingface-llm-gemma-7b", "huggingface-llm-mistral-7b-instruct",
          "meta-textgeneration-llama-3-8b")


@settings(max_examples=60, deadline=None)
@given(allowed=st.lists(st.sampled_from(MODELS), min_size=1, max_size=3, unique=True),
       acceptance=st.sampled_from(("true", "false", '"1"', "")))
def test_every_value_a_validation_allows_is_judged(allowed: list[str], acceptance: str) -> None:
    """Oracle: the deployments are one per allowed value; a gated one without acceptance is a violation."""
    catalog = Catalog.default()
    accepted = acceptance in ("true", '"1"')
    violation = any(catalog.get(model_id).gated and not accepted for model_id in allowed)
    choices = ", ".join(f'"{model_id}"' for model_id in allowed)
    text = model(PUBLIC.format(model="${var.model}"), acceptance) + (
        f'variable "model" {{\n  validation {{\n    condition = contains([{choices}], var.model)\n'
        '    error_message = "x"\n  }\n}\n')
    errors = [verdict for verdict in verdicts(text, strict=True) if verdict[1] == "error"]
    assert bool(errors) == violation, text


def test_format_fills_its_verbs_in_order() -> None:
    formatted = model(GATED).replace(
        f'"{GATED}"', 'format("s3://jumpstart-private-cache-prod-%s/meta-textgeneration/%s/artifacts/'
                      'inference-prepack/v1.1.0/", data.aws_region.current.name, "meta-textgeneration-llama-3-8b")')
    scanned = read_tf("main.tf", formatted, strict=False)
    [finding] = scanned.scan.findings
    assert (finding.rule_id, finding.severity) == ("EULA001", "error")
    assert finding.model_id == "meta-textgeneration-llama-3-8b"
    accepted = formatted.replace("compression_type = \"None\"", "compression_type = \"None\"\n"
                                 "model_access_config {\n accept_eula = true\n }")
    assert verdicts(accepted) == []
