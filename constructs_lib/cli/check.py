"""``eulagate check [PATH ...]``: the EULA rules over cloud assemblies, templates and the other surfaces' files.

Exit 0 when no finding fails the run (``--fail-on``: errors by default), 1 when one does, 2 on bad input (a
missing path, no templates, a template that is not readable JSON/YAML or has a resource it cannot judge; each
malformed template gets its own line). Which rules run and what fails the run also come from ``[tool.eulagate]``
in pyproject.toml (``constructs_lib.cli.check_settings``).
"""

from __future__ import annotations

import argparse
import gc
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from constructs_lib.cli import check_settings, check_sources
from constructs_lib.cli.check_settings import CheckSettings
from constructs_lib.cli.reporters import FORMATS, Report, TemplateReport, render, template_report
from constructs_lib.errors import InputError, TemplateError
from constructs_lib.records import replace
from constructs_lib.rules import scan_template
from constructs_lib.rules.evaluation.values import PassedValues
from constructs_lib.rules.judgeable import refuse_unjudgeable
from constructs_lib.synth.assembly import located, read_with_nested_templates
from constructs_lib.synth.templates import read_template, resource_lines

DEFAULT_PATH = "cdk.out"
# Top-level keys of a model table (docs/model-table.md): a file with these and no Resources is one.
MODEL_TABLE_KEYS = frozenset({"endpoints", "fine_tuning", "defaults", "environments"})


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "check",
        help="check a cloud assembly or templates for EULA-gated models without acceptance",
        description=(
            "Check CloudFormation templates, SageMaker SDK and boto3 scripts and notebooks, Terraform (.tf and plan "
            "JSON) and HyperPod manifests for SageMaker JumpStart models, fine-tuning and training jobs that use an "
            "EULA-gated model without accepting its EULA. A PATH is a cloud assembly directory (default: "
            f"./{DEFAULT_PATH}), a file of any of those kinds (recognized by content as well as extension), or a "
            "directory, walked as a repository (what .gitignore ignores is skipped; each cdk.out is read). Exit "
            "status: 0 when nothing fails the run (--fail-on), 1 when a finding does, 2 on bad input. Settings also "
            "come from [tool.eulagate] in the nearest pyproject.toml; flags win."
        ),
    )
    parser.add_argument("paths", nargs="*", metavar="PATH",
                        help=f"cloud assembly, file or repository directory (default: {DEFAULT_PATH})")
    parser.add_argument("--format", choices=tuple(FORMATS), default="text",
                        help="report format (default: text; concise: one line per finding)")
    parser.add_argument("--output", "-o", metavar="FILE", help="write the report to FILE instead of stdout")
    parser.add_argument("--missing-ok", action="store_true",
                        help="a PATH that does not exist is passed over with a note, and nothing to check passes "
                             "(pre-commit in a fresh clone, before the first `cdk synth`)")
    check_settings.add_arguments(parser)
    check_sources.add_arguments(parser)
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    paths = args.paths or [DEFAULT_PATH]
    settings = check_settings.resolve(args)
    if args.missing_ok:
        missing = [path for path in paths if not Path(path).exists()]
        paths = [path for path in paths if path not in missing]
        if missing and args.verbosity >= 0:
            print(f"eulagate check: nothing to check at {', '.join(missing)} (no such file or directory; run "
                  "`cdk synth` first to check a cloud assembly)", file=sys.stderr)
        if not paths:
            return 0
    if args.output and Path(args.output).is_dir():
        raise InputError(f"--output {args.output} is a directory; give the report a file name, e.g. "
                         f"--output {Path(args.output) / ('eulagate.' + args.format)}")
    collecting = gc.isenabled()
    # Parsed templates are large trees without reference cycles: the cyclic collector would only re-walk
    # them (it costs about as much as the parse itself), so it rests while templates are read.
    gc.disable()
    try:
        # With --skip-unknown-files a given file that is not a template after all is passed over, as in a walk.
        given = set() if args.skip_unknown_files else _given_files(paths)
        malformed: list[TemplateError] = []
        found = _sources(paths, args, malformed)
        scanned = [_scan(path, template, text, explicit=path in given, settings=settings, nested_read=located(nested),
                         passed=passed)
                   for path, (template, text), nested, passed in read_with_nested_templates(
                       found.templates, _reader(malformed), standalone=given)
                   if text is not None]
        scanned.extend(check_sources.surface_report(file, settings=settings) for file in found.files)
    finally:
        if collecting:
            gc.enable()
    if malformed:
        malformed.sort(key=str)
        for problem in malformed[:-1]:
            print(f"eulagate check: {problem}", file=sys.stderr)
        raise malformed[-1]
    report = Report(tuple(scanned))
    text = render(report, args.format, args.verbosity)
    if args.output:
        try:
            Path(args.output).write_text(text, encoding="utf-8")
        except OSError as error:
            raise InputError(f"cannot write {args.output}: {error.strerror or error}") from error
        if args.verbosity >= 0:
            print(f"eulagate check: {report.summary()}; {args.format} report written to {args.output}",
                  file=sys.stderr)
    else:
        sys.stdout.write(text)
    return 1 if any(settings.fails_on(reported.finding.severity) for reported in report.findings) else 0


def _given_files(paths: list[str]) -> set[Path]:
    return {Path(path) for path in paths if Path(path).is_file()}


def _sources(paths: list[str], args: argparse.Namespace, malformed: list[TemplateError]) -> check_sources.Sources:
    if paths == [DEFAULT_PATH] and not Path(DEFAULT_PATH).exists():
        raise InputError(f"no ./{DEFAULT_PATH} here: run `cdk synth` first, or pass a cloud assembly, files or a "
                         "repository directory (`eulagate check .`)")
    found = check_sources.sources(paths, args.surface, skip_unknown=args.skip_unknown_files, malformed=malformed)
    if not found.templates and not found.files and not malformed and not args.skip_unknown_files:
        raise InputError(f"nothing to check in {', '.join(paths)}: no CloudFormation templates, Python, notebooks, "
                         f"Terraform or HyperPod manifests ({', '.join(sorted(args.surface))})")
    return found


def _reader(malformed: list[TemplateError]) -> Callable[[Path, bytes | None], tuple[dict[str, Any], str | None]]:
    """Reads a template (from its bytes, when read already), or notes why it cannot be judged (every malformed
    template is named, not only the first)."""
    def read(path: Path, data: bytes | None) -> tuple[dict[str, Any], str | None]:
        try:
            template, text = read_template(path, data)
            refuse_unjudgeable(template, path)
        except TemplateError as error:
            malformed.append(error)
            return {}, None
        return template, text
    return read


def _scan(path: Path, template: dict[str, Any], text: str, *, explicit: bool, settings: CheckSettings,
          nested_read: frozenset[str], passed: PassedValues | None) -> TemplateReport:
    if explicit and "Resources" not in template:
        if MODEL_TABLE_KEYS & set(template):
            raise InputError(f"{path}: a model table, not a CloudFormation template; check it with `eulagate plan "
                             f"{path}`, or synthesize it (`cdk synth -c table={path}`) and run "
                             "`eulagate check cdk.out`")
        raise InputError(f"{path}: not a CloudFormation template (it has no Resources section)")
    scan = settings.selected(scan_template(template, template_path=str(path), strict=settings.strict,
                                           nested_templates_read=nested_read, passed=passed))
    if scan.findings:
        lines = resource_lines(path, {finding.logical_id for finding in scan.findings}, text)
        findings = tuple(replace(f, line=lines.get(f.logical_id)) for f in scan.findings)
        scan = replace(scan, findings=findings)
    return template_report(scan, template)
