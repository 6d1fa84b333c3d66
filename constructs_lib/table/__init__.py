"""The model table (``models.yaml``): load, validate, resolve per target, and lay out into stacks.

Pure Python (PyYAML and the catalog; no jsii), so ``eulagate plan`` and editors' tooling stay fast. The JSON
Schema for editor completion ships beside this file as ``schema.json`` (``SCHEMA_PATH``).
"""

from pathlib import Path

from constructs_lib.errors import TableError
from constructs_lib.table.loader import load_table, parse_table
from constructs_lib.table.model import (
    Autoscaling,
    CapacityOverride,
    Controls,
    DataCaptureSettings,
    DeployBlock,
    EndpointRow,
    Environment,
    FineTuningRow,
    ModelTable,
    Placement,
    Row,
    Target,
    VpcSettings,
)

SCHEMA_PATH = Path(__file__).with_name("schema.json")
DEFAULT_TABLE = "models.yaml"

__all__ = [
    "DEFAULT_TABLE",
    "SCHEMA_PATH",
    "Autoscaling",
    "CapacityOverride",
    "Controls",
    "DataCaptureSettings",
    "DeployBlock",
    "EndpointRow",
    "Environment",
    "FineTuningRow",
    "ModelTable",
    "Placement",
    "Row",
    "TableError",
    "Target",
    "VpcSettings",
    "load_table",
    "parse_table",
]
