"""What ``eulagate check`` reads behind its PATHs, and the reports of the files that are not CloudFormation.

``check.py`` calls ``sources`` for the templates and source files to read, scans the templates itself and asks
``surface_report`` for each source file (``constructs_lib.surfaces`` reads them).
"""

import argparse
from collections.abc import Sequence
from pathlib import Path

from constructs_lib.cli.check_settings import CheckSettings
from constructs_lib.cli.reporters import ReportedFinding, TemplateReport
from constructs_lib.errors import InputError, TemplateError
from constructs_lib.records import Record
from constructs_lib.surfaces.discovery import (
    ASSEMBLY,
    SURFACES,
    TEMPLATE,
    SourceFile,
    classify,
    parse_surfaces,
    walk,
)
from constructs_lib.synth.assembly import discover_templates
from constructs_lib.synth.templates import has_template_suffix


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--surface", type=_surfaces, default=frozenset(SURFACES), metavar="LIST",
                        help=f"check only these kinds of files, comma-separated: {', '.join(SURFACES)} (default: "
                             "all; python includes notebooks, terraform includes plan JSON)")
    parser.add_argument("--skip-unknown-files", action="store_true",
                        help="pass over a given file that is no kind EulaGate reads, instead of refusing it (for "
                             "lists of changed files: pre-commit, pull requests)")


def _surfaces(text: str) -> frozenset[str]:
    try:
        return parse_surfaces(text)
    except ValueError as error:
        raise argparse.ArgumentTypeError(str(error)) from None


class Sources(Record):  # a Record: a NamedTuple compiles its constructor at start-up
    templates: list[Path]  # CloudFormation templates, those of cloud assemblies included
    files: list[SourceFile]  # the other surfaces' files

    def __init__(self, templates: list[Path], files: list[SourceFile]) -> None:
        vars(self).update(templates=templates, files=files)


def sources(paths: Sequence[str], surfaces: frozenset[str], *, skip_unknown: bool = False,
            malformed: list[TemplateError] | None = None) -> Sources:
    """The templates and source files behind ``paths``: a file as its content says, a cloud assembly through
    its manifest, any other directory walked as a repository (``surfaces.discovery``). Malformed templates go to
    ``malformed`` when it is given (each is named), else the first one is raised."""
    found: dict[Path, SourceFile] = {}
    for given in paths:
        path = Path(given)
        if path.is_dir():
            found.update((file.path, file) for file in walk(path))
        elif not path.exists() and not path.is_symlink():
            raise InputError(f"{path}: no such file or directory")
        else:
            kind = classify(path)
            if kind is None and (skip_unknown or not has_template_suffix(path)):
                if skip_unknown:
                    continue
                raise InputError(f"{path}: not a file eulagate check reads (a CloudFormation template, a cloud "
                                 "assembly, Python, a notebook, Terraform or a Terraform plan, HyperPod manifests)")
            found[path] = SourceFile(path, kind or TEMPLATE)  # a template-named file: read as one, to say why not
    chosen = [file for file in found.values() if file.surface in surfaces]
    cloudformation = [file.path for file in chosen if file.kind in (TEMPLATE, ASSEMBLY)]
    templates = discover_templates(cloudformation, malformed) if cloudformation else []
    return Sources(templates, [file for file in chosen if file.kind not in (TEMPLATE, ASSEMBLY)])


def surface_report(source: SourceFile, *, settings: CheckSettings) -> TemplateReport:
    """The report of one source file, each finding at its ``file:line:column``, with the run's rule selection."""
    from constructs_lib.surfaces import scan_source  # the readers load with the first file they read

    scanned = scan_source(source, strict=settings.strict)
    scan = settings.selected(scanned.scan)
    return TemplateReport(scan, tuple(ReportedFinding(finding, scanned.locations.get(finding.logical_id))
                                      for finding in scan.findings), (), source_file=True)
