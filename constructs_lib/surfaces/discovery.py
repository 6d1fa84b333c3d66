"""Which files ``eulagate check`` reads, and as what: by extension, and by content where the extension does not
decide (a ``.json`` may be a template, a Terraform plan or a notebook; a ``.yaml`` a template or manifests).

A directory is walked as a repository: in a git work tree, the files ``git ls-files --cached --others
--exclude-standard`` lists (what ``.gitignore``, ``.git/info/exclude`` and the global excludes do not ignore,
exactly as git decides), less installed third-party code (``node_modules``, ``site-packages``, ``.terraform``);
elsewhere every file, less hidden directories, those and virtual environments.
Each ``cdk.out`` cloud assembly below it is read too, ignored or not: it is what the app deploys.
"""

import json
import os
import re
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import NamedTuple

from constructs_lib.files import UnreadableFile, read_file_bytes
from constructs_lib.patterns import compile_on_use

CLOUDFORMATION = "cloudformation"
PYTHON = "python"
TERRAFORM = "terraform"
KUBERNETES = "kubernetes"
SURFACES = (CLOUDFORMATION, PYTHON, TERRAFORM, KUBERNETES)

# File kinds, and the surface each belongs to.
TEMPLATE = "template"
ASSEMBLY = "assembly"
PYTHON_SOURCE = "python-source"
NOTEBOOK = "notebook"
TERRAFORM_SOURCE = "terraform-source"
TERRAFORM_PLAN = "terraform-plan"
MANIFESTS = "kubernetes-manifests"
SURFACE_OF = {TEMPLATE: CLOUDFORMATION, ASSEMBLY: CLOUDFORMATION, PYTHON_SOURCE: PYTHON, NOTEBOOK: PYTHON,
              TERRAFORM_SOURCE: TERRAFORM, TERRAFORM_PLAN: TERRAFORM, MANIFESTS: KUBERNETES}

ASSEMBLY_DIRECTORY = "cdk.out"
ASSEMBLY_MANIFEST = "manifest.json"
MAX_FILE_BYTES = 10_000_000  # larger files in a walk are data, not code or templates
_SKIPPED_DIRECTORIES = frozenset({"node_modules", "__pycache__", ".git", ".terraform"})
# Other people's code that a repository may hold without ignoring it: never the repository's own deployments.
_THIRD_PARTY = frozenset({"node_modules", "site-packages", ".terraform"})
_CONTENT_SUFFIXES = frozenset({".json", ".yaml", ".yml"})
_SUFFIX_KINDS = {".py": PYTHON_SOURCE, ".pyw": PYTHON_SOURCE, ".ipynb": NOTEBOOK, ".tf": TERRAFORM_SOURCE,
                 ".template": TEMPLATE}
_WALKED_SUFFIXES = frozenset(_SUFFIX_KINDS) | _CONTENT_SUFFIXES  # what a walk looks at; other files are skipped
_YAML_TEMPLATE = compile_on_use(r"^(Resources|AWSTemplateFormatVersion)\s*:", re.MULTILINE)
_YAML_MANIFEST = compile_on_use(r"^apiVersion\s*:", re.MULTILINE)
_HCL = compile_on_use(r'^\s*(resource|variable|provider|module|terraform|locals|data)\s+("|\{)', re.MULTILINE)
_PYTHON = compile_on_use(r"^(#!.*python|import \w|from [\w.]+ import )", re.MULTILINE)
OPERATOR_GROUP = "inference.sagemaker.aws.amazon.com"


class SourceFile(NamedTuple):  # a NamedTuple: cheaper to define at start-up than a dataclass
    path: Path
    kind: str

    @property
    def surface(self) -> str:
        return SURFACE_OF[self.kind]


def kind_by_content(text: str, suffix: str) -> str | None:
    """What a file is, from its text (and its suffix where that decides), or ``None`` when nothing we check."""
    if suffix in _SUFFIX_KINDS:
        return _SUFFIX_KINDS[suffix]
    head = text.lstrip()[:1]
    if head in ("{", "["):
        if '"nbformat"' in text and '"cells"' in text:
            return NOTEBOOK
        if '"format_version"' in text and ('"planned_values"' in text or '"resource_changes"' in text
                                           or ('"root_module"' in text and '"values"' in text)):
            return TERRAFORM_PLAN
        return TEMPLATE if '"Resources"' in text else None
    if _YAML_TEMPLATE.search(text):
        return TEMPLATE
    if _YAML_MANIFEST.search(text):
        return MANIFESTS if OPERATOR_GROUP in text or suffix not in _CONTENT_SUFFIXES else None
    if suffix in _CONTENT_SUFFIXES:
        return None
    if _HCL.search(text):
        return TERRAFORM_SOURCE
    if _PYTHON.search(text):
        return PYTHON_SOURCE
    return None


def classify(path: Path) -> str | None:
    """The kind of a file, or ``None``; a file that cannot be read as text is ``None`` here (read it to fail)."""
    return _classified(path)[0]


