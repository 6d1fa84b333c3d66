"""Which S3 locations are JumpStart artifacts, and which of those are EULA-gated: decided by the catalog.

An artifact is gated when it sits in JumpStart's gated bucket (``jumpstart-private-cache-prod-<region>``),
whatever its key, or when the catalog marks the model named by a whole segment of its key as gated. Any other
bucket holds the user's own weights (a fine-tuning output, a copy): never gated, whatever the key says.
"""

from __future__ import annotations

import re
import weakref
from dataclasses import dataclass
from typing import Any

from constructs_lib.catalog import GATED_BUCKET_PREFIX, PUBLIC_BUCKET_PREFIX, Catalog, ModelSpec
from constructs_lib.rules.intrinsics import Reader, has_tokens

_REGION_NAME = re.compile(r"[a-z]{2}(?:-[a-z]+)+-\d")
_ECR_REGION = re.compile(r"\.dkr\.ecr\.([a-z]{2}(?:-[a-z]+)+-\d)\.")


@dataclass(frozen=True)
class Artifact:
    """A JumpStart artifact location found in a template."""

    uri: str  # as a person reads it: unknown parts shown as ${...}
    gated_bucket: bool
    model: ModelSpec | None
    region: str | None  # the literal region of the bucket, when the template gives one

    @property
    def gated(self) -> bool:
        return self.gated_bucket or (self.model is not None and self.model.gated)


def s3_location(text: str) -> tuple[str, str] | None:
    """``(bucket, key)`` of an ``s3://`` URI or an S3 ``https://`` URL (virtual-hosted or path style).

    Schemes and host names are case-insensitive (RFC 3986), and a host may carry a port.
    """
    scheme, separator, rest = text.partition("://")
    if not separator:
        return None
    scheme = scheme.lower()
    if scheme == "s3":
        bucket, _, key = rest.partition("/")
        return bucket, key
    if scheme == "https":
        host, _, path = rest.partition("/")
        host = host.partition(":")[0].lower()
        if host.startswith(("s3.", "s3-")):
            bucket, _, key = path.partition("/")
            return bucket, key
        for marker in (".s3.", ".s3-"):
            index = host.find(marker)
            if index > 0:
                return host[:index], path
    return None


def literal_region(text: str | None) -> str | None:
    return text if text and _REGION_NAME.fullmatch(text) else None


def image_region(reader: Reader, image: Any) -> str | None:
    """The region of an ECR image URI (``<account>.dkr.ecr.<region>.amazonaws.com/...``), when literal."""
    text = reader.render(image)
    match = _ECR_REGION.search(text) if text else None
    return match.group(1) if match else None


class CatalogIndex:
    """Look-ups the rules need beyond ``Catalog``'s own: any-case names, region-neutral package ARNs."""

    def __init__(self, catalog: Catalog) -> None:
        self.catalog = catalog
        self._folded: dict[str, ModelSpec] = {}
        for name in catalog.names:
            spec = catalog.find(name)
            if spec is not None:
                self._folded.setdefault(name.lower(), spec)
        # A Marketplace package has the same resource name in every region (the seller account differs).
        self._packages = {
            arn.split(":", 5)[-1]: spec for spec in catalog for arn in spec.model_package_arns.values()
        }
        # Literal locations recur across a template's models and stacks: classify each once.
        self._literal_artifacts: dict[str, Artifact | None] = {}

    def model_named(self, name: str) -> ModelSpec | None:
        """A JumpStart model id or Autopilot BaseModelName, exactly or in any letter case."""
        return self.catalog.find(name) or self._folded.get(name.lower())

    def model_for_package(self, arn: str) -> ModelSpec | None:
        spec = self.catalog.model_for_package_arn(arn)
        if spec is not None:
            return spec
        parts = arn.split(":", 5)
        return self._packages.get(parts[5]) if len(parts) == 6 and parts[2] == "sagemaker" else None

    def artifact(self, reader: Reader, value: Any) -> Artifact | None:
        """The JumpStart artifact a location value names (a gated candidate first), or ``None``."""
        text = reader.render(value)
        if not text:
            return None
        if not has_tokens(text):
            if "jumpstart-" not in text.lower():  # most locations: the user's own (host names in any case)
                return None
            if text not in self._literal_artifacts:
                self._literal_artifacts[text] = self._classify(reader, text, literal=True)
            return self._literal_artifacts[text]
        first: Artifact | None = None
        for candidate in reader.context.expand(text):
            # A region filled in from a parameter's default or a mapping is a guess, not the template's region.
            artifact = self._classify(reader, candidate, literal=candidate == text)
            if artifact is not None and artifact.gated:
                return artifact
            first = first or artifact
        return first

    def _classify(self, reader: Reader, text: str, *, literal: bool) -> Artifact | None:
        location = s3_location(text)
        if location is None:
            return None
        bucket, key = location
        if bucket.startswith(GATED_BUCKET_PREFIX):
            gated_bucket, suffix = True, bucket[len(GATED_BUCKET_PREFIX):]
        elif bucket.startswith(PUBLIC_BUCKET_PREFIX):
            gated_bucket, suffix = False, bucket[len(PUBLIC_BUCKET_PREFIX):]
        else:
            return None
        region = literal_region(suffix) if literal else None
        return Artifact(reader.context.display(text), gated_bucket, self.catalog.model_in_s3_key(key), region)

_INDEXES: weakref.WeakKeyDictionary[Catalog, CatalogIndex] = weakref.WeakKeyDictionary()


def catalog_index(catalog: Catalog) -> CatalogIndex:
    index = _INDEXES.get(catalog)
    if index is None:
        index = _INDEXES[catalog] = CatalogIndex(catalog)
    return index
