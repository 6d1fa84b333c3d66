"""The hook's Lambda code: the jsii-free part of ``constructs_lib`` and the pure-Python modules of PyYAML and
jsonata-python, staged by Python (no Docker, no pip) into a directory the CDK asset packs, or into a zip for the
organisation rollout.

The Lambda Python runtime brings the standard library and boto3, not PyYAML; its C extension is left out (it
is built for this machine's interpreter), so YAML templates are read by PyYAML's pure-Python loader there.
"""

from __future__ import annotations

import functools
import hashlib
import importlib.metadata
import importlib.util
import shutil
import tempfile
import zipfile
from pathlib import Path

PACKAGE_ROOT = Path(__file__).resolve().parents[1]  # constructs_lib/
# What the handler imports, relative to constructs_lib/ (layers: errors, aws_names, files, records and patterns,
# catalog, rules, the template reader, the hook). Nothing here may import aws_cdk: tests/unit/test_hook_bundle.py
# proves it.
BUNDLED = ("__init__.py", "errors.py", "aws_names.py", "files.py", "records.py", "patterns.py", "catalog", "rules",
           "synth/templates.py", "hook")
# A package of which only some modules are bundled gets this __init__ (its own may import jsii modules).
_PARTIAL_PACKAGE_INIT = '"""Only the jsii-free modules of this package are bundled with the EulaGate hook."""\n'
_ZIP_DATE = (1980, 1, 1, 0, 0, 0)
# The engine's dependencies the Lambda runtime lacks, bundled as their pure-Python modules: (import name,
# distribution). jsonata-python reads Step Functions' JSONata expressions.
_PURE_PYTHON_DEPENDENCIES = (("yaml", "PyYAML"), ("jsonata", "jsonata-python"))


def _package_files() -> dict[str, bytes]:
    """Bundle path -> content, for every file of the bundle."""
    files: dict[str, bytes] = {}
    for entry in BUNDLED:
        source = PACKAGE_ROOT / entry
        paths = sorted(source.rglob("*")) if source.is_dir() else [source]
        for path in paths:
            if path.is_file() and "__pycache__" not in path.parts and path.suffix != ".pyc":
                files[f"constructs_lib/{path.relative_to(PACKAGE_ROOT).as_posix()}"] = path.read_bytes()
        parent = Path(entry).parent
        while parent != Path("."):
            init = f"constructs_lib/{parent.as_posix()}/__init__.py"
            if parent.as_posix() not in BUNDLED:
                files.setdefault(init, _PARTIAL_PACKAGE_INIT.encode())
            parent = parent.parent
    for module, distribution in _PURE_PYTHON_DEPENDENCIES:
        spec = importlib.util.find_spec(module)
        if spec is None or not spec.submodule_search_locations:
            raise RuntimeError(f"{distribution} is not installed: the hook bundle needs its pure-Python modules")
        module_dir = Path(next(iter(spec.submodule_search_locations)))
        for path in sorted(module_dir.glob("*.py")):
            files[f"{module}/{path.name}"] = path.read_bytes()
        for license_file in importlib.metadata.files(distribution) or []:
            if license_file.name.upper().startswith("LICENSE"):
                files[f"{module}/LICENSE"] = Path(str(license_file.locate())).read_bytes()
    return files


@functools.cache
def bundle_files() -> tuple[tuple[str, bytes], ...]:
    return tuple(sorted(_package_files().items()))


@functools.cache
def bundle_hash() -> str:
    digest = hashlib.sha256()
    for name, content in bundle_files():
        digest.update(name.encode() + b"\0" + hashlib.sha256(content).digest())
    return digest.hexdigest()


def bundle_key() -> str:
    """The S3 key the organisation rollout expects the zip at: named by its content, so a new version is a new key."""
    return f"eulagate-hook/{bundle_hash()[:32]}.zip"


@functools.cache
def stage_bundle() -> Path:
    """A directory holding the bundle, named by its content (reused by later synths of the same code)."""
    directory = Path(tempfile.gettempdir()) / f"eulagate-hook-{bundle_hash()[:32]}"
    if not (directory / ".complete").is_file():
        staging = Path(tempfile.mkdtemp(prefix="eulagate-hook-staging-"))
        for name, content in bundle_files():
            target = staging / name
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(content)
        (staging / ".complete").write_text(bundle_hash())
        if directory.exists():  # a staging interrupted before it completed
            shutil.rmtree(directory)
        try:
            staging.rename(directory)
        except OSError:  # another process staged the same content meanwhile
            shutil.rmtree(staging, ignore_errors=True)
    return directory


def write_bundle_zip(destination: str | Path) -> Path:
    """The bundle as a zip with fixed timestamps: the same code always gives the same bytes."""
    destination = Path(destination)
    with zipfile.ZipFile(destination, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for name, content in bundle_files():
            info = zipfile.ZipInfo(name, date_time=_ZIP_DATE)
            info.external_attr = 0o644 << 16
            info.compress_type = zipfile.ZIP_DEFLATED
            archive.writestr(info, content)
    return destination