def _classified(path: Path) -> tuple[str | None, bytes | None]:
    """``classify``'s kind, with the bytes it read to decide it (None when the suffix decided, or nothing was read)."""
    suffix = path.suffix.lower()
    if suffix in _SUFFIX_KINDS:
        return _SUFFIX_KINDS[suffix], None
    try:  # judged by what was opened: a file swapped for a FIFO after a look at its name is never waited on
        data = read_file_bytes(path, limit=MAX_FILE_BYTES)
    except UnreadableFile:
        return None, None
    return kind_by_content(data.decode("utf-8-sig", errors="replace"), suffix), data


def walk(directory: Path) -> Iterator[SourceFile]:
    """The files of a repository directory that ``eulagate check`` reads, in a stable order."""
    if (directory / ASSEMBLY_MANIFEST).is_file():
        yield SourceFile(directory, ASSEMBLY)
        return
    assemblies = sorted(_assemblies(directory))
    yield from (SourceFile(assembly, ASSEMBLY) for assembly in assemblies)
    inside = tuple(assemblies)
    listed = _git_files(directory)
    for path in sorted(listed if listed is not None else _plain_walk(directory)):
        if any(path.is_relative_to(assembly) for assembly in inside) or _THIRD_PARTY & set(_below(path, directory)):
            continue
        suffix = path.suffix.lower()
        if suffix not in _WALKED_SUFFIXES:
            continue
        kind, data = _classified(path)
        if kind == TEMPLATE and suffix == ".json" and data is not None and not _json_template(data):
            continue  # JSON that only mentions "Resources" somewhere (a policy, a lock file): not a template
        if kind is not None:
            yield SourceFile(path, kind)


def _below(path: Path, directory: Path) -> tuple[str, ...]:
    """The parts of ``path`` below the directory walked (what the repository holds, not where it sits)."""
    try:
        return path.relative_to(directory).parts
    except ValueError:
        return path.parts


def _json_template(data: bytes) -> bool:
    """Whether a JSON file found in a walk (its bytes, as ``classify`` read them) is a template: a mapping with
    ``Resources``, or JSON that cannot be read (reading it as a template then says what is wrong, as for any file
    that looks like one)."""
    try:
        document = json.loads(data.decode("utf-8-sig"))
    except ValueError:
        return True
    return isinstance(document, dict) and "Resources" in document


def _assemblies(directory: Path) -> Iterator[Path]:
    for root, directories, files in os.walk(directory):
        here = Path(root)
        if here.name == ASSEMBLY_DIRECTORY and ASSEMBLY_MANIFEST in files:
            directories[:] = []
            yield here
            continue
        directories[:] = [d for d in directories if d not in _SKIPPED_DIRECTORIES
                          and not (Path(root, d) / "pyvenv.cfg").exists()]


def _git_files(directory: Path) -> list[Path] | None:
    """The files git does not ignore below ``directory``, or ``None`` outside a git work tree (or without git)."""
    import shutil  # only for a directory walk, not on every run of the CLI
    import subprocess

    git = shutil.which("git")
    if git is None:
        return None

    try:
        result = subprocess.run([git, "-C", str(directory), "ls-files", "-z", "--cached", "--others",
                                 "--exclude-standard", "--full-name", "."], capture_output=True, timeout=120,
                                check=False)
        top = subprocess.run([git, "-C", str(directory), "rev-parse", "--show-toplevel"], capture_output=True,
                             timeout=30, check=False, text=True)
    except (OSError, subprocess.SubprocessError):
        return None
    if result.returncode != 0 or top.returncode != 0:
        return None
    root = Path(top.stdout.strip())
    paths = []
    for name in result.stdout.decode("utf-8", errors="surrogateescape").split("\0"):
        if name:
            path = root / name
            try:
                paths.append(directory / path.relative_to(directory.resolve()))
            except ValueError:
                paths.append(path)
    return [path for path in paths if path.is_file()]  # a deleted tracked file is listed until committed


def _plain_walk(directory: Path) -> Iterator[Path]:
    for root, directories, files in os.walk(directory):
        directories[:] = [d for d in directories if not d.startswith(".") and d not in _SKIPPED_DIRECTORIES
                          and not (Path(root, d) / "pyvenv.cfg").exists()]
        yield from (Path(root, name) for name in files)


def parse_surfaces(text: str) -> frozenset[str]:
    """``--surface cloudformation,python``: the surfaces named; ``ValueError`` naming an unknown one."""
    names = {name.strip().lower() for name in text.split(",") if name.strip()}
    unknown = sorted(names - set(SURFACES))
    if unknown or not names:
        raise ValueError(f"unknown surface {', '.join(unknown) or repr(text)}; choose from {', '.join(SURFACES)}")
    return frozenset(names)


def select(files: Iterable[SourceFile], surfaces: frozenset[str]) -> list[SourceFile]:
    return [file for file in files if file.surface in surfaces]
