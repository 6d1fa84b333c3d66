"""The security controls of a row: ``kms_key_arn``, ``vpc``, ``network_isolation`` (on rows and ``defaults:``)
and ``data_capture`` (endpoint rows and ``deploy:`` blocks).

Formats from the API references: KMS key ARNs (``arn:<partition>:kms:<region>:<account>:key/<key id>``, the id a
UUID or a multi-region ``mrk-`` id), and SageMaker ``VpcConfig`` (1 to 16 subnets, 1 to 5 security groups) and
``DataCaptureConfig`` (``InitialSamplingPercentage`` 0 to 100, capture modes ``Input``/``Output``).
"""

from __future__ import annotations

import re
from collections.abc import Callable

from constructs_lib.aws_names import KMS_KEY_ARN_PATTERN
from constructs_lib.table.fields import (
    MISSING,
    Fields,
    read_boolean,
    read_integer,
    read_s3_uri,
    read_string,
    read_string_list,
)
from constructs_lib.table.model import Controls, DataCaptureSettings, Target, VpcSettings

CONTROL_KEYS = ("kms_key_arn", "vpc", "network_isolation")
VPC_KEYS = ("subnet_ids", "security_group_ids")
DATA_CAPTURE_KEYS = ("destination", "sampling_percentage", "capture_input", "capture_output")
MAX_SUBNETS = 16
MAX_SECURITY_GROUPS = 5

KMS_KEY_ARN_EXAMPLE = "arn:aws:kms:us-east-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab"
SUBNET_ID_PATTERN = re.compile(r"subnet-[0-9a-f]{8}(?:[0-9a-f]{9})?\Z")
SECURITY_GROUP_ID_PATTERN = re.compile(r"sg-[0-9a-f]{8}(?:[0-9a-f]{9})?\Z")


def read_controls(fields: Fields, defaults: Controls | None = None) -> Controls:
    """The row's (or ``defaults:``'s) controls; a key the row leaves out keeps the default's value."""
    defaults = defaults or Controls()
    own_key = _kms_key_arn(fields)
    own_vpc = _vpc(fields)
    own_isolation = read_boolean(fields, "network_isolation")
    return Controls(
        kms_key_arn=own_key or defaults.kms_key_arn,
        vpc=own_vpc or defaults.vpc,
        network_isolation=defaults.network_isolation if own_isolation is None else own_isolation,
    )


def check_controls_fit_targets(fields: Fields, controls: Controls, targets: list[Target]) -> None:
    """A key serves its own region (a multi-region key has a replica in each); subnets and security groups
    belong to one VPC, so a row with ``vpc`` has exactly one target."""
    origin = {key: "" if fields.get(key) is not MISSING else " (from defaults)" for key in CONTROL_KEYS}
    if controls.kms_key_arn is not None:
        match = KMS_KEY_ARN_PATTERN.match(controls.kms_key_arn)
        assert match is not None  # checked when read
        if not match["id"].startswith("mrk-"):
            elsewhere = sorted({t.region for t in targets if t.region != match["region"]})
            if elsewhere:
                fields.fail("kms_key_arn", f"the key is in {match['region']} but the row also deploys to "
                                           f"{', '.join(elsewhere)}{origin['kms_key_arn']}; KMS keys are regional: "
                                           "use a multi-region key (key/mrk-...) or one row per region")
    if controls.vpc is not None and len(targets) != 1:
        listed = ", ".join(f"{t.account or '(any account)'}/{t.region}" for t in targets)
        fields.fail("vpc", f"subnets and security groups belong to one VPC in one account and region, but the row "
                           f"deploys to {len(targets)} targets ({listed}){origin['vpc']}; give the row one region "
                           "or one single-target environment")


def read_data_capture(fields: Fields) -> DataCaptureSettings | None:
    capture = fields.nested("data_capture", DATA_CAPTURE_KEYS)
    if capture is None:
        return None
    settings = DataCaptureSettings(
        destination=read_s3_uri(capture, "destination", required=True),
        sampling_percentage=read_integer(capture, "sampling_percentage", default=100, minimum=0, maximum=100),
        capture_input=_default_true(read_boolean(capture, "capture_input")),
        capture_output=_default_true(read_boolean(capture, "capture_output")),
    )
    if not (settings.capture_input or settings.capture_output):
        capture.fail("capture_output", "capture_input and capture_output are both false; capture at least one")
    return settings


def _default_true(value: bool | None) -> bool:
    return True if value is None else value


def _kms_key_arn(fields: Fields) -> str | None:
    arn = read_string(fields, "kms_key_arn")
    if arn is None:
        return None
    if ":alias/" in arn or arn.startswith("alias/"):
        fields.fail("kms_key_arn", f"expected a key ARN like {KMS_KEY_ARN_EXAMPLE}, got the alias {arn!r}: IAM "
                                   "grants name keys, not aliases; give the ARN of the key the alias points to")
    if not KMS_KEY_ARN_PATTERN.match(arn):
        fields.fail("kms_key_arn", f"expected a key ARN like {KMS_KEY_ARN_EXAMPLE} (or key/mrk-... for a "
                                   f"multi-region key), got {arn!r}")
    return arn


def _vpc(fields: Fields) -> VpcSettings | None:
    vpc = fields.nested("vpc", VPC_KEYS)
    if vpc is None:
        return None
    for key in VPC_KEYS:
        if vpc.get(key) is MISSING:
            vpc.fail(key, "required field is missing (give both subnet_ids and security_group_ids)")
    return VpcSettings(
        subnet_ids=read_string_list(
            vpc, "subnet_ids", max_items=MAX_SUBNETS, check=_id_check(SUBNET_ID_PATTERN, "subnet-0123456789abcdef0"),
        ),
        security_group_ids=read_string_list(
            vpc, "security_group_ids", max_items=MAX_SECURITY_GROUPS,
            check=_id_check(SECURITY_GROUP_ID_PATTERN, "sg-0123456789abcdef0"),
        ),
    )


def _id_check(pattern: re.Pattern[str], example: str) -> Callable[[str], None]:
    def check(value: str) -> None:
        if not pattern.match(value):
            raise ValueError(f"expected an id like {example}, got {value!r}")
    return check
