"""JUnit XML: a test suite per template, a test case per resource the rules apply to; errors fail it.

A case names the model-table row that declared its resource (``file``/``line`` attributes) when the template
records one. Warnings, and warnings suppressed with their reasons, go to ``system-out``. Text that XML 1.0 cannot
carry (control characters from a template) is replaced, so the report always parses.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ElementTree
from collections import defaultdict

from constructs_lib.cli.reporters import Report, ReportedFinding

# Characters outside XML 1.0's Char production.
_NOT_XML = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


def _xml_text(text: str) -> str:
    return _NOT_XML.sub("\ufffd", text)


def _describe(reported: ReportedFinding) -> str:
    finding = reported.finding
    status = f"{finding.severity}, suppressed: {reported.suppression}" if reported.suppression else finding.severity
    return _xml_text(f"{reported.location}: {finding.rule_id} ({status}): {finding.message}\nFix: {finding.fix}")


def render(report: Report) -> str:
    root = ElementTree.Element("testsuites", name="eulagate check", tests="0", failures="0", errors="0")
    total_tests = total_failures = 0
    for template in report.templates:
        scan = template.scan
        by_resource: dict[str, list[ReportedFinding]] = defaultdict(list)
        for reported in (*template.findings, *template.suppressed):
            by_resource[reported.finding.logical_id].append(reported)
        failed = {logical_id for logical_id, found in by_resource.items()
                  if any(r.finding.severity == "error" for r in found)}  # errors are never suppressed
        failures = sum(logical_id in failed for logical_id, _ in scan.checked)
        suite = ElementTree.SubElement(root, "testsuite", name=_xml_text(scan.template), tests=str(len(scan.checked)),
                                       failures=str(failures), errors="0", skipped="0")
        for logical_id, resource_type in scan.checked:
            case = ElementTree.SubElement(suite, "testcase", classname=_xml_text(scan.template),
                                          name=_xml_text(f"{logical_id} ({resource_type})"))
            found = by_resource.get(logical_id, [])
            source = next((r.source for r in found if r.source), None)
            if source:
                case.set("file", _xml_text(source.file))
                case.set("line", str(source.line))
            errors = [r for r in found if r.finding.severity == "error"]
            if errors:
                failure = ElementTree.SubElement(case, "failure", type=errors[0].finding.rule_id,
                                                 message=_xml_text(errors[0].finding.message))
                failure.text = "\n\n".join(_describe(r) for r in errors)
            others = [r for r in found if r.finding.severity != "error"]
            if others:
                ElementTree.SubElement(case, "system-out").text = "\n\n".join(_describe(r) for r in others)
        total_tests += len(scan.checked)
        total_failures += failures
    root.set("tests", str(total_tests))
    root.set("failures", str(total_failures))
    ElementTree.indent(root)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ElementTree.tostring(root, encoding="unicode") + "\n"
