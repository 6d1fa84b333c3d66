"""``eulagate check [PATH ...]``: the EULA rules over a synthesized cloud assembly or template files.

Exit 0 when no finding is an error, 1 when one is, 2 on bad input (a missing path, no templates, a template
that is not readable JSON/YAML).
"""

from __future__ import annotations

import argparse
import dataclasses
import gc
import sys
from pathlib import Path
from typing import Any

from constructs_lib.cli.reporters import FORMATS, Report, TemplateReport, render, template_report
from constructs_lib.errors import InputError
from constructs_lib.rules import scan_template
from constructs_lib.synth.assembly import discover_templates, located, read_with_nested_templates
from constructs_lib.synth.templates import read_template, resource_lines

DEFAULT_PATH = "cdk.out"
# Top-level keys of a model table (docs/model-table.md): a file with these and no Resources is one.
MODEL_TABLE_KEYS = frozenset({"endpoints", "fine_tuning", "defaults", "environments"})


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "check",
        help="check a cloud assembly or templates for EULA-gated models without acceptance",
        description=(
            "Check CloudFormation templates for SageMaker JumpStart models, fine-tuning and training jobs that "
            "use an EULA-gated model without accepting its EULA. A PATH is a cloud assembly directory "
            f"(default: ./{DEFAULT_PATH}) or a template file (.json, .yaml, .yml, .template). Exit status: 0 "
            "when nothing is an error, 1 when a finding is, 2 on bad input."
        ),
    )
    parser.add_argument("paths", nargs="*", metavar="PATH",
                        help=f"cloud assembly or template (default: {DEFAULT_PATH})")
    parser.add_argument("--format", choices=tuple(FORMATS), default="text", help="report format (default: text)")
    parser.add_argument("--output", "-o", metavar="FILE", help="write the report to FILE instead of stdout")
    parser.add_argument("--strict", action="store_true",
                        help="an unknown (a location unknown before deployment, a model the catalog does not "
                             "know) is an error, not a warning")
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    paths = args.paths or [DEFAULT_PATH]
    if args.output and Path(args.output).is_dir():
        raise InputError(f"--output {args.output} is a directory; give the report a file name, e.g. "
                         f"--output {Path(args.output) / ('eulagate.' + args.format)}")
    collecting = gc.isenabled()
    # Parsed templates are large trees without reference cycles: the cyclic collector would only re-walk
    # them (it costs about as much as the parse itself), so it rests while templates are read.
    gc.disable()
    try:
        given = _given_files(paths)
        report = Report(tuple(
            _scan(path, template, text, explicit=path in given, strict=args.strict, nested_read=located(nested))
            for path, (template, text), nested in read_with_nested_templates(_templates(paths), read_template)))
    finally:
        if collecting:
            gc.enable()
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
    return 1 if report.errors else 0


def _given_files(paths: list[str]) -> set[Path]:
    return {Path(path) for path in paths if Path(path).is_file()}


def _templates(paths: list[str]) -> list[Path]:
    if paths == [DEFAULT_PATH] and not Path(DEFAULT_PATH).exists():
        raise InputError(f"no ./{DEFAULT_PATH} here: run `cdk synth` first, or pass a cloud assembly or template files")
    templates = discover_templates(paths)  # a TemplateError is bad input: one line, exit 2
    if not templates:
        raise InputError(f"no CloudFormation templates found in {', '.join(paths)}; does the app define any stacks?")
    return templates


def _scan(path: Path, template: dict[str, Any], text: str, *, explicit: bool, strict: bool,
          nested_read: frozenset[str]) -> TemplateReport:
    if explicit and "Resources" not in template:
        if MODEL_TABLE_KEYS & set(template):
            raise InputError(f"{path}: a model table, not a CloudFormation template; check it with `eulagate plan "
                             f"{path}`, or synthesize it (`cdk synth -c table={path}`) and run "
                             "`eulagate check cdk.out`")
        raise InputError(f"{path}: not a CloudFormation template (it has no Resources section)")
    scan = scan_template(template, template_path=str(path), strict=strict, nested_templates_read=nested_read)
    if scan.findings:
        lines = resource_lines(path, {finding.logical_id for finding in scan.findings}, text)
        findings = tuple(dataclasses.replace(f, line=lines.get(f.logical_id)) for f in scan.findings)
        scan = dataclasses.replace(scan, findings=findings)
    return template_report(scan, template)
