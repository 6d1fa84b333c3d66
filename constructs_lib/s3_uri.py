"""S3 URIs as the constructs and the model table take them: ``s3://bucket[/key]`` with a valid bucket name.

Pure Python, shared by the table loader (one-line table errors) and the job constructs (early ValueErrors).
"""

from __future__ import annotations

import re

S3_URI_PATTERN = re.compile(r"s3://(?P<bucket>[^/]*)(?:/(?P<key>.*))?\Z", re.DOTALL)
# S3 general purpose bucket naming rules (Amazon S3 User Guide, "Bucket naming rules").
BUCKET_PATTERN = re.compile(r"[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]\Z")
IP_ADDRESS_PATTERN = re.compile(r"\d+\.\d+\.\d+\.\d+\Z")
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
