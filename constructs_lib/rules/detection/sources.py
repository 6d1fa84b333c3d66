"""Where a resource was declared, as its template's metadata records it: for reports at the source, not the
generated template.

- A resource declared from a model-table row carries ``Metadata: {"eulagate:source": {"file": "models.yaml",
  "line": 9}}`` (the stacks write it; ``file`` is relative to the directory synthesized in).
- A resource CDK synthesized carries its construct path in ``Metadata: {"aws:cdk:path": "Stack/Row/Model"}``.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any, TypeGuard

from constructs_lib.records import Record

SOURCE_METADATA = "eulagate:source"
CONSTRUCT_PATH_METADATA = "aws:cdk:path"


class SourceLocation(Record):
    """A line of a source file (a model table) that declares a resource; ``column`` 1 when none is recorded."""

    file: str
    line: int
    column: int

    def __init__(self, file: str, line: int, column: int = 1) -> None:
        vars(self).update(file=file, line=line, column=column)

    def __str__(self) -> str:
        return f"{self.file}:{self.line}"


def source_metadata(file: str | Path, line: int) -> dict[str, Any]:
    """The metadata value that records a declaration at ``file``'s ``line`` (written under ``SOURCE_METADATA``)."""
    path = Path(file)
    if path.is_absolute() and path.is_relative_to(Path.cwd()):
        path = path.relative_to(Path.cwd())  # as the repository (and code scanning) sees it
    return {"file": path.as_posix(), "line": line}


def declared_at(resource: Any) -> SourceLocation | None:
    """The source location a resource's metadata records, or None (none recorded, or malformed)."""
    recorded = _metadata(resource).get(SOURCE_METADATA)
    if not isinstance(recorded, Mapping):
        return None
    file, line, column = recorded.get("file"), recorded.get("line"), recorded.get("column", 1)
    if isinstance(file, str) and file and _positive(line) and _positive(column):
        return SourceLocation(file, line, column)
    return None


def construct_path(resource: Any) -> str | None:
    """The construct path CDK recorded for a resource (``aws:cdk:path``), or None."""
    path = _metadata(resource).get(CONSTRUCT_PATH_METADATA)
    return path if isinstance(path, str) and path else None


def _metadata(resource: Any) -> Mapping[str, Any]:
    metadata = resource.get("Metadata") if isinstance(resource, Mapping) else None
    return metadata if isinstance(metadata, Mapping) else {}


def _positive(value: Any) -> TypeGuard[int]:
    return isinstance(value, int) and not isinstance(value, bool) and value > 0
