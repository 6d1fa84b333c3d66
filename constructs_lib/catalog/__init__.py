"""The JumpStart model catalog (pure Python: no jsii, safe for the CLI and the rule engine)."""

from constructs_lib.catalog.catalog import (
    CATALOG_ENV_VAR,
    DEFAULT_CATALOG_PATH,
    GATED_BUCKET_PREFIX,
    PUBLIC_BUCKET_PREFIX,
    Catalog,
    ModelSpec,
    TrainingSpec,
    content_bucket,
    instance_family,
)
from constructs_lib.catalog.errors import (
    AutopilotUnsupportedModelError,
    CatalogError,
    NotDeployableError,
    NotTrainableError,
    UnknownModelError,
    UnsupportedInstanceTypeError,
    UnsupportedRegionError,
)

__all__ = [
    "CATALOG_ENV_VAR",
    "DEFAULT_CATALOG_PATH",
    "GATED_BUCKET_PREFIX",
    "PUBLIC_BUCKET_PREFIX",
    "AutopilotUnsupportedModelError",
    "Catalog",
    "CatalogError",
    "ModelSpec",
    "NotDeployableError",
    "NotTrainableError",
    "TrainingSpec",
    "UnknownModelError",
    "UnsupportedInstanceTypeError",
    "UnsupportedRegionError",
    "content_bucket",
    "instance_family",
]
