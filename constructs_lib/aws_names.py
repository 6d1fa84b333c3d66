"""AWS names as EulaGate takes them: S3 URIs, ECR images, regions, partitions, accounts, CDK tokens, tags.

Pure Python at the bottom of the package: the table loader, the constructs and the rule engine share these one
implementations (one S3 URI check, one ECR image parser, one region pattern, one token test).
"""

import re
from typing import NamedTuple

from constructs_lib.patterns import compile_on_use

S3_URI_PATTERN = compile_on_use(r"s3://(?P<bucket>[^/]*)(?:/(?P<key>.*))?\Z", re.DOTALL)
# S3 general purpose bucket naming rules (Amazon S3 User Guide, "Bucket naming rules").
BUCKET_PATTERN = compile_on_use(r"[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]\Z")
IP_ADDRESS_PATTERN = compile_on_use(r"\d+\.\d+\.\d+\.\d+\Z")
RESERVED_BUCKET_PREFIXES = ("xn--", "sthree-", "amzn-s3-demo-")
RESERVED_BUCKET_SUFFIXES = ("-s3alias", "--ol-s3", ".mrap", "--x-s3", "--table-s3")
MAX_S3_URI_LENGTH = 1024  # SageMaker's S3Uri limit


def s3_uri_problem(uri: str) -> str | None:
    """Why ``uri`` is not ``s3://bucket[/key]`` with a valid bucket name, or None when it is.

    Keys may not hold wildcards: roles are scoped to the prefix, and ``*``/``?`` there would widen them.
    """
    match = S3_URI_PATTERN.match(uri)
    if not match:
        return "it must start with s3:// (not https:// or a bare path)"
    bucket, key = match["bucket"], match["key"] or ""
    if not bucket:
        return "the bucket name is missing"
    if not BUCKET_PATTERN.match(bucket) or ".." in bucket:
        return (f"bucket {bucket!r} is not a valid S3 bucket name (3 to 63 lowercase letters, digits, dots and "
                "hyphens, starting and ending with a letter or digit, no two adjacent dots)")
    if IP_ADDRESS_PATTERN.match(bucket):
        return f"bucket {bucket!r} is formatted as an IP address, which S3 does not allow"
    if bucket.startswith(RESERVED_BUCKET_PREFIXES) or bucket.endswith(RESERVED_BUCKET_SUFFIXES):
        return f"bucket {bucket!r} uses a prefix or suffix that S3 reserves"
    if any(character.isspace() or not character.isprintable() for character in key):
        return "the key contains a space or a control character"
    if "*" in key or "?" in key:
        return "the key contains a wildcard (* or ?); give the literal prefix"
    if len(uri) > MAX_S3_URI_LENGTH:
        return f"it is {len(uri)} characters long; SageMaker allows at most {MAX_S3_URI_LENGTH}"
    return None


def split_s3_uri(uri: str, *, what: str = "S3 URI") -> tuple[str, str]:
    """``s3://bucket/key`` -> ``(bucket, key)``; a ValueError naming ``what`` unless ``s3_uri_problem`` accepts it."""
    problem = s3_uri_problem(uri)
    if problem is not None:
        raise ValueError(f"{what} {uri!r} is not an S3 URI of the form s3://bucket/key: {problem}")
    bucket, _, key = uri.removeprefix("s3://").partition("/")
    return bucket, key


# -- regions, partitions, accounts ------------------------------------------------------------------------------

REGION_PATTERN = compile_on_use(r"[a-z]{2}(-[a-z]+)+-\d+\Z")
ACCOUNT_PATTERN = compile_on_use(r"\d{12}\Z")
# Partition of a region by its prefix; every other region is in `aws`.
_PARTITION_PREFIXES = (
    ("cn-", "aws-cn"),
    ("us-gov-", "aws-us-gov"),
    ("us-isob-", "aws-iso-b"),
    ("us-isof-", "aws-iso-f"),
    ("eu-isoe-", "aws-iso-e"),
    ("us-iso-", "aws-iso"),
    ("eusc-", "aws-eusc"),
)


def partition_of(region: str) -> str:
    return next((name for prefix, name in _PARTITION_PREFIXES if region.startswith(prefix)), "aws")


# -- KMS keys ---------------------------------------------------------------------------------------------------

# arn:<partition>:kms:<region>:<account>:key/<key id> (AWS KMS Developer Guide, "Key identifiers"): the id is a
# UUID, or mrk- and 32 hex digits for a multi-region key, whose replicas share the id in every region.
KMS_KEY_ARN_PATTERN = compile_on_use(
    r"arn:aws[a-z-]*:kms:(?P<region>[a-z]{2}(?:-[a-z]+)+-\d+):\d{12}:key/"
    r"(?P<id>mrk-[0-9a-f]{32}|[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})\Z"
)


# -- ECR images -------------------------------------------------------------------------------------------------

# <account>.dkr.ecr.<region>.<domain>/<repository>[:tag|@sha256:digest] (Amazon ECR User Guide, image URIs).
ECR_IMAGE_PATTERN = compile_on_use(
    r"(?P<account>\d{12})\.dkr\.ecr\.(?P<region>[a-z]{2}(?:-[a-z]+)+-\d+)\.[a-z0-9.-]+/"
    r"(?P<repository>[a-z0-9][a-z0-9._/-]*)(?::[\w.-]+|@sha256:[0-9a-f]{64})?"
)


class EcrImage(NamedTuple):  # a NamedTuple: cheaper to define at start-up than a dataclass
    account: str
    region: str
    repository: str

    def repository_arn(self) -> str:
        """The repository's ARN, in the image's own account and region (pulls need no wider grant)."""
        return f"arn:{partition_of(self.region)}:ecr:{self.region}:{self.account}:repository/{self.repository}"


def parse_ecr_image(uri: str) -> EcrImage | None:
    """The parts of a literal ECR image URI, or None when ``uri`` is not one."""
    match = ECR_IMAGE_PATTERN.fullmatch(uri)
    return EcrImage(match["account"], match["region"], match["repository"]) if match else None


# -- CDK tokens -------------------------------------------------------------------------------------------------

# CDK encodes an unresolved string token as `${Token[...]}` inside the string, and a list token as `#{Token[...]}`.
TOKEN_MARKERS = ("${Token[", "#{Token[")


def is_token(value: object) -> bool:
    """Whether a string holds a CDK token (a value CloudFormation only knows at deploy time).

    Pure Python, so the table layer and the rule engine can ask without starting jsii.
    """
    return isinstance(value, str) and any(marker in value for marker in TOKEN_MARKERS)


# -- tags -------------------------------------------------------------------------------------------------------

# The tags the SageMaker Python SDK puts on JumpStart models, endpoint configs, endpoints and training jobs.
JUMPSTART_MODEL_ID_TAG = "sagemaker-sdk:jumpstart-model-id"
JUMPSTART_MODEL_VERSION_TAG = "sagemaker-sdk:jumpstart-model-version"
