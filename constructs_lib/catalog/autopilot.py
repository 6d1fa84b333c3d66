"""What SageMaker Autopilot accepts for LLM fine-tuning: the single source of these limits.

Pure Python, so both the table loader (no jsii) and the ``AutoMLFineTuningJob`` construct can import it.
Source: the SageMaker API reference, ``TextGenerationJobConfig.TextGenerationHyperParameters`` ("epochCount" 1 to 10,
"batchSize" 1 to 64, "learningRate" 0 to 1, "learningRateWarmupSteps" 0 to 250, all sent as strings), and
``AutoMLJobChannel.ContentType`` for text generation (CSV with a header, or Parquet).
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class HyperparameterRange:
    """An inclusive numeric range; ``integer`` ranges refuse fractions."""

    minimum: float
    maximum: float
    integer: bool

    def describe(self) -> str:
        kind = "an integer" if self.integer else "a number"
        low, high = (int(self.minimum), int(self.maximum)) if self.integer else (self.minimum, self.maximum)
        return f"{kind} from {low} to {high}"

    def problem(self, value: object) -> str | None:
        """Why ``value`` is out of this range, or None when it fits. Numeric strings count as their number."""
        number = as_number(value)
        if number is None or (self.integer and not float(number).is_integer()):
            return f"expected {self.describe()}, got {value!r}"
        if not self.minimum <= number <= self.maximum:
            return f"expected {self.describe()}, got {value!r}"
        return None


AUTOPILOT_HYPERPARAMETERS: dict[str, HyperparameterRange] = {
    "epochCount": HyperparameterRange(1, 10, integer=True),
    "batchSize": HyperparameterRange(1, 64, integer=True),
    "learningRate": HyperparameterRange(0, 1, integer=False),
    "learningRateWarmupSteps": HyperparameterRange(0, 250, integer=True),
}

AUTOPILOT_CONTENT_TYPES = ("text/csv;header=present", "x-application/vnd.amazon+parquet")
DEFAULT_AUTOPILOT_CONTENT_TYPE = AUTOPILOT_CONTENT_TYPES[0]


def autopilot_hyperparameter_problem(name: str, value: object) -> str | None:
    """Why ``name: value`` is not an Autopilot text-generation hyperparameter, or None when it is."""
    allowed = AUTOPILOT_HYPERPARAMETERS.get(name)
    if allowed is None:
        return f"unknown Autopilot hyperparameter {name!r}; expected one of {', '.join(AUTOPILOT_HYPERPARAMETERS)}"
    return allowed.problem(value)


def as_number(value: object) -> float | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return float(value)
    if isinstance(value, str):
        try:
            return float(value)
        except ValueError:
            return None
    return None
