"""How many accelerators (GPUs, or AWS Neuron devices) a SageMaker instance type has, and how many one copy of a
model uses on it: what the inference-component and serverless modes need from the catalog.

Accelerator counts from the Amazon EC2 accelerated-computing instance tables (G4dn, G5, G6, G6e, P3, P4d/P4de,
P5/P5e/P5en, Inf2, Trn1); SageMaker's ``ml.`` types carry the same hardware. Families not listed here that
start with ``c``, ``m``, ``r`` or ``t`` are CPU-only.
"""

from __future__ import annotations

from collections.abc import Mapping

from constructs_lib.catalog.catalog import ModelSpec, instance_family

# Sizes with one accelerator are the default of their family; the others are listed.
_ONE_GPU_FAMILIES = ("g4dn", "g5", "g6", "g6e", "gr6")
_MULTI_ACCELERATOR_SIZES: Mapping[str, Mapping[str, int]] = {
    "g4dn": {"12xlarge": 4, "metal": 8},
    "g5": {"12xlarge": 4, "24xlarge": 4, "48xlarge": 8},
    "g6": {"12xlarge": 4, "24xlarge": 4, "48xlarge": 8},
    "g6e": {"12xlarge": 4, "24xlarge": 4, "48xlarge": 8},
    "p2": {"xlarge": 1, "8xlarge": 8, "16xlarge": 16},
    "p3": {"2xlarge": 1, "8xlarge": 4, "16xlarge": 8},
    "p3dn": {"24xlarge": 8},
    "p4d": {"24xlarge": 8},
    "p4de": {"24xlarge": 8},
    "p5": {"48xlarge": 8},
    "p5e": {"48xlarge": 8},
    "p5en": {"48xlarge": 8},
    "inf2": {"xlarge": 1, "8xlarge": 1, "24xlarge": 6, "48xlarge": 12},
    "trn1": {"2xlarge": 1, "32xlarge": 16},
}
_CPU_FAMILY_LETTERS = ("c", "m", "r", "t")
# Container settings JumpStart's serving containers read as "accelerators per model copy" (TGI, DJL/LMI).
_ACCELERATOR_SETTINGS = ("SM_NUM_GPUS", "OPTION_TENSOR_PARALLEL_DEGREE", "TENSOR_PARALLEL_DEGREE")


def accelerator_count(instance_type: str) -> int | None:
    """Accelerators of an instance type: 0 for a CPU type, None when this table does not know the type."""
    family = instance_family(instance_type)
    size = instance_type.rsplit(".", 1)[-1]
    sizes = _MULTI_ACCELERATOR_SIZES.get(family)
    if sizes is not None and size in sizes:
        return sizes[size]
    if family in _ONE_GPU_FAMILIES:
        return 1
    if family[:1] in _CPU_FAMILY_LETTERS and family not in _MULTI_ACCELERATOR_SIZES:
        return 0
    return None


def runs_on_cpu(spec: ModelSpec) -> bool:
    """Whether the catalog lists a CPU instance type for the model (serverless endpoints have no GPU)."""
    return any(accelerator_count(instance_type) == 0 for instance_type in spec.supported_instance_types)


def accelerators_per_copy(spec: ModelSpec, instance_type: str) -> int | None:
    """Accelerators one copy of the model uses on ``instance_type``: the catalog's setting for that type where
    it gives one, else every accelerator of the instance (as a dedicated endpoint would give it); None on CPU."""
    for setting in _ACCELERATOR_SETTINGS:
        value = spec.environment(instance_type).get(setting, "")
        if value.isdigit() and int(value) > 0:
            return int(value)
    count = accelerator_count(instance_type)
    return count or None
